//! The way back: reading existing init definitions into initkit's terms.

pub mod upstart;
