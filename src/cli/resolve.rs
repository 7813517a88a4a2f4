//! Finding the recipe a command line names: a catalogue name, `NAME@INSTANCE`, or a file.

use std::path::Path;

use super::CliError;
use crate::{
    catalogue::{Catalogue, default_dirs},
    recipe::{Recipe, ServiceSpec, parse_recipe},
};

pub fn catalogue() -> Result<Catalogue, CliError> {
    let catalogue = Catalogue::load(&default_dirs())?;
    for w in &catalogue.warnings {
        eprintln!("warning: {w}");
    }
    Ok(catalogue)
}

/// The recipe and the instance `spec` names.
pub fn recipe(spec: &str) -> Result<(Recipe, Option<String>), CliError> {
    recipe_with_text(spec).map(|(r, i, _)| (r, i))
}

/// The recipe, the instance `spec` names, and the recipe's text.
pub fn recipe_with_text(spec: &str) -> Result<(Recipe, Option<String>, String), CliError> {
    let is_file = Path::new(spec).extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if is_file || (spec.contains('/') && !spec.contains('@')) {
        let path = Path::new(spec);
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::msg(format!("cannot read recipe file {}: {e}", path.display())))?;
        return Ok((parse_recipe(path, &text)?, None, text));
    }
    let ServiceSpec { name, instance } = ServiceSpec::parse(spec).map_err(|e| CliError::msg(e.to_string()))?;
    let catalogue = catalogue()?;
    let Some(entry) = catalogue.get(&name) else {
        return Err(CliError::msg(format!(
            "no recipe named `{name}`\n  = help: the catalogue has: {}; or give a path to a .toml file",
            catalogue.names().join(", ")
        )));
    };
    Ok((entry.parse()?, instance, entry.text.clone()))
}
