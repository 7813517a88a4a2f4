//! `initkit render`: a recipe's artifacts, to stdout or under a directory.

use std::{fs, path::Path};

use super::{CliError, output::print, resolve};
use crate::{
    host::{detect::detect_host, fsops::write_atomic, scope::calling_user},
    render::{Flavor, Layout, Options, Target, features, render},
};

pub fn run(
    spec: &str,
    target: Option<Target>,
    flavor: Option<Flavor>,
    out: Option<&Path>,
    prefix: String,
    user: bool,
) -> Result<(), CliError> {
    let (recipe, instance) = resolve::recipe(spec)?;
    let detection = (target.is_none() || flavor.is_none()).then(detect_host);
    let target = match (target, &detection) {
        (Some(t), _) => t,
        (None, Some(d)) if d.init.is_some() => d.init.unwrap_or(Target::Systemd),
        (None, _) => {
            return Err(CliError::msg(format!(
                "this host runs no init system initkit knows (`initkit detect --explain` says why); give --target with one of: {}",
                Target::ALL.map(Target::name).join(", ")
            )));
        }
    };
    let flavor = flavor.or_else(|| detection.as_ref().and_then(|d| d.family)).unwrap_or_default();
    // A user's artifacts are for the calling user's directories.
    let user = if user { Some(calling_user()?) } else { None };
    let options = Options { flavor, layout: Layout { root: prefix, user }, instance };
    let artifacts = render(&recipe, target, &options)?;
    for note in features::notes(&recipe, target) {
        eprintln!("note: {}: {note}", target.name());
    }
    emit(&artifacts, out)
}

/// Artifacts to stdout, or written under `out` at their host paths (all
/// checked before any is written).
pub fn emit(artifacts: &[crate::render::Artifact], out: Option<&Path>) -> Result<(), CliError> {
    let Some(out) = out else {
        let mut text = String::new();
        for artifact in artifacts {
            if artifacts.len() > 1 {
                text.push_str(&format!("# ==> {} <==\n", artifact.path));
            }
            text.push_str(&artifact.content);
            if artifacts.len() > 1 {
                text.push('\n');
            }
        }
        return print(&text);
    };
    // Check everything before writing anything.
    for artifact in artifacts {
        let dest = out.join(artifact.path.trim_start_matches('/'));
        if dest.is_dir() {
            return Err(CliError::msg(format!("{} is a directory; nothing was written", dest.display())));
        }
    }
    for artifact in artifacts {
        let dest = out.join(artifact.path.trim_start_matches('/'));
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        write_atomic(&dest, artifact.content.as_bytes(), artifact.mode, None)?;
        print(&format!("wrote {}\n", dest.display()))?;
    }
    Ok(())
}
