//! launchd property lists (`/Library/LaunchDaemons/*.plist`) read into a recipe.

use super::{Source, draft::Draft, ini::Problem, report::Report};

pub fn import(src: &Source) -> Result<(String, Draft, Report), Vec<Problem>> {
    Err(super::not_built(src, "launchd plists"))
}
