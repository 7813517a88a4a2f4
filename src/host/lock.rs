//! Advisory locks that serialise initkit's changes: one per root (and user), held while
//! files and manifests change (install, uninstall, enable), and one per
//! service, held while the front-end starts, stops, restarts or reloads it.
//! A second initkit waits, saying who it waits for; nothing is ever lost.
//!
//! A lock file may be removed by its holder (uninstall leaves no trace), so a
//! waiter that wins a lock checks that the file it holds is still the one at
//! the path, and starts over if not.

use std::{
    fs::{self, File, OpenOptions, TryLockError},
    io::{Read, Seek, Write},
    os::unix::fs::{MetadataExt, OpenOptionsExt},
    path::{Path, PathBuf},
};

use super::{
    error::{HostError, Result},
    fsops::create_dirs,
    scope::Place,
};

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
    /// Directories created to hold the lock file, outermost first, for the
    /// caller to record (install) or remove when empty (uninstall).
    pub created: Vec<PathBuf>,
}

fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

impl Lock {
    /// Takes the lock at `path`, waiting for its holder; `what` says what this
    /// process is doing, for whoever waits next.
    pub fn acquire(path: &Path, what: &str) -> Result<Lock> {
        Lock::acquire_inner(path, what).map_err(|e| match e {
            HostError::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                HostError::Refused(format!(
                    "no permission to write {} (run as root); nothing was written",
                    path.display()
                ))
            }
            e => e,
        })
    }

    fn acquire_inner(path: &Path, what: &str) -> Result<Lock> {
        let mut created = Vec::new();
        let mut said = false;
        loop {
            if let Some(dir) = path.parent() {
                created.extend(create_dirs(dir)?);
            }
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(path)
                .map_err(HostError::io("opening the lock", path))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    if !said {
                        let mut holder = String::new();
                        let _ = file.read_to_string(&mut holder);
                        let holder = holder.trim();
                        let who = if holder.is_empty() { "another initkit".to_owned() } else { holder.to_owned() };
                        eprintln!("initkit: waiting for {who} to finish (lock {})", path.display());
                        said = true;
                    }
                    file.lock().map_err(HostError::io("waiting for the lock", path))?;
                }
                Err(TryLockError::Error(e)) => return Err(HostError::io("taking the lock", path)(e)),
            }
            if !same_file(&file, path) {
                // The holder removed the file as it finished: take the lock anew.
                continue;
            }
            let note = format!("initkit (pid {}) {what}\n", std::process::id());
            let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(note.as_bytes()));
            return Ok(Lock { file, path: path.to_owned(), created });
        }
    }

    /// The root's lock, for a change to its files and manifests.
    pub fn root(place: &Place, what: &str) -> Result<Lock> {
        Lock::acquire(&place.root_lock(), what)
    }

    /// A service's lock, for the front-end's actions on it.
    pub fn service(place: &Place, name: &str, what: &str) -> Result<Lock> {
        Lock::acquire(&place.service_locks().join(format!("{name}.lock")), what)
    }

    /// Removes the lock file while still holding it (then releases it), so a
    /// finished uninstall leaves nothing behind. Waiters see the file is gone
    /// and take a new one.
    pub fn remove(self) {
        if same_file(&self.file, &self.path) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl Drop for Lock {
    /// The note saying who holds the lock goes with the lock, so an idle root
    /// looks the same before and after any number of changes.
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{
        sync::{Arc, Mutex},
        thread,
        time::Duration,
    };

    #[test]
    fn holders_queue_and_a_removed_lock_is_taken_anew() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x/lock");
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = Lock::acquire(&path, "first").unwrap();
        let waiter = {
            let (path, order) = (path.clone(), order.clone());
            thread::spawn(move || {
                let l = Lock::acquire(&path, "second").unwrap();
                order.lock().unwrap().push("second");
                drop(l);
            })
        };
        thread::sleep(Duration::from_millis(100));
        order.lock().unwrap().push("first");
        first.remove();
        waiter.join().unwrap();
        assert_eq!(*order.lock().unwrap(), ["first", "second"]);
    }
}
