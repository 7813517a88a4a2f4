//! What a service leaves behind that uninstall does not remove by itself:
//! its state, log and runtime directories, initkit's console logs and its
//! known good configs, which `uninstall` names as kept and `uninstall
//! --purge` removes, except what a package owns.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

use super::{
    error::{HostError, Result},
    good,
    manifest::under,
    scope::Place,
};
use crate::{
    recipe::Recipe,
    render::{facts, values::defaults},
};

/// The directories and logs of `instance` (every instance in `instances`
/// with `None`) that exist under the place's root, as paths on the host.
pub fn find(place: &Place, recipe: &Recipe, instances: &[String], instance: Option<&str>) -> Vec<String> {
    let layout = place.layout();
    let scope: Vec<Option<&str>> = match instance {
        Some(i) => vec![Some(i)],
        None if instances.is_empty() => vec![None],
        None => instances.iter().map(|i| Some(i.as_str())).collect(),
    };
    let console = facts::log_dir(&layout, &recipe.name);
    let mut paths = Vec::new();
    for i in &scope {
        let values = defaults(recipe, &layout, *i);
        for var in ["state_dir", "logs_dir", "runtime_dir"] {
            if let Some(dir) = values.get(var) {
                paths.push(dir.clone());
            }
        }
        if instance.is_some() {
            paths.push(facts::console_log(&layout, &recipe.name, *i));
            paths.push(format!("{}/{}", good::service_path(place, &recipe.name), i.unwrap_or("_")));
        }
    }
    if instance.is_none() {
        paths.push(console);
        paths.push(good::service_path(place, &recipe.name));
    }
    // Instances share a directory whose template does not name the
    // instance: each path once, or a second sight of a package's directory
    // would be purged after the first was kept.
    let mut seen = BTreeSet::new();
    paths.retain(|p| seen.insert(p.clone()) && fs::symlink_metadata(place.at(p)).is_ok());
    paths
}

/// The package owning each of `paths` that a dpkg file list under the root
/// names exactly: a directory such as nginx's `/var/lib/nginx` is the
/// package's, and purging it would break the package's daemon for good.
/// Each list is read once, whatever the number of paths.
pub fn package_owners(root: &Path, paths: &[String]) -> BTreeMap<String, String> {
    let mut owners = BTreeMap::new();
    let Ok(lists) = fs::read_dir(under(root, "/var/lib/dpkg/info")) else { return owners };
    for entry in lists.flatten() {
        let name = entry.file_name();
        let Some(package) = name.to_str().and_then(|n| n.strip_suffix(".list")) else { continue };
        let Ok(text) = fs::read_to_string(entry.path()) else { continue };
        let package = package.split(':').next().unwrap_or(package);
        for line in text.lines() {
            if let Some(path) = paths.iter().find(|p| *p == line) {
                owners.entry(path.clone()).or_insert_with(|| package.to_string());
            }
        }
    }
    owners
}

/// Removes one of them (a link is removed, never followed). One already gone
/// is done: they are found before the stop, and systemd removes a unit's
/// `RuntimeDirectory=` when it stops.
pub fn purge(root: &Path, path: &str) -> Result<()> {
    let abs = under(root, path);
    let meta = match fs::symlink_metadata(&abs) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        other => other.map_err(HostError::io("reading", &abs))?,
    };
    let done = if meta.is_dir() { fs::remove_dir_all(&abs) } else { fs::remove_file(&abs) };
    done.map_err(HostError::io("removing", &abs))
}

/// After a user's service is gone: what its scripts made in the user's
/// directories goes too, so that its user finds them as before the install.
/// The records in the runtime directory (`$XDG_RUNTIME_DIR/initkit/NAME`: a
/// supervisor's exit records; the service's lock) always; with `purged`
/// (what --purge removed), the directories its scripts' `mkdir -p` made
/// above them (`~/.config/log/initkit`, `~/.config/log`), where empty, up to
/// the user's own directories; then, once those are empty, the directories
/// the install created. The system's records stay where they are (`/run`).
pub fn tidy_user(place: &Place, name: &str, purged: &[String], created_dirs: &[String]) {
    let Some(u) = &place.user else { return };
    let runtime = format!("{}/initkit", u.runtime);
    let _ = fs::remove_dir_all(place.at(&format!("{runtime}/{name}")));
    let _ = fs::remove_file(place.at(&format!("{runtime}/locks/{name}.lock")));
    for dir in [format!("{runtime}/locks"), runtime] {
        let _ = fs::remove_dir(place.at(&dir));
    }
    let bases = [u.config.as_str(), u.state.as_str(), u.home.as_str()];
    for path in purged {
        let mut dir = Path::new(path).parent();
        while let Some(d) = dir.filter(|d| {
            let d = d.to_string_lossy();
            bases.iter().any(|b| d.starts_with(&format!("{b}/")))
        }) {
            if fs::remove_dir(place.at(&d.to_string_lossy())).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    super::uninstall::remove_created(place, created_dirs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leftover_already_gone_is_purged_and_a_link_is_removed_not_followed() {
        let root = tempfile::tempdir().unwrap();
        purge(root.path(), "/run/gone").expect("nothing to remove is done");
        let kept = root.path().join("kept");
        fs::create_dir(&kept).unwrap();
        fs::write(kept.join("data"), "x").unwrap();
        fs::create_dir_all(root.path().join("run")).unwrap();
        std::os::unix::fs::symlink(&kept, root.path().join("run/link")).unwrap();
        purge(root.path(), "/run/link").unwrap();
        assert!(!root.path().join("run/link").exists());
        assert!(kept.join("data").exists(), "the link's target is not touched");
    }
}
