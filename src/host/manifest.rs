//! The record of what initkit installed, under `/var/lib/initkit/installed`
//! (a user's under `~/.local/state/initkit/installed`: see [`Place`]),
//! so uninstall removes exactly those files and restores what they replaced.
//!
//! `NAME.json` (0644) lists paths, hashes, links, backups and directories:
//! nothing secret. The recipe as installed, which may carry environment
//! values, is kept beside it in `NAME.toml`, readable by root only.
//!
//! A change is recorded twice: its intent (`pending`) before the first write,
//! its result after the last. A manifest found with an intent left over (a
//! crash, a full disk) is brought back to what is on disk by [`recover`].

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use super::{
    error::{HostError, Result},
    fsops::{self, Attrs, Existing},
    scope::Place,
};
use crate::{
    recipe::check_recipe_name,
    render::{Flavor, Target},
};

/// What stood at a path before initkit replaced it, and how to put it back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Saved {
    /// A regular file, copied to `copy` (a host path).
    File { copy: String },
    /// A symlink, which is put back pointing where it pointed.
    Link { target: String },
    /// A directory, moved to `moved_to` (a host path) and moved back.
    Dir { moved_to: String },
    /// A copy from a manifest older than 0.2, put back by renaming it.
    Legacy { copy: String },
}

/// A backup with the owner, mode and time of what it saved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Backup {
    pub saved: Saved,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
}

impl Backup {
    pub fn new(saved: Saved, attrs: Attrs) -> Backup {
        Backup { saved, uid: attrs.uid, gid: attrs.gid, mode: attrs.mode, mtime_ns: attrs.mtime_ns }
    }

    fn attrs(&self) -> Attrs {
        Attrs { uid: self.uid, gid: self.gid, mode: self.mode, mtime_ns: self.mtime_ns }
    }

    /// The host path the backup's bytes are kept at, if any.
    pub fn stored_at(&self) -> Option<&str> {
        match &self.saved {
            Saved::File { copy } | Saved::Dir { moved_to: copy } | Saved::Legacy { copy } => Some(copy),
            Saved::Link { .. } => None,
        }
    }
}

/// Reads a backup written by any version: manifests older than 0.2 held the
/// path of a plain copy.
fn any_backup<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Backup>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Any {
        Legacy(String),
        Backup(Backup),
    }
    Ok(Option::<Any>::deserialize(d)?.map(|a| match a {
        Any::Legacy(copy) => Backup { saved: Saved::Legacy { copy }, uid: 0, gid: 0, mode: 0o644, mtime_ns: 0 },
        Any::Backup(b) => b,
    }))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileRecord {
    /// Absolute path on the host (inside `--root`).
    pub path: String,
    /// FNV-1a of the content initkit wrote, to notice later edits.
    pub hash: String,
    /// What it replaced, to restore on uninstall.
    #[serde(deserialize_with = "any_backup")]
    pub backup: Option<Backup>,
    /// The instance a settings file or enable link belongs to.
    pub instance: Option<String>,
    /// File mode initkit gave it (absent in old manifests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LinkRecord {
    pub path: String,
    pub target: String,
    pub instance: Option<String>,
    /// What stood at the link's path before (with --force).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "any_backup")]
    pub backup: Option<Backup>,
}

