//! Finding the recipe a command line names: a catalogue name, `NAME@INSTANCE`, or a file.

use std::path::Path;

use super::{CliError, suggest};
use crate::{
    catalogue::{Catalogue, default_dirs},
    recipe::{Recipe, ServiceSpec, check_instance_name, parse_recipe},
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
    // A recipe file, with an instance after the last `@`: `./app.toml@a`.
    let (file, file_instance) = match spec.rsplit_once('@') {
        Some((path, instance)) if has_toml_extension(path) => (Some(path), Some(instance)),
        _ if has_toml_extension(spec) || (spec.contains('/') && !spec.contains('@')) => (Some(spec), None),
        _ => (None, None),
    };
    if let Some(file) = file {
        if let Some(i) = file_instance {
            check_instance_name(i).map_err(|e| CliError::msg(e.to_string()))?;
        }
        let path = Path::new(file);
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::msg(format!("cannot read recipe file {}: {e}", path.display())))?;
        return Ok((parse_recipe(path, &text)?, file_instance.map(str::to_owned), text));
    }
    let ServiceSpec { name, instance } = ServiceSpec::parse(spec).map_err(|e| CliError::msg(e.to_string()))?;
    let catalogue = catalogue()?;
    let Some(entry) = catalogue.get(&name) else {
        return Err(no_such_recipe(&name, &catalogue));
    };
    Ok((entry.parse()?, instance, entry.text.clone()))
}

fn has_toml_extension(path: &str) -> bool {
    Path::new(path).extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

/// "no recipe named X", with the closest name and the catalogue's list.
pub fn no_such_recipe(name: &str, catalogue: &Catalogue) -> CliError {
    CliError::msg(format!(
        "no recipe named `{name}`{}\n  = help: the catalogue has: {}; or give a path to a .toml file",
        suggest::hint(name, catalogue.names()),
        catalogue.names().join(", ")
    ))
}
