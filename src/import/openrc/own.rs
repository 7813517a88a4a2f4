//! A script initkit rendered for OpenRC, read back exactly: its constants
//! and the functions written for its recipe.

use crate::import::{Source, draft::Draft, ini::Problem, report::Report};

pub fn is_own(text: &str) -> bool {
    text.lines().take(6).any(|l| l.starts_with("# Rendered by initkit from the recipe "))
}

pub fn import(src: &Source) -> Result<(String, Draft, Report), Vec<Problem>> {
    Err(crate::import::not_built(src, "initkit's own OpenRC scripts"))
}
