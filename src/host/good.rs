//! An instance's last known good configuration: the files its recipe names
//! as config and environment, copied under `/var/lib/initkit/good` after a
//! restart or reload came back ready, restored by `--rollback`, listed by
//! `initkit history`.

use std::{
    collections::BTreeMap,
    fs,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};

use super::{
    error::{HostError, Result},
    fsops::{Attrs, write_atomic},
    manifest::{hash, under},
    scope::Place,
    settings,
};
use crate::{
    recipe::Recipe,
    render::{Flavor, Layout, Target},
};

/// How many records an instance keeps, newest first.
const KEEP: usize = 10;
/// A config file is text of a reasonable size; anything larger is data.
const MAX_BYTES: u64 = 1 << 20;

/// One file of a record: where it lives, its content's hash, and its owner and mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub path: String,
    pub hash: String,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

/// A recorded configuration: when, and its files (their copies beside the record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Milliseconds since the epoch; the record's directory name.
    pub time_ms: u64,
    pub files: Vec<Saved>,
    #[serde(skip)]
    pub dir: PathBuf,
}

impl Record {
    /// The recorded copy of one of its files.
    pub fn copy(&self, i: usize) -> PathBuf {
        self.dir.join(i.to_string())
    }

    /// When it was recorded.
    pub fn time(&self) -> Option<time::OffsetDateTime> {
        let ns = i128::from(self.time_ms).checked_mul(1_000_000)?;
        time::OffsetDateTime::from_unix_timestamp_nanos(ns).ok()
    }
}

/// Where a service's records live, as a host path: under initkit's state
/// directory (the system's, or the user's for a `--user` service).
pub fn service_path(place: &Place, name: &str) -> String {
    format!("{}/good/{name}", place.state())
}

/// Where an instance's records live, under the place's root.
pub fn dir(place: &Place, name: &str, instance: Option<&str>) -> PathBuf {
    place.at(&format!("{}/{}", service_path(place, name), instance.unwrap_or("_")))
}

/// The files that make an instance's configuration: its settings files, its
/// environment file, and every variable's value that is an existing regular
/// text-sized file outside the kernel's and the runtime's trees.
pub fn config_files(
    recipe: &Recipe,
    values: &BTreeMap<String, String>,
    target: Target,
    layout: &Layout,
    flavor: Flavor,
    instance: Option<&str>,
) -> Vec<String> {
    let mut out: Vec<String> = settings::files(recipe, target, layout, flavor, instance);
    if let Some(file) = &recipe.run.environment_file {
        out.push(file.substitute(&|v| values.get(v).cloned()));
    }
    for var in &recipe.vars {
        if let Some(v) = values.get(&var.name) {
            out.push(v.clone());
        }
    }
    let skipped = ["/proc/", "/sys/", "/dev/", "/run/", "/var/run/", "/var/lib/initkit/", "/var/log/"];
    let mut seen = Vec::new();
    out.retain(|p| {
        let ok = p.starts_with('/')
            && !skipped.iter().any(|s| p.starts_with(s))
            && fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() <= MAX_BYTES && m.mode() & 0o111 == 0)
            && !seen.contains(p);
        seen.push(p.clone());
        ok
    });
    out
}

/// Every record of an instance, newest first; unreadable ones are skipped.
pub fn records(place: &Place, name: &str, instance: Option<&str>) -> Vec<Record> {
    let base = dir(place, name, instance);
    let mut out: Vec<Record> = fs::read_dir(&base)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let text = fs::read_to_string(e.path().join("record.json")).ok()?;
            let mut r: Record = serde_json::from_str(&text).ok()?;
            r.dir = e.path();
            Some(r)
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.time_ms));
    out
}

/// Whether the files under `root` are now what `record` holds.
pub fn matches_under(root: &Path, record: &Record) -> bool {
    record.files.iter().all(|f| fs::read(under(root, &f.path)).is_ok_and(|c| hash(&c) == f.hash))
}

/// Whether the host's files are now what `record` holds.
pub fn matches(record: &Record) -> bool {
    matches_under(Path::new("/"), record)
}

