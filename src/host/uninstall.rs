//! Uninstall: remove exactly what the manifest records, restore the files it
//! replaced, and remove the directories it created once they are empty.

use std::{fs, io, path::Path};

use super::manifest::{self, Manifest, hash, under};

#[derive(Debug, Default)]
pub struct Outcome {
    pub removed: Vec<String>,
    pub restored: Vec<String>,
    /// Files changed since initkit wrote them, left in place (without --force).
    pub kept: Vec<String>,
}

/// Removes the files of `instance` (or of everything when `None`) from `m`,
/// then saves the manifest, or deletes it when nothing is left.
pub fn uninstall(root: &Path, m: &mut Manifest, instance: Option<&str>, force: bool) -> io::Result<Outcome> {
    let mut outcome = Outcome::default();
    let belongs = |i: &Option<String>| instance.is_none() || i.as_deref() == instance;
    for link in m.links.iter().filter(|l| belongs(&l.instance)) {
        let path = under(root, &link.path);
        if fs::read_link(&path).is_ok_and(|t| t == Path::new(&link.target)) {
            fs::remove_file(&path)?;
            outcome.removed.push(link.path.clone());
        }
    }
    m.links.retain(|l| !belongs(&l.instance));
    let mut remaining = Vec::new();
    for f in std::mem::take(&mut m.files) {
        if !belongs(&f.instance) {
            remaining.push(f);
            continue;
        }
        let path = under(root, &f.path);
        match fs::read(&path) {
            Ok(bytes) if hash(&bytes) != f.hash && !force => {
                outcome.kept.push(f.path.clone());
                remaining.push(f);
                continue;
            }
            Ok(_) => {
                fs::remove_file(&path)?;
                outcome.removed.push(f.path.clone());
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if let Some(backup) = &f.backup {
            fs::rename(under(root, backup), &path)?;
            outcome.restored.push(f.path.clone());
        }
    }
    m.files = remaining;
    match instance {
        Some(i) => m.instances.retain(|x| x != i),
        None => m.instances.clear(),
    }
    if m.files.is_empty() && m.links.is_empty() {
        let path = manifest::path_of(root, &m.recipe)?;
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        // Deepest first; a directory something else now uses is not empty and stays.
        for dir in m.created_dirs.iter().rev() {
            let _ = fs::remove_dir(under(root, dir));
        }
        // initkit's own directories go too once nothing is installed (another recipe may have made them).
        for dir in [manifest::DIR, manifest::BACKUPS, "var/lib/initkit"] {
            let _ = fs::remove_dir(root.join(dir));
        }
    } else {
        manifest::save(root, m)?;
    }
    Ok(outcome)
}
