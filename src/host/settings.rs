//! Per-service and per-instance settings files: `KEY=VALUE` lines, read as data
//! exactly as the SysV script reads them, and the values they give a recipe's variables.

use std::{collections::BTreeMap, fs};

use super::scope::Place;

use crate::{
    recipe::{Recipe, Template},
    render::{Flavor, Layout, Target, values::defaults},
};

pub use crate::render::envfile::parse;

/// The files an instance's values come from, in order (later ones win).
pub fn files(recipe: &Recipe, target: Target, layout: &Layout, flavor: Flavor, instance: Option<&str>) -> Vec<String> {
    let settings = target.backend().settings(&recipe.name, layout, flavor);
    let mut files = vec![settings.service.clone()];
    if let Some(instance) = instance {
        files.push(settings.instance(instance));
    }
    files
}

/// Every variable's value for one instance of the services of `place`:
/// the built-ins, the recipe's defaults, then the settings files.
pub fn values(
    recipe: &Recipe,
    place: &Place,
    target: Target,
    flavor: Flavor,
    instance: Option<&str>,
) -> BTreeMap<String, String> {
    let layout = place.layout();
    let mut values = defaults(recipe, &layout, instance);
    for file in files(recipe, target, &layout, flavor, instance) {
        if let Ok(text) = fs::read_to_string(place.root.join(file.trim_start_matches('/'))) {
            for (key, value) in parse(&text) {
                if recipe.var(&key).is_some() {
                    values.insert(key, value);
                }
            }
        }
    }
    values
}

/// A command with every variable substituted; a `{name...}` argument is the
/// value's words (none for an empty value), split at blanks as data.
pub fn argv(command: &[Template], values: &BTreeMap<String, String>) -> Vec<String> {
    command
        .iter()
        .flat_map(|t| match t.words() {
            Some(var) => values.get(var).map(|v| v.split_whitespace().map(str::to_owned).collect()).unwrap_or_default(),
            None => vec![t.substitute(&|v| values.get(v).cloned())],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_setting_gives_its_words_and_none_when_empty() {
        let cmd: Vec<Template> =
            ["/usr/sbin/nginx", "-t", "{OPTS...}", "-c{conf}"].iter().map(|t| Template::parse(t).unwrap()).collect();
        let mut values = BTreeMap::from([("OPTS".to_owned(), String::new()), ("conf".to_owned(), "/a b".to_owned())]);
        assert_eq!(argv(&cmd, &values), ["/usr/sbin/nginx", "-t", "-c/a b"]);
        values.insert("OPTS".into(), " -g  'x;' ".into());
        assert_eq!(argv(&cmd, &values), ["/usr/sbin/nginx", "-t", "-g", "'x;'", "-c/a b"]);
    }
}