/// A change in progress, recorded before its first write.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Pending {
    pub files: Vec<FileRecord>,
    pub links: Vec<LinkRecord>,
    /// Directories the change may create.
    pub dirs: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub recipe: String,
    pub target: Target,
    pub flavor: Flavor,
    pub instances: Vec<String>,
    pub files: Vec<FileRecord>,
    pub links: Vec<LinkRecord>,
    /// Directories initkit created, outermost first; removed on uninstall when empty.
    pub created_dirs: Vec<String>,
    /// `update-rc.d` or `chkconfig` registered the script (on a live host).
    pub registered_with: Option<String>,
    /// Manifests from before 0.2 carried the recipe here; it is in `NAME.toml` now.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recipe_text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    /// Accounts `--create-user` made (`user NAME`, `group NAME`): an
    /// uninstall with --purge removes them, and no other.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created_accounts: Vec<String>,
    /// The user whose service this is (`install --user`); none for the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl Manifest {
    pub fn new(recipe: &str, target: Target, flavor: Flavor) -> Manifest {
        Manifest {
            recipe: recipe.to_owned(),
            target,
            flavor,
            instances: Vec::new(),
            files: Vec::new(),
            links: Vec::new(),
            created_dirs: Vec::new(),
            registered_with: None,
            recipe_text: String::new(),
            pending: None,
            created_accounts: Vec::new(),
            user: None,
        }
    }

    /// Records a directory initkit created (a host path), once.
    pub fn created(&mut self, dir: String) {
        if !self.created_dirs.contains(&dir) {
            self.created_dirs.push(dir);
        }
    }
}

/// FNV-1a, 64 bits: enough to notice that a file changed, not a security hash.
pub fn hash(content: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in content {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A host path (absolute) under `root`, its directories' symlinks resolved
/// inside `root` as a chroot would (Debian's /etc/service is one); the last
/// component is not followed, so a link initkit makes is the link itself.
pub fn under(root: &Path, path: &str) -> PathBuf {
    let mut parts: Vec<String> = path.split('/').filter(|c| !c.is_empty()).map(str::to_owned).collect();
    let Some(name) = parts.pop() else { return root.to_path_buf() };
    let mut resolved: Vec<String> = Vec::new();
    let mut pending: Vec<String> = parts.into_iter().rev().collect();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        match part.as_str() {
            "." => continue,
            ".." => {
                resolved.pop();
                continue;
            }
            _ => {}
        }
        let here: PathBuf = resolved.iter().fold(root.to_path_buf(), |p, c| p.join(c)).join(&part);
        match fs::read_link(&here) {
            Ok(target) if hops < 32 => {
                hops += 1;
                let target = target.to_string_lossy().into_owned();
                if target.starts_with('/') {
                    resolved.clear();
                }
                pending.extend(target.split('/').filter(|c| !c.is_empty()).rev().map(str::to_owned));
            }
            _ => resolved.push(part),
        }
    }
    resolved.iter().fold(root.to_path_buf(), |p, c| p.join(c)).join(name)
}

/// The host path of `abs` (a path under `root`), for the manifest.
pub fn host_path(root: &Path, abs: &Path) -> String {
    abs.strip_prefix(root).map_or_else(|_| abs.display().to_string(), |r| format!("/{}", r.display()))
}

/// The manifest of `recipe`. The name is checked again here, whoever parsed it:
/// a name that is not a recipe name (`../x`) never becomes a path.
pub fn path_of(place: &Place, recipe: &str) -> Result<PathBuf> {
    check_recipe_name(recipe).map_err(|e| HostError::Refused(e.to_string()))?;
    Ok(place.at(&place.installed()).join(format!("{recipe}.json")))
}

/// Where the installed recipe's text is kept (root only).
pub fn recipe_path(place: &Place, recipe: &str) -> Result<PathBuf> {
    Ok(path_of(place, recipe)?.with_extension("toml"))
}

/// Reads a manifest; a missing one is `None`, a damaged one an error naming
/// the file and the way out.
pub fn load(place: &Place, recipe: &str) -> Result<Option<Manifest>> {
    let path = path_of(place, recipe)?;
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(HostError::io("reading", &path)(e)),
    };
    let damaged = |reason: String| HostError::DamagedManifest { name: recipe.to_owned(), path: path.clone(), reason };
    let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| damaged(e.to_string()))?;
    if m.recipe != recipe {
        return Err(damaged(format!("it is the record of `{}`", m.recipe)));
    }
    Ok(Some(m))
}

