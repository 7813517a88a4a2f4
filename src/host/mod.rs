//! The host: the only stage that looks at or changes the machine.

pub mod detect;
pub mod drive;
pub mod enable;
pub mod install;
pub mod manifest;
pub mod settings;
pub mod uninstall;
