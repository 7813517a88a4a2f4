//! `initkit show`: a recipe's text and where it came from.

use super::{CliError, output::print, resolve};
use crate::catalogue::Source;

pub fn run(name: &str, json: bool) -> Result<(), CliError> {
    let catalogue = resolve::catalogue()?;
    let Some(entry) = catalogue.get(name) else {
        return Err(CliError::msg(format!(
            "no recipe named `{name}`\n  = help: the catalogue has: {}",
            catalogue.names().join(", ")
        )));
    };
    let recipe = entry.parse()?;
    let describe = |s: &Source| match s {
        Source::Embedded => "embedded in initkit".to_owned(),
        Source::File(p) => p.display().to_string(),
    };
    if json {
        let value = serde_json::json!({
            "name": recipe.name,
            "summary": recipe.summary,
            "source": describe(&entry.source),
            "overrides": entry.overrides.iter().map(describe).collect::<Vec<_>>(),
            "instances": recipe.instances.is_some(),
            "vars": recipe.vars.iter().map(|v| (v.name.clone(), v.default.to_string())).collect::<std::collections::BTreeMap<_, _>>(),
            "text": entry.text,
        });
        return print(&(serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"));
    }
    let mut text = format!("# recipe {name}: from {}\n", describe(&entry.source));
    for o in &entry.overrides {
        text.push_str(&format!("# (overrides {})\n", describe(o)));
    }
    text.push_str(&entry.text);
    print(&text)
}
