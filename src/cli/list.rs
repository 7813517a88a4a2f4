//! `initkit list`: the catalogue, one recipe a line.

use super::{CliError, output::print, resolve};
use crate::{
    catalogue::Source,
    host::{driver::driver_of, manifest::Manifest, scope::Place},
};

/// `initkit list --installed`: what the manifests of `place` record.
pub fn run_installed(place: &Place, json: bool) -> Result<(), CliError> {
    let root = &place.root;
    let (all, damaged) = crate::host::manifest::load_all(place)?;
    if json {
        let list: Vec<_> = all
            .iter()
            .map(|m| {
                serde_json::json!({
                    "name": m.recipe, "target": m.target, "flavor": m.flavor, "instances": m.instances,
                    "enabled": enabled(root, m),
                    "files": m.files.iter().map(|f| f.path.clone()).collect::<Vec<_>>(),
                    "links": m.links.iter().map(|l| l.path.clone()).collect::<Vec<_>>(),
                })
            })
            .collect();
        print(&(serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"))?;
        return damaged_records(&damaged);
    }
    let mut text = String::new();
    for m in &all {
        let instances =
            if m.instances.is_empty() { String::new() } else { format!("  instances: {}", m.instances.join(", ")) };
        let on = enabled(root, m);
        let enabled = match (m.instances.is_empty() || driver_of(m).enables_once(), on.is_empty()) {
            (_, true) => "  not enabled".to_owned(),
            (true, false) => "  enabled".to_owned(),
            (false, false) => format!("  enabled: {}", on.join(", ")),
        };
        text.push_str(&format!(
            "{}  ({} {}, {} files, {} links){instances}{enabled}\n",
            m.recipe,
            m.target.name(),
            m.flavor.name(),
            m.files.len(),
            m.links.len()
        ));
    }
    if all.is_empty() && damaged.is_empty() {
        text.push_str("nothing is installed\n");
    }
    print(&text)?;
    damaged_records(&damaged)
}

/// What starts at boot: the enabled instances, or `[NAME]` for a service
/// enabled as a whole (empty when nothing is).
fn enabled(root: &std::path::Path, m: &Manifest) -> Vec<String> {
    let drv = driver_of(m);
    if m.instances.is_empty() || drv.enables_once() {
        return if drv.enabled(root, m, None) { vec![m.recipe.clone()] } else { Vec::new() };
    }
    m.instances.iter().filter(|i| drv.enabled(root, m, Some(i))).cloned().collect()
}

/// Records that could not be read are reported after the others, and make the exit code 1.
fn damaged_records(damaged: &[crate::host::error::HostError]) -> Result<(), CliError> {
    if damaged.is_empty() {
        return Ok(());
    }
    let text = damaged.iter().fold(String::new(), |mut acc, e| {
        acc.push_str(&format!("error: {e}\n"));
        acc
    });
    Err(CliError::Message(text))
}

/// Where the embedded recipe ran in the end-to-end suites; nothing for a
/// local file, which is not the text that ran.
fn ran_on(entry: &crate::catalogue::Entry, recipe: &crate::recipe::Recipe) -> &'static [&'static str] {
    match entry.source {
        Source::Embedded => crate::catalogue::proven_on(&recipe.name),
        Source::File(_) => &[],
    }
}

pub fn run(json: bool) -> Result<(), CliError> {
    let catalogue = resolve::catalogue()?;
    let mut rows = Vec::new();
    let mut broken = Vec::new();
    for entry in &catalogue.entries {
        match entry.parse() {
            Ok(recipe) => rows.push((entry, recipe)),
            Err(e) => broken.push(e),
        }
    }
    if json {
        let list: Vec<_> = rows
            .iter()
            .map(|(entry, recipe)| {
                serde_json::json!({
                    "name": recipe.name,
                    "summary": recipe.summary,
                    "instances": recipe.instances.is_some(),
                    "gate": crate::recipe::Check::describe(recipe.check.as_ref()),
                    "ran_on": ran_on(entry, recipe),
                    "source": match &entry.source { Source::Embedded => "embedded".to_owned(), Source::File(p) => p.display().to_string() },
                })
            })
            .collect();
        print(&(serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"))?;
    } else {
        let width =
            rows.iter().map(|(_, r)| r.name.len() + if r.instances.is_some() { 2 } else { 0 }).max().unwrap_or(0);
        let mut text = String::new();
        for (entry, recipe) in &rows {
            let name = if recipe.instances.is_some() { format!("{}@…", recipe.name) } else { recipe.name.clone() };
            let from = match &entry.source {
                Source::Embedded => String::new(),
                Source::File(p) => format!("  ({})", p.display()),
            };
            let gate = crate::recipe::Check::describe(recipe.check.as_ref());
            let on = ran_on(entry, recipe);
            let on = if on.is_empty() { String::new() } else { format!("; ran on {}", on.join(", ")) };
            let on = format!("  [gate: {gate}{on}]");
            text.push_str(&format!("{name:width$}  {}{from}{on}\n", recipe.summary, width = width + 1));
        }
        print(&text)?;
    }
    for e in &broken {
        eprint!("warning: skipping a recipe that does not validate:\n{e}");
    }
    Ok(())
}
