//! Disabling at boot: the enable links initkit recorded for an instance (or
//! the service) are removed, and what they replaced is put back; under a
//! supervisor that runs what its scan directory links, a `down` file holds
//! the instance down instead. Enabling goes through the install transaction,
//! which makes and records the links (and lifts the `down` files).

use std::{fs, path::Path};

use super::{
    driver::Driver,
    error::{HostError, Result},
    fsops,
    manifest::{self, FileRecord, Manifest, hash, under},
    scope::Place,
};

/// What disabling did: links removed, and `down` files written.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Disabled {
    pub unlinked: Vec<String>,
    pub held_down: Vec<String>,
}

/// Removes the enable links of `instance` (every instance with `None`) from
/// the root and the manifest, and (for a supervisor that runs what its scan
/// directory links) writes the instance's `down` file, recorded like every
/// file initkit writes; saves the manifest.
pub fn disable(place: &Place, drv: &dyn Driver, m: &mut Manifest, instance: Option<&str>) -> Result<Disabled> {
    let root = &place.root;
    let mut done = Disabled::default();
    let mut kept = Vec::new();
    for link in std::mem::take(&mut m.links) {
        let mine = drv.is_enable_link(&link) && (instance.is_none() || link.instance.as_deref() == instance);
        if !mine {
            kept.push(link);
            continue;
        }
        let path = under(root, &link.path);
        if fs::read_link(&path).is_ok_and(|t| t == Path::new(&link.target)) {
            fs::remove_file(&path).map_err(HostError::io("removing", &path))?;
            done.unlinked.push(link.path.clone());
        }
        if let Some(backup) = &link.backup {
            manifest::restore(root, &path, backup)?;
        }
    }
    m.links = kept;
    let instances: Vec<Option<String>> = match instance {
        Some(i) => vec![Some(i.to_owned())],
        None if m.instances.is_empty() => vec![None],
        None => m.instances.iter().cloned().map(Some).collect(),
    };
    for i in instances {
        let Some(down) = drv.down_file(&m.recipe, i.as_deref()) else { continue };
        if m.files.iter().any(|f| f.path == down) {
            continue;
        }
        fsops::write_atomic(&under(root, &down), b"", DOWN_MODE, None)?;
        m.files.push(FileRecord {
            path: down.clone(),
            hash: hash(b""),
            backup: None,
            instance: i,
            mode: Some(DOWN_MODE),
        });
        done.held_down.push(down);
    }
    manifest::save(place, m)?;
    Ok(done)
}

/// The mode of a `down` file (empty: its presence is what counts).
pub const DOWN_MODE: u32 = 0o644;