/// The installed recipe's text: `NAME.toml`, or an old manifest's copy.
pub fn recipe_text(place: &Place, m: &Manifest) -> Result<String> {
    let path = recipe_path(place, &m.recipe)?;
    match fs::read_to_string(&path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound && !m.recipe_text.is_empty() => Ok(m.recipe_text.clone()),
        Err(e) => Err(HostError::io("reading the installed recipe", &path)(e)),
    }
}

/// Every manifest under `root`, and the problems of those that could not be read.
pub fn load_all(place: &Place) -> Result<(Vec<Manifest>, Vec<HostError>)> {
    let dir = place.at(&place.installed());
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(HostError::io("reading", &dir)(e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(std::result::Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).map(str::to_owned))
        .filter(|n| check_recipe_name(n).is_ok())
        .collect();
    names.sort();
    let mut all = Vec::new();
    let mut problems = Vec::new();
    for name in names {
        match load(place, &name) {
            Ok(Some(m)) => all.push(m),
            Ok(None) => {}
            Err(e) => problems.push(e),
        }
    }
    Ok((all, problems))
}

/// Writes the manifest (0644: it holds nothing secret).
pub fn save(place: &Place, manifest: &Manifest) -> Result<()> {
    let path = path_of(place, &manifest.recipe)?;
    // Links in path order: the same links make the same record, however they
    // were made (one install, or a disable and an enable).
    let mut sorted = manifest.clone();
    sorted.links.sort_by(|a, b| a.path.cmp(&b.path));
    let mut text = serde_json::to_string_pretty(&sorted).map_err(|e| HostError::Refused(e.to_string()))?;
    text.push('\n');
    fsops::write_atomic(&path, text.as_bytes(), 0o644, None)
}

/// Writes the installed recipe's text, readable by root only.
pub fn save_recipe(place: &Place, recipe: &str, text: &str) -> Result<()> {
    fsops::write_atomic(&recipe_path(place, recipe)?, text.as_bytes(), 0o600, None)
}

/// Moves a damaged manifest aside (`NAME.json.damaged`) so a new one can be
/// written; returns where it went.
pub fn set_aside(place: &Place, recipe: &str) -> Result<PathBuf> {
    let path = path_of(place, recipe)?;
    let aside = path.with_extension("json.damaged");
    fs::rename(&path, &aside).map_err(HostError::io("moving aside", &path))?;
    Ok(aside)
}

/// What can still be read from a damaged manifest: every `"path"` with its
/// `"hash"`, and every backup's location, from the text as far as it goes.
pub fn salvage(place: &Place, recipe: &str) -> Result<Vec<(String, Option<String>)>> {
    let path = path_of(place, recipe)?;
    let text = fs::read_to_string(&path).map_err(HostError::io("reading", &path))?;
    let strings = |key: &str| -> Vec<(usize, String)> {
        let needle = format!("\"{key}\":");
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(at) = text[from..].find(&needle) {
            let start = from + at + needle.len();
            let rest = text[start..].trim_start();
            if let Some(body) = rest.strip_prefix('"')
                && let Some(end) = body.find('"')
            {
                out.push((start, body[..end].to_owned()));
            }
            from = start;
        }
        out
    };
    let hashes = strings("hash");
    let mut found = Vec::new();
    for (at, p) in strings("path") {
        // The hash that follows a path in the same record, if the text got that far.
        let hash = hashes.iter().find(|(h, _)| *h > at).map(|(_, h)| h.clone());
        if p.starts_with('/') {
            found.push((p, hash));
        }
    }
    Ok(found)
}

/// Puts back what a backup saved at `path` (under `root`); a backup already
/// put back is not an error, so an interrupted uninstall can run again.
pub fn restore(root: &Path, path: &Path, backup: &Backup) -> Result<()> {
    let attrs = backup.attrs();
    match &backup.saved {
        Saved::Legacy { copy } => {
            let copy = under(root, copy);
            if copy.exists() {
                fs::rename(&copy, path).map_err(HostError::io("restoring", path))?;
            }
        }
        Saved::File { copy } => {
            let copy = under(root, copy);
            let bytes = match fs::read(&copy) {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(HostError::io("reading the backup", &copy)(e)),
            };
            fsops::write_atomic(path, &bytes, attrs.mode, Some(attrs))?;
            fs::remove_file(&copy).map_err(HostError::io("removing the backup", &copy))?;
        }
        Saved::Link { target } => {
            fsops::symlink_atomic(Path::new(target), path, Some((attrs.uid, attrs.gid)))?;
        }
        Saved::Dir { moved_to } => {
            let from = under(root, moved_to);
            if from.exists() && fsops::existing(path)? == Existing::Nothing {
                fs::rename(&from, path).map_err(HostError::io("restoring", path))?;
            }
        }
    }
    Ok(())
}

/// Brings a manifest with a change left in progress back to what is on disk:
/// every planned file found written is adopted, every backup of a file that
/// was not replaced is dropped (the original is still in place), a moved
/// directory whose replacement never came is moved back, leftover temporaries
/// are removed. Returns what it did, for the report.
pub fn recover(root: &Path, m: &mut Manifest) -> Result<Vec<String>> {
    let Some(pending) = m.pending.take() else { return Ok(Vec::new()) };
    let mut notes = Vec::new();
    for rec in pending.files {
        let path = under(root, &rec.path);
        let _ = fs::remove_file(fsops::temporary(&path));
        let written = matches!(fsops::existing(&path)?, Existing::File(ref b) if hash(b) == rec.hash);
        if written {
            notes.push(format!("recorded {} (written before the interruption)", rec.path));
            m.files.retain(|f| f.path != rec.path);
            m.files.push(rec);
            continue;
        }
        match &rec.backup {
            Some(b @ Backup { saved: Saved::Dir { .. }, .. }) => restore(root, &path, b)?,
            Some(b) if m.files.iter().all(|f| f.path != rec.path) => {
                if let Some(copy) = b.stored_at() {
                    let _ = fs::remove_file(under(root, copy));
                }
            }
            _ => {}
        }
    }
    for link in pending.links {
        let path = under(root, &link.path);
        let _ = fs::remove_file(fsops::temporary(&path));
        if fs::read_link(&path).is_ok_and(|t| t == Path::new(&link.target))
            && !m.links.iter().any(|l| l.path == link.path)
        {
            m.links.push(link);
        }
    }
    for dir in pending.dirs {
        if under(root, &dir).is_dir() {
            m.created(dir);
        }
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::{hash, under};

    #[test]
    fn links_in_directories_resolve_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("etc/runit/runsvdir/default")).unwrap();
        std::os::unix::fs::symlink("default", r.join("etc/runit/runsvdir/current")).unwrap();
        std::os::unix::fs::symlink("/etc/runit/runsvdir/current", r.join("etc/service")).unwrap();
        assert_eq!(under(r, "/etc/service/redis@a"), r.join("etc/runit/runsvdir/default/redis@a"));
        assert_eq!(under(r, "/etc/sv/../service/x"), r.join("etc/runit/runsvdir/default/x"));
        assert_eq!(under(r, "/etc/x"), r.join("etc/x"));
    }

    #[test]
    fn fnv_known_values() {
        assert_eq!(hash(b""), "cbf29ce484222325");
        assert_eq!(hash(b"a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn old_manifests_still_read() {
        let old = r#"{"recipe":"x","target":"sysv","flavor":"debian","instances":[],"files":[{"path":"/etc/init.d/x","hash":"1","backup":"/var/lib/initkit/backups/etc/init.d/x.1","instance":null}],"links":[],"created_dirs":[],"registered_with":null,"recipe_text":"name = \"x\""}"#;
        let m: super::Manifest = serde_json::from_str(old).unwrap();
        let backup = m.files[0].backup.clone().unwrap();
        assert_eq!(backup.saved, super::Saved::Legacy { copy: "/var/lib/initkit/backups/etc/init.d/x.1".into() });
        assert_eq!(m.recipe_text, "name = \"x\"");
    }
}
