//! The host: the only stage that looks at the machine.

pub mod detect;
