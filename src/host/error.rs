//! What can go wrong on the host, each naming the path and what to do.

use std::{io, path::PathBuf};

/// An error from the host stage.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// An operation on a path failed: `writing /etc/init.d/redis: No space left on device`.
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A manifest that cannot be read back.
    #[error(
        "{} is damaged ({reason}); `initkit uninstall {name} --force` removes what it still names, and `initkit install {name} --force` writes a new one",
        path.display()
    )]
    DamagedManifest { name: String, path: PathBuf, reason: String },
    /// Something initkit will not do, worded for a person.
    #[error("{0}")]
    Refused(String),
}

impl HostError {
    /// An `Io` error for `op` on `path`, to use with `map_err`.
    pub fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> HostError {
        let path = path.into();
        move |source| HostError::Io { op, path, source }
    }
}

pub type Result<T, E = HostError> = std::result::Result<T, E>;
