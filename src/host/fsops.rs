//! File operations that a crash, a full disk or a planted link cannot turn
//! into a half-written or misdirected file: write to a fresh temporary beside
//! the target (never through a link), fsync, rename, fsync the directory.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Write},
    os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt, fchown, lchown, symlink},
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use super::error::{HostError, Result};

/// The temporary a file at `path` is written to before its rename. Its name
/// is fixed, so a crash leaves at most one, which the next write (or a
/// recovery) removes.
pub fn temporary(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.initkit-tmp"))
}

/// Opens a new file at `path`, refusing to follow or reuse anything there: a
/// stale temporary is removed first, and `create_new` (O_EXCL) never writes
/// through a symlink someone planted in its place.
fn create_fresh(path: &Path, mode: u32) -> Result<File> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(HostError::io("removing the stale temporary", path)(e)),
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(HostError::io("creating", path))
}

/// Syncs the directory holding `path`, so a rename in it survives a crash.
pub fn sync_dir(path: &Path) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    File::open(dir).and_then(|d| d.sync_all()).map_err(HostError::io("syncing the directory", dir))
}

/// Owner and times to give a file, when restoring one as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attrs {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub mtime_ns: i64,
}

impl Attrs {
    pub fn of(meta: &fs::Metadata) -> Self {
        Attrs {
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode() & 0o7777,
            mtime_ns: meta.mtime().saturating_mul(1_000_000_000).saturating_add(meta.mtime_nsec()),
        }
    }

    fn mtime(&self) -> SystemTime {
        let ns = u64::try_from(self.mtime_ns.max(0)).unwrap_or(0);
        UNIX_EPOCH + Duration::from_nanos(ns)
    }
}

/// Writes `content` to `path` atomically with `mode` (and, given, owner and
/// mtime): a fresh temporary beside it, fsynced, renamed over, the directory
/// fsynced. On any error the temporary is removed and `path` is untouched.
pub fn write_atomic(path: &Path, content: &[u8], mode: u32, attrs: Option<Attrs>) -> Result<()> {
    let tmp = temporary(path);
    let result = (|| {
        let mut file = create_fresh(&tmp, mode & 0o777)?;
        file.write_all(content).map_err(HostError::io("writing", path))?;
        if let Some(a) = attrs {
            fchown(&file, Some(a.uid), Some(a.gid)).map_err(HostError::io("setting the owner of", path))?;
            file.set_modified(a.mtime()).map_err(HostError::io("setting the time of", path))?;
        }
        // After fchown, which clears set-id bits.
        file.set_permissions(fs::Permissions::from_mode(attrs.map_or(mode, |a| a.mode)))
            .map_err(HostError::io("setting the mode of", path))?;
        file.sync_all().map_err(HostError::io("writing", path))?;
        fs::rename(&tmp, path).map_err(HostError::io("replacing", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    sync_dir(path)
}

/// Makes `path` a symlink to `target` atomically (a temporary link renamed
/// over it), with the given owner.
pub fn symlink_atomic(target: &Path, path: &Path, owner: Option<(u32, u32)>) -> Result<()> {
    let tmp = temporary(path);
    let _ = fs::remove_file(&tmp);
    symlink(target, &tmp).map_err(HostError::io("linking", path))?;
    let result = (|| {
        if let Some((uid, gid)) = owner {
            lchown(&tmp, Some(uid), Some(gid)).map_err(HostError::io("setting the owner of", path))?;
        }
        fs::rename(&tmp, path).map_err(HostError::io("replacing", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    sync_dir(path)
}

/// Creates `dir` and its missing parents, returning each one it created, outermost first.
pub fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut cur = dir;
    while fs::symlink_metadata(cur).is_err() {
        missing.push(cur.to_path_buf());
        match cur.parent() {
            Some(p) => cur = p,
            None => break,
        }
    }
    missing.reverse();
    let mut created = Vec::new();
    for d in missing {
        match fs::create_dir(&d) {
            Ok(()) => created.push(d),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(HostError::io("creating the directory", &d)(e)),
        }
    }
    Ok(created)
}

/// What stands at a path, without following a final symlink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    Nothing,
    File(Vec<u8>),
    Link(PathBuf),
    Dir,
    /// A socket, fifo or device.
    Other,
}

pub fn existing(path: &Path) -> Result<Existing> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Existing::Nothing),
        Err(e) => return Err(HostError::io("reading", path)(e)),
    };
    let kind = meta.file_type();
    Ok(if kind.is_symlink() {
        Existing::Link(fs::read_link(path).map_err(HostError::io("reading the link", path))?)
    } else if kind.is_dir() {
        Existing::Dir
    } else if kind.is_file() {
        Existing::File(fs::read(path).map_err(HostError::io("reading", path))?)
    } else {
        Existing::Other
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_link_at_the_temporary_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "keep").unwrap();
        let target = dir.path().join("pidfile");
        symlink(&victim, temporary(&target)).unwrap();
        write_atomic(&target, b"123\n", 0o644, None).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(fs::read_to_string(&target).unwrap(), "123\n");
        assert!(!temporary(&target).exists());
    }

    #[test]
    fn attributes_are_restored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let attrs = Attrs { uid: 0, gid: 0, mode: 0o640, mtime_ns: 1_000_000_000_123 };
        write_atomic(&path, b"x", 0o644, Some(attrs)).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o640);
        assert_eq!(Attrs::of(&meta).mtime_ns, 1_000_000_000_123);
    }
}
