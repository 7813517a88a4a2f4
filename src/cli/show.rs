//! `initkit show`: a recipe's text and where it came from; with an instance,
//! that instance's values (defaults, then the host's settings files).

use std::{collections::BTreeMap, path::Path};

use super::{CliError, output::print, resolve};
use crate::{
    catalogue::Source,
    host::{manifest, scope::Place, settings},
    recipe::ServiceSpec,
    render::{Flavor, Target},
};

pub fn run(spec: &str, json: bool) -> Result<(), CliError> {
    let ServiceSpec { name, instance } = ServiceSpec::parse(spec).map_err(|e| CliError::msg(e.to_string()))?;
    let catalogue = resolve::catalogue()?;
    let Some(entry) = catalogue.get(&name) else {
        return Err(resolve::no_such_recipe(&name, &catalogue));
    };
    let recipe = entry.parse()?;
    if let Some(i) = &instance
        && recipe.instances.is_none()
    {
        return Err(CliError::msg(format!("recipe `{name}` has no [instances], so `{name}@{i}` does not exist")));
    }
    let describe = |s: &Source| match s {
        Source::Embedded => "embedded in initkit".to_owned(),
        Source::File(p) => p.display().to_string(),
    };
    // An instance's values: where it is installed, from that target's settings files.
    let host = Place::system(Path::new("/"));
    let installed = manifest::load(&host, &name).ok().flatten();
    let (target, flavor) = installed.as_ref().map_or((Target::Sysv, Flavor::default()), |m| (m.target, m.flavor));
    let values: Option<BTreeMap<String, String>> = instance.as_deref().map(|i| {
        settings::values(&recipe, &host, target, flavor, Some(i))
            .into_iter()
            .filter(|(k, _)| recipe.var(k).is_some())
            .collect()
    });
    if json {
        let value = serde_json::json!({
            "name": recipe.name,
            "instance": instance,
            "summary": recipe.summary,
            "source": describe(&entry.source),
            "overrides": entry.overrides.iter().map(describe).collect::<Vec<_>>(),
            "instances": recipe.instances.is_some(),
            "vars": recipe.vars.iter().map(|v| (v.name.clone(), v.default.to_string())).collect::<BTreeMap<_, _>>(),
            "values": values,
            "text": entry.text,
        });
        return print(&(serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"));
    }
    let mut text = format!("# recipe {name}: from {}\n", describe(&entry.source));
    for o in &entry.overrides {
        text.push_str(&format!("# (overrides {})\n", describe(o)));
    }
    if let (Some(i), Some(values)) = (&instance, &values) {
        let files = settings::files(&recipe, target, &host.layout(), flavor, Some(i));
        text.push_str(&format!("# {name}@{i}: its values, from the defaults and {}\n", files.join(", ")));
        for (k, v) in values {
            text.push_str(&format!("#   {k} = {v}\n"));
        }
    }
    text.push_str(&entry.text);
    print(&text)
}
