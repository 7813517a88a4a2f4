//! initkit: service recipes rendered into native, standalone init artifacts.

pub mod catalogue;
pub mod cli;
pub mod host;
pub mod import;
pub mod recipe;
pub mod render;
