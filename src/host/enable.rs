//! Disabling at boot: the enable links initkit recorded for an instance (or
//! the service) are removed, and what they replaced is put back. Enabling
//! goes through the install transaction, which makes and records them.

use std::{fs, path::Path};

use super::{
    error::{HostError, Result},
    manifest::{self, LinkRecord, Manifest, under},
    scope::Place,
};

/// An enable link (one that makes a service start at boot), as opposed to an
/// instance's own link (OpenRC's `/etc/init.d/NAME.INSTANCE`).
pub fn is_enable_link(link: &LinkRecord) -> bool {
    !link.path.starts_with("/etc/init.d/")
}

/// Removes the enable links of `instance` (every instance with `None`) from
/// the root and the manifest, and saves it; returns the paths removed.
pub fn disable(place: &Place, m: &mut Manifest, instance: Option<&str>) -> Result<Vec<String>> {
    let root = &place.root;
    let mut removed = Vec::new();
    let mut kept = Vec::new();
    for link in std::mem::take(&mut m.links) {
        let mine = is_enable_link(&link) && (instance.is_none() || link.instance.as_deref() == instance);
        if !mine {
            kept.push(link);
            continue;
        }
        let path = under(root, &link.path);
        if fs::read_link(&path).is_ok_and(|t| t == Path::new(&link.target)) {
            fs::remove_file(&path).map_err(HostError::io("removing", &path))?;
            removed.push(link.path.clone());
        }
        if let Some(backup) = &link.backup {
            manifest::restore(root, &path, backup)?;
        }
    }
    m.links = kept;
    manifest::save(place, m)?;
    Ok(removed)
}
