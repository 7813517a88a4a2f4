//! Whose services a command works on, and where initkit keeps its record of
//! them: the system's (under a root: `/var/lib/initkit`, `/run/initkit`), or
//! the calling user's (`install --user`: `~/.local/state/initkit`, the
//! user's runtime directory), with the user's directories read from `HOME`
//! and the XDG variables.

use std::{
    env, fs,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

use super::{
    error::{HostError, Result},
    manifest::{Manifest, under},
};
use crate::render::{Layout, user::UserDirs};

/// A root, and the user whose services are meant (`None`: the system's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub root: PathBuf,
    pub user: Option<UserDirs>,
}

impl Place {
    pub fn system(root: &Path) -> Place {
        Place { root: root.to_owned(), user: None }
    }

    /// The system's services under `root`, or (with `user`) the calling user's.
    pub fn new(root: &Path, user: bool) -> Result<Place> {
        Ok(Place { root: root.to_owned(), user: if user { Some(calling_user()?) } else { None } })
    }

    /// Where the services a manifest records live, on the running host: a
    /// user's manifest is the calling user's (it was found among them).
    pub fn of(m: &Manifest) -> Result<Place> {
        Place::new(Path::new("/"), m.user.is_some())
    }

    /// The running host, not an image under a root.
    pub fn live(&self) -> bool {
        self.root == Path::new("/")
    }

    /// The layout artifacts are rendered for (paths are host paths: the
    /// root is added when they are written).
    pub fn layout(&self) -> Layout {
        Layout { root: String::new(), user: self.user.clone() }
    }

    /// initkit's state directory, a host path: `/var/lib/initkit`, or the
    /// user's `$XDG_STATE_HOME/initkit`.
    pub fn state(&self) -> String {
        match &self.user {
            Some(u) => format!("{}/initkit", u.state),
            None => "/var/lib/initkit".to_owned(),
        }
    }

    /// The manifests' directory, a host path.
    pub fn installed(&self) -> String {
        format!("{}/installed", self.state())
    }

    /// Where replaced files are kept, a host path.
    pub fn backups(&self) -> String {
        format!("{}/backups", self.state())
    }

    /// The root's lock, for changes to files and manifests.
    pub fn root_lock(&self) -> PathBuf {
        self.at(&format!("{}/lock", self.state()))
    }

    /// The directory of the per-service locks (on a tmpfs: the system's
    /// `/run`, the user's runtime directory).
    pub fn service_locks(&self) -> PathBuf {
        match &self.user {
            Some(u) => self.at(&format!("{}/initkit/locks", u.runtime)),
            None => self.at("/run/initkit/locks"),
        }
    }

    /// A host path under the root.
    pub fn at(&self, host_path: &str) -> PathBuf {
        under(&self.root, host_path)
    }
}

/// An absolute path from the variable `name`, if it holds one (the XDG
/// specification says a relative one is to be ignored).
fn absolute_var(name: &str) -> Option<String> {
    env::var(name)
        .ok()
        .filter(|v| v.starts_with('/'))
        .map(|v| v.trim_end_matches('/').to_owned())
        .filter(|v| !v.is_empty())
}

/// Where services are on the running host: the system's, or (`user`) the
/// calling user's (`None` when the user's directories are unknown).
pub fn running_layout(user: bool) -> Option<Layout> {
    if user {
        calling_user().ok().map(|u| Layout { root: String::new(), user: Some(u) })
    } else {
        Some(Layout::default())
    }
}

/// The user this process runs as, and that user's directories.
pub fn calling_user() -> Result<UserDirs> {
    let uid = fs::metadata("/proc/self").map(|m| m.uid()).map_err(HostError::io("reading", "/proc/self"))?;
    let home = absolute_var("HOME").ok_or_else(|| {
        HostError::Refused("--user needs HOME (an absolute path) to find the user's directories".to_owned())
    })?;
    let name = login_name(uid).or_else(|| env::var("USER").ok()).unwrap_or_else(|| uid.to_string());
    Ok(UserDirs {
        name,
        config: absolute_var("XDG_CONFIG_HOME").unwrap_or_else(|| format!("{home}/.config")),
        state: absolute_var("XDG_STATE_HOME").unwrap_or_else(|| format!("{home}/.local/state")),
        runtime: absolute_var("XDG_RUNTIME_DIR").unwrap_or_else(|| format!("/run/user/{uid}")),
        home,
        uid,
    })
}

/// The login name of `uid`, from /etc/passwd.
fn login_name(uid: u32) -> Option<String> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_owned())
    })
}
