//! The record of what initkit installed, under `/var/lib/initkit/installed`,
//! so uninstall removes exactly those files and restores what they replaced.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use crate::{
    recipe::check_recipe_name,
    render::{Flavor, Target},
};

pub const DIR: &str = "var/lib/initkit/installed";
pub const BACKUPS: &str = "var/lib/initkit/backups";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileRecord {
    /// Absolute path on the host (inside `--root`).
    pub path: String,
    /// FNV-1a of the content initkit wrote, to notice later edits.
    pub hash: String,
    /// Where the file it replaced was saved, to restore on uninstall.
    pub backup: Option<String>,
    /// The instance a settings file or enable link belongs to.
    pub instance: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LinkRecord {
    pub path: String,
    pub target: String,
    pub instance: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub recipe: String,
    pub target: Target,
    pub flavor: Flavor,
    pub instances: Vec<String>,
    pub files: Vec<FileRecord>,
    pub links: Vec<LinkRecord>,
    /// Directories initkit created, deepest last; removed on uninstall when empty.
    pub created_dirs: Vec<String>,
    /// `update-rc.d` or `chkconfig` registered the script (on a live host).
    pub registered_with: Option<String>,
    /// The recipe as installed, so the front-end tests and drives exactly that.
    pub recipe_text: String,
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

/// The manifest of `recipe`. The name is checked again here, whoever parsed it:
/// a name that is not a recipe name (`../x`) never becomes a path.
pub fn path_of(root: &Path, recipe: &str) -> io::Result<PathBuf> {
    check_recipe_name(recipe).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    Ok(root.join(DIR).join(format!("{recipe}.json")))
}

pub fn load(root: &Path, recipe: &str) -> io::Result<Option<Manifest>> {
    match fs::read(path_of(root, recipe)?) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(io::Error::other),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn load_all(root: &Path) -> io::Result<Vec<Manifest>> {
    let mut all = Vec::new();
    let entries = match fs::read_dir(root.join(DIR)) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(all),
        Err(e) => return Err(e),
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).map(str::to_owned))
        .collect();
    names.sort();
    for name in names {
        if let Some(m) = load(root, &name)? {
            all.push(m);
        }
    }
    Ok(all)
}

/// Writes `content` to `path` atomically: a temporary file beside it, then rename.
pub fn write_atomic(path: &Path, content: &[u8], mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let tmp =
        path.with_file_name(format!(".{}.initkit-tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("file")));
    fs::write(&tmp, content)?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))?;
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

pub fn save(root: &Path, manifest: &Manifest) -> io::Result<()> {
    let path = path_of(root, &manifest.recipe)?;
    let mut text = serde_json::to_string_pretty(manifest).map_err(io::Error::other)?;
    text.push('\n');
    write_atomic(&path, text.as_bytes(), 0o644)
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
}
