//! The per-instance settings file: `KEY=VALUE` lines read as data by the scripts and by systemd.

use super::{Artifact, envfile, facts::Settings};
use crate::recipe::Recipe;

/// `/etc/default/NAME.d/INSTANCE` (or `/etc/sysconfig/...`), listing every
/// variable with its default commented out, so a person sees what can be set.
pub fn render(recipe: &Recipe, settings: &Settings, instance: &str) -> Artifact {
    let mut content = format!(
        "# Settings of {name}@{instance}, one KEY=VALUE a line, read as plain data (never run by a shell).\n\
         # Uncomment a line to change it for this instance only.\n",
        name = recipe.name
    );
    for var in &recipe.vars {
        let value = var.default.substitute(&|v| match v {
            "name" => Some(recipe.name.clone()),
            "instance" => Some(instance.to_owned()),
            "instance_path" => Some(crate::recipe::instance_path(instance)),
            _ => None,
        });
        content.push('#');
        content.push_str(&envfile::line(&var.name, &value));
    }
    Artifact::new(settings.instance(instance), 0o600, content)
}