/// `diff -u` of two files (a missing one counts as empty), labelled; empty
/// when they are the same or diff is not installed.
pub fn diff(old: &Path, new: &Path, old_label: &str, new_label: &str) -> String {
    let exists = |p: &Path| if p.exists() { p.as_os_str().to_owned() } else { "/dev/null".into() };
    std::process::Command::new("diff")
        .args(["-u", "--label", old_label, "--label", new_label])
        .arg(exists(old))
        .arg(exists(new))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Records `files` as the instance's last known good, unless the newest
/// record already holds exactly them; keeps the newest [`KEEP`].
pub fn record(place: &Place, name: &str, instance: Option<&str>, files: &[String]) -> Result<Option<Record>> {
    let existing = records(place, name, instance);
    if let Some(last) = existing.first()
        && last.files.iter().map(|f| &f.path).eq(files.iter())
        && matches(last)
    {
        return Ok(None);
    }
    let time_ms = now_ms().max(existing.first().map_or(0, |r| r.time_ms + 1));
    let rdir = dir(place, name, instance).join(time_ms.to_string());
    fs::create_dir_all(&rdir).map_err(HostError::io("making", &rdir))?;
    let mut saved = Vec::new();
    for (i, p) in files.iter().enumerate() {
        let content = fs::read(p).map_err(HostError::io("reading", Path::new(p)))?;
        let meta = fs::metadata(p).map_err(HostError::io("reading", Path::new(p)))?;
        write_atomic(&rdir.join(i.to_string()), &content, 0o600, None)?;
        saved.push(Saved {
            path: p.clone(),
            hash: hash(&content),
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode() & 0o7777,
        });
    }
    let r = Record { time_ms, files: saved, dir: rdir.clone() };
    let json = serde_json::to_string_pretty(&r).unwrap_or_default();
    write_atomic(&rdir.join("record.json"), json.as_bytes(), 0o600, None)?;
    for old in existing.iter().skip(KEEP - 1) {
        let _ = fs::remove_dir_all(&old.dir);
    }
    Ok(Some(r))
}

/// Puts `record`'s files back, each atomically with its recorded owner and
/// mode; the versions it replaces are kept beside the record as
/// `replaced-TIME/` for a look afterwards.
pub fn restore(record: &Record) -> Result<Restored> {
    let aside = record.dir.with_file_name(format!("replaced-{}", now_ms()));
    let mut restored = Vec::new();
    for (i, f) in record.files.iter().enumerate() {
        let path = Path::new(&f.path);
        let content = fs::read(record.copy(i)).map_err(HostError::io("reading", &record.copy(i)))?;
        if hash(&content) != f.hash {
            return Err(HostError::Refused(format!(
                "the recorded copy of {} is damaged; nothing more restored",
                f.path
            )));
        }
        if let Ok(now) = fs::read(path) {
            if hash(&now) == f.hash {
                continue;
            }
            fs::create_dir_all(&aside).map_err(HostError::io("making", &aside))?;
            write_atomic(&aside.join(i.to_string()), &now, 0o600, None)?;
            let _ = fs::write(aside.join(format!("{i}.path")), &f.path);
        }
        let attrs = Attrs { uid: f.uid, gid: f.gid, mode: f.mode, mtime_ns: 0 };
        write_atomic(path, &content, f.mode, Some(attrs).filter(|_| may_chown()))?;
        restored.push(f.path.clone());
    }
    Ok(Restored { files: restored, aside: aside.is_dir().then_some(aside) })
}

/// What [`restore`] put back, and where the versions it replaced are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub files: Vec<String>,
    pub aside: Option<PathBuf>,
}

/// Whether this process may give files another owner.
fn may_chown() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_kept_once_restored_exactly_and_the_replaced_version_set_aside() {
        let root = tempfile::tempdir().unwrap();
        let conf = root.path().join("app.conf");
        fs::write(&conf, "port 1\n").unwrap();
        let files = vec![conf.display().to_string()];
        let first = record(&Place::system(root.path()), "app", Some("a"), &files).unwrap().expect("a first record");
        assert!(
            record(&Place::system(root.path()), "app", Some("a"), &files).unwrap().is_none(),
            "the same files: no new record"
        );
        fs::write(&conf, "port 2\n").unwrap();
        assert!(!matches(&first));
        let second =
            record(&Place::system(root.path()), "app", Some("a"), &files).unwrap().expect("changed: a new record");
        assert!(second.time_ms > first.time_ms);
        assert_eq!(records(&Place::system(root.path()), "app", Some("a")).len(), 2);
        fs::write(&conf, "broken\n").unwrap();
        assert_eq!(restore(&second).unwrap().files, files);
        assert_eq!(fs::read_to_string(&conf).unwrap(), "port 2\n");
        let aside: Vec<_> = fs::read_dir(dir(&Place::system(root.path()), "app", Some("a")))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("replaced-"))
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(fs::read_to_string(aside[0].path().join("0")).unwrap(), "broken\n");
        // A damaged copy is refused, and the file is left as it is.
        fs::write(second.copy(0), "tampered").unwrap();
        fs::write(&conf, "now\n").unwrap();
        assert!(restore(&second).is_err());
        assert_eq!(fs::read_to_string(&conf).unwrap(), "now\n");
    }

    #[test]
    fn a_record_matches_the_files_under_a_root_and_diffs_name_the_change() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("etc")).unwrap();
        let conf = root.path().join("etc/app.conf");
        fs::write(&conf, "a\nb\n").unwrap();
        let r = record(&Place::system(root.path()), "app", None, &[conf.display().to_string()]).unwrap().unwrap();
        // The record names the host path; read under another root it is that root's file.
        let mut as_host = r.clone();
        as_host.files[0].path = "/etc/app.conf".to_owned();
        assert!(matches_under(root.path(), &as_host));
        fs::write(&conf, "a\nc\n").unwrap();
        assert!(!matches_under(root.path(), &as_host));
        let d = diff(&r.copy(0), &conf, "old", "new");
        assert!(d.contains("--- old") && d.contains("-b") && d.contains("+c"), "{d}");
        assert_eq!(diff(&conf, &conf, "x", "y"), "");
    }

    #[test]
    fn only_the_newest_records_are_kept() {
        let root = tempfile::tempdir().unwrap();
        let conf = root.path().join("c");
        let files = vec![conf.display().to_string()];
        for n in 0..KEEP + 3 {
            fs::write(&conf, n.to_string()).unwrap();
            record(&Place::system(root.path()), "s", None, &files).unwrap();
        }
        let all = records(&Place::system(root.path()), "s", None);
        assert_eq!(all.len(), KEEP);
        assert_eq!(fs::read_to_string(all[0].copy(0)).unwrap(), (KEEP + 2).to_string());
    }
}
