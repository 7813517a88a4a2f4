//! Uninstall: remove exactly what the manifest records, put back what it
//! replaced (with its owner, mode and time), and remove the directories it
//! created once they are empty. Every step can run again after an
//! interruption; a damaged manifest is uninstalled from what can be salvaged.

use std::{fs, io, path::Path};

use super::{
    driver::driver_of,
    error::{HostError, Result},
    fsops::{self, Existing},
    lock::Lock,
    manifest::{self, Manifest, hash, under},
    scope::Place,
};

#[derive(Debug, Default)]
pub struct Outcome {
    pub removed: Vec<String>,
    pub restored: Vec<String>,
    /// Files changed since initkit wrote them, left in place (without --force).
    pub kept: Vec<String>,
    /// What a recovery or salvage did first.
    pub notes: Vec<String>,
    /// The service's data and logs, left in place (without --purge).
    pub left: Vec<String>,
    /// Directories a package owns, left in place even with --purge: (path, package).
    pub packaged: Vec<(String, String)>,
}

fn remove(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(HostError::io("removing", path)(e)),
    }
}

/// Removes the files of `instance` (or of everything when `None`) from `m`,
/// then saves the manifest, or deletes it (and initkit's own state, when
/// nothing else is installed) when nothing is left.
pub fn uninstall(place: &Place, m: &mut Manifest, instance: Option<&str>, force: bool, lock: Lock) -> Result<Outcome> {
    let root = &place.root;
    let mut outcome = Outcome { notes: manifest::recover(root, m)?, ..Outcome::default() };
    // The last instance takes the files all instances share (the unit or script) with it.
    let last = instance.is_some() && m.instances.iter().all(|i| Some(i.as_str()) == instance);
    let belongs = |i: &Option<String>| instance.is_none() || last && i.is_none() || i.as_deref() == instance;
    let mut kept_links = Vec::new();
    for link in std::mem::take(&mut m.links) {
        if !belongs(&link.instance) {
            kept_links.push(link);
            continue;
        }
        let path = under(root, &link.path);
        if fs::read_link(&path).is_ok_and(|t| t == Path::new(&link.target)) {
            remove(&path)?;
            outcome.removed.push(link.path.clone());
        }
        if let Some(backup) = &link.backup {
            manifest::restore(root, &path, backup)?;
            outcome.restored.push(link.path.clone());
        }
    }
    m.links = kept_links;
    if place.live() {
        let drv = driver_of(m);
        let gone: Vec<Option<&str>> = match instance {
            Some(i) => vec![Some(i)],
            None if m.instances.is_empty() => vec![None],
            None => m.instances.iter().map(|i| Some(i.as_str())).collect(),
        };
        for i in gone {
            drv.release(&m.recipe, i);
        }
    }
    let mut remaining = Vec::new();
    for f in std::mem::take(&mut m.files) {
        if !belongs(&f.instance) {
            remaining.push(f);
            continue;
        }
        let path = under(root, &f.path);
        match fsops::existing(&path)? {
            Existing::File(bytes) if hash(&bytes) != f.hash && !force => {
                outcome.kept.push(f.path.clone());
                remaining.push(f);
                continue;
            }
            Existing::File(_) => {
                remove(&path)?;
                outcome.removed.push(f.path.clone());
            }
            Existing::Nothing => {}
            // Something else stands there now: it is not initkit's to remove.
            _ if !force => {
                outcome.kept.push(f.path.clone());
                remaining.push(f);
                continue;
            }
            _ => {}
        }
        if let Some(backup) = &f.backup {
            manifest::restore(root, &path, backup)?;
            outcome.restored.push(f.path.clone());
        }
    }
    m.files = remaining;
    match instance {
        Some(i) => m.instances.retain(|x| x != i),
        None => m.instances.clear(),
    }
    if m.files.is_empty() && m.links.is_empty() {
        remove(&manifest::path_of(place, &m.recipe)?)?;
        remove(&manifest::recipe_path(place, &m.recipe)?)?;
        finish(place, &m.created_dirs, lock);
    } else {
        manifest::save(place, m)?;
    }
    Ok(outcome)
}

/// After the last record is gone: initkit's own state (the lock, its
/// directories) goes too when nothing else is installed, then the
/// directories this service created, innermost first, where empty.
pub fn finish(place: &Place, created_dirs: &[String], lock: Lock) {
    let remove_created = || remove_created(place, created_dirs);
    remove_created();
    let nothing_left = fs::read_dir(place.at(&place.installed()))
        .map_or(true, |mut d| d.all(|e| e.is_ok_and(|e| !e.file_name().to_string_lossy().ends_with(".json"))));
    if nothing_left {
        let created = lock.created.clone();
        lock.remove();
        for dir in [place.installed(), place.backups(), place.state()] {
            let _ = fs::remove_dir(place.at(&dir));
        }
        for dir in created.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
        // Those above initkit's state (/var/lib, under a fresh root) are empty only now.
        remove_created();
    }
}

/// Removes the directories a service created, innermost first, where empty
/// (a directory something else now uses is not empty and stays).
pub fn remove_created(place: &Place, created_dirs: &[String]) {
    let mut dirs: Vec<&String> = created_dirs.iter().collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count()));
    for dir in dirs {
        let _ = fs::remove_dir(under(&place.root, dir));
    }
}

/// Uninstalls a service whose manifest is damaged, from what it still names:
/// each salvaged file whose content still has its recorded hash (or any, with
/// `force`) is removed, and the damaged manifest with it.
pub fn salvage(place: &Place, name: &str, force: bool, lock: Lock) -> Result<Outcome> {
    let root = &place.root;
    let mut outcome = Outcome::default();
    let found = manifest::salvage(place, name)?;
    outcome
        .notes
        .push(format!("the manifest of `{name}` is damaged; {} path(s) could still be read from it", found.len()));
    for (p, recorded) in found {
        if p.starts_with(&place.backups()) {
            continue;
        }
        let path = under(root, &p);
        match fsops::existing(&path)? {
            Existing::File(bytes) if force || recorded.as_deref() == Some(hash(&bytes).as_str()) => {
                remove(&path)?;
                outcome.removed.push(p);
            }
            Existing::Link(_) if force => {
                remove(&path)?;
                outcome.removed.push(p);
            }
            Existing::Nothing => {}
            _ => outcome.kept.push(p),
        }
    }
    let damaged = manifest::path_of(place, name)?;
    remove(&damaged)?;
    remove(&manifest::recipe_path(place, name)?)?;
    finish(place, &[], lock);
    Ok(outcome)
}
