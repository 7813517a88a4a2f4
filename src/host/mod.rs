//! The host: the only stage that looks at or changes the machine.

pub mod action;
pub mod config_test;
pub mod detect;
pub mod driver;
pub mod drivers;
pub mod enable;
pub mod error;
pub mod fsops;
pub mod good;
pub mod handover;
pub mod install;
pub mod leftovers;
pub mod lock;
pub mod log_time;
pub mod logs;
pub mod manifest;
pub mod preconditions;
pub mod program;
pub mod run;
pub mod scope;
pub mod sets;
pub mod settings;
pub mod trial;
pub mod uninstall;
pub mod verify;
