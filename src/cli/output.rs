//! Errors the command line reports, and writing to stdout that tolerates a closed pipe.

use std::io::{self, Write};

use crate::{catalogue::CatalogueError, host::error::HostError, recipe::RecipeErrors, render::RenderError};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Recipe(#[from] RecipeErrors),
    #[error("error: {0}")]
    Catalogue(#[from] CatalogueError),
    #[error("error: {0}")]
    Render(#[from] RenderError),
    /// A message already worded for a person (`error: ...` and what to do).
    #[error("{0}")]
    Message(String),
    #[error("error: {0}")]
    Io(#[from] io::Error),
    #[error("error: {0}")]
    Host(#[from] HostError),
    #[error("")]
    BrokenPipe,
    /// A specific exit code (LSB codes from the front-end) with an optional message.
    #[error("{1}")]
    Exit(i32, String),
}

impl CliError {
    pub fn exit(code: i32, text: impl Into<String>) -> Self {
        CliError::Exit(code, text.into())
    }

    pub fn msg(text: impl Into<String>) -> Self {
        CliError::Message(format!("error: {}", text.into()))
    }
}

/// Writes to stdout; a closed pipe (`initkit list | head -1`) ends quietly.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(CliError::BrokenPipe),
        other => other.map_err(CliError::Io),
    }
}
