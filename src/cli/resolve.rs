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

/// The recipe, the instance `spec` names, and the recipe's text. A file
/// that is not a recipe (a unit, an init script, a job, a service
/// directory...) is imported first, its fidelity report on stderr.
pub fn recipe_with_text(spec: &str) -> Result<(Recipe, Option<String>, String), CliError> {
    if let Some((file, instance)) = file_spec(spec) {
        if let Some(i) = instance {
            check_instance_name(i).map_err(|e| CliError::msg(e.to_string()))?;
        }
        let path = Path::new(file);
        if !has_toml_extension(file) {
            let (name, text) = super::import::import_for_use(path)?;
            let recipe = parse_recipe(Path::new(&format!("{name}.toml")), &text)?;
            return Ok((recipe, instance.map(str::to_owned), text));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::msg(format!("cannot read recipe file {}: {e}", path.display())))?;
        return Ok((parse_recipe(path, &text)?, instance.map(str::to_owned), text));
    }
    let ServiceSpec { name, instance } = ServiceSpec::parse(spec).map_err(|e| CliError::msg(e.to_string()))?;
    let catalogue = catalogue()?;
    let Some(entry) = catalogue.get(&name) else {
        return Err(no_such_recipe(&name, &catalogue));
    };
    Ok((entry.parse()?, instance, entry.text.clone()))
}

/// The instance `spec` names when it names the recipe `first` did (`NAME@B`
/// after `NAME@A`, `./app.toml@B` after `./app.toml@A`), so the recipe is
/// not read and parsed again for each instance; `None` when `spec` is to be
/// resolved on its own. A bad instance name is the error resolving would give.
pub fn same_recipe_instance(first: &str, spec: &str) -> Option<Result<Option<String>, CliError>> {
    match (file_spec(first), file_spec(spec)) {
        (None, None) => {
            let ServiceSpec { name, instance } = match ServiceSpec::parse(spec) {
                Ok(s) => s,
                Err(e) => return Some(Err(CliError::msg(e.to_string()))),
            };
            let ServiceSpec { name: first_name, .. } = ServiceSpec::parse(first).ok()?;
            (name == first_name).then_some(Ok(instance))
        }
        (Some((path, _)), Some((other, instance))) if path == other => Some(match instance {
            Some(i) => check_instance_name(i).map(|()| Some(i.to_owned())).map_err(|e| CliError::msg(e.to_string())),
            None => Ok(None),
        }),
        _ => None,
    }
}

/// A spec that names a file (a `/` before any `@`, or a `.toml` extension;
/// a catalogue name has neither), and the instance after its last `@`:
/// `./app.toml@a`. A path that exists is taken whole, so a template unit
/// `getty@.service` is not split.
fn file_spec(spec: &str) -> Option<(&str, Option<&str>)> {
    // What comes before any `@`: `redis@a/b` is a catalogue name with a bad instance.
    let head = spec.split('@').next().unwrap_or(spec);
    if !head.contains('/')
        && !has_toml_extension(head)
        && !has_toml_extension(spec.rsplit_once('@').map_or(spec, |(p, _)| p))
    {
        return None;
    }
    if Path::new(spec).exists() {
        return Some((spec, None));
    }
    match spec.rsplit_once('@') {
        Some((path, instance)) if has_toml_extension(path) || Path::new(path).exists() => Some((path, Some(instance))),
        _ => Some((spec, None)),
    }
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

#[cfg(test)]
mod tests {
    use super::same_recipe_instance;

    fn same(first: &str, spec: &str) -> Option<Result<Option<String>, String>> {
        same_recipe_instance(first, spec).map(|r| r.map_err(|e| e.to_string()))
    }

    #[test]
    fn an_instance_of_the_same_recipe_is_not_resolved_again() {
        assert_eq!(same("redis@a", "redis@b"), Some(Ok(Some("b".to_owned()))));
        assert_eq!(same("redis", "redis@b"), Some(Ok(Some("b".to_owned()))));
        assert_eq!(same("/no/such/app.toml@a", "/no/such/app.toml@b"), Some(Ok(Some("b".to_owned()))));
        // Another recipe, or a file against a name, is resolved on its own (and refused there).
        assert_eq!(same("redis@a", "memcached@b"), None);
        assert_eq!(same("/no/such/app.toml@a", "redis@b"), None);
        assert_eq!(same("/no/such/app.toml@a", "/no/such/other.toml@b"), None);
        // A bad instance is the error resolving gives.
        assert!(same("redis@a", "redis@a/b").is_some_and(|r| r.is_err()));
        assert!(same("/no/such/app.toml@a", "/no/such/app.toml@-x").is_some_and(|r| r.is_err()));
    }
}
