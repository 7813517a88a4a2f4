//! The host: the only stage that looks at or changes the machine.

pub mod detect;
pub mod drive;
pub mod enable;
pub mod error;
pub mod fsops;
pub mod install;
pub mod lock;
pub mod manifest;
pub mod settings;
pub mod uninstall;
