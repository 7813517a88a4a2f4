//! Which init system runs this host, decided from evidence a person can check.

use std::{fs, path::Path};

use serde::Serialize;

use super::driver::{Signs, driver};
use crate::render::{Flavor, Target};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Evidence {
    pub fact: String,
    pub points_to: Option<Target>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Detection {
    /// The init system, when the evidence names one.
    pub init: Option<Target>,
    /// The distribution family, from /etc/os-release.
    pub family: Option<Flavor>,
    pub evidence: Vec<Evidence>,
}

/// What a running host shows beyond its files: PID 1 and the processes running.
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// PID 1's executable, or its command name when the link cannot be read.
    pub pid1: Option<String>,
    /// The command names of running processes.
    pub running: Vec<String>,
}

/// What the files under `root` say, and for the running host (`live`) what
/// PID 1 and the running processes say. An image (no `live`) is judged by
/// what its /sbin/init would start; a running host never is. Each driver
/// says what points to its init system; the evidence is gathered strongest
/// first (a file only a running init system makes, PID 1, a supervisor's
/// process, an image's /sbin/init, installed files), and SysV's /etc/init.d,
/// which every distribution has, last.
pub fn detect(root: &Path, live: Option<&Live>) -> Detection {
    let mut evidence = Vec::new();
    let exists = |p: &str| root.join(p.trim_start_matches('/')).exists();
    let signs: Vec<(Target, Signs)> = Target::ALL.iter().map(|t| (*t, driver(*t).signs())).collect();
    let mut fact = |fact: String, points_to: Option<Target>| evidence.push(Evidence { fact, points_to });
    for (t, s) in &signs {
        if let Some(f) = s.running_file.filter(|f| exists(f)) {
            fact(format!("{f} exists ({} is running)", t.name()), Some(*t));
        }
    }
    match live {
        Some(live) => {
            if let Some(exe) = &live.pid1 {
                let base = exe.rsplit('/').next().unwrap_or(exe);
                let points_to = signs.iter().find(|(_, s)| s.pid1.contains(&base)).map(|(t, _)| *t);
                fact(format!("PID 1 runs {exe}"), points_to);
            }
            for (t, s) in &signs {
                if let Some(comm) = s.process.filter(|c| live.running.iter().any(|r| r == c)) {
                    fact(format!("a {comm} process is running"), Some(*t));
                }
            }
        }
        None => {
            if let Ok(link) = fs::read_link(root.join("sbin/init")) {
                let link = link.display().to_string();
                let points_to =
                    signs.iter().find(|(_, s)| s.image_init.iter().any(|m| link.contains(m))).map(|(t, _)| *t);
                fact(format!("/sbin/init links to {link}"), points_to);
            }
        }
    }
    for (t, s) in signs.iter().filter(|(_, s)| !s.fallback).chain(signs.iter().filter(|(_, s)| s.fallback)) {
        if !s.installed.is_empty() && s.installed.iter().all(|f| exists(f)) {
            fact(format!("{} exist ({})", s.installed.join(" and "), t.name()), Some(*t));
        }
    }
    // The first piece of evidence that points somewhere decides; the list is in order of strength.
    let init = evidence.iter().find_map(|e| e.points_to);
    let family = fs::read_to_string(root.join("etc/os-release")).ok().and_then(|text| family_of(&text));
    if let Some(family) = family {
        evidence.push(Evidence {
            fact: format!("/etc/os-release names a {}-family distribution", family.name()),
            points_to: None,
        });
    }
    Detection { init, family, evidence }
}

/// `debian` or `rhel`, from the ID and ID_LIKE fields of os-release.
pub fn family_of(os_release: &str) -> Option<Flavor> {
    let mut ids = Vec::new();
    for line in os_release.lines() {
        if let Some(v) = line.strip_prefix("ID=").or_else(|| line.strip_prefix("ID_LIKE=")) {
            ids.extend(v.trim_matches('"').split_whitespace().map(str::to_owned));
        }
    }
    if ids.iter().any(|i| i == "debian" || i == "ubuntu") {
        Some(Flavor::Debian)
    } else if ids.iter().any(|i| matches!(i.as_str(), "rhel" | "fedora" | "centos")) {
        Some(Flavor::Rhel)
    } else {
        None
    }
}

/// The command names of running processes, from /proc.
fn running_commands() -> Vec<String> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())))
        .filter_map(|e| fs::read_to_string(e.path().join("comm")).ok())
        .map(|c| c.trim_end().to_owned())
        .collect()
}

/// Detection of the running host. PID 1's executable may be unreadable (a
/// sandbox): its command name stands in.
pub fn detect_host() -> Detection {
    let pid1 = fs::read_link("/proc/1/exe")
        .ok()
        .map(|p| p.display().to_string())
        .or_else(|| fs::read_to_string("/proc/1/comm").ok().map(|c| c.trim_end().to_owned()));
    detect(Path::new("/"), Some(&Live { pid1, running: running_commands() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(pid1: &str, running: &[&str]) -> Live {
        Live { pid1: Some(pid1.to_owned()), running: running.iter().map(|r| (*r).to_owned()).collect() }
    }

    #[test]
    fn systemd_directory_wins_over_init_d() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("run/systemd/system")).unwrap();
        fs::create_dir_all(dir.path().join("etc/init.d")).unwrap();
        fs::write(dir.path().join("etc/os-release"), "ID=rocky\nID_LIKE=\"rhel centos fedora\"\n").unwrap();
        let d = detect(dir.path(), None);
        assert_eq!(d.init, Some(Target::Systemd));
        assert_eq!(d.family, Some(Flavor::Rhel));
    }

    #[test]
    fn init_d_alone_means_sysv_and_nothing_means_unknown() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(detect(dir.path(), None).init, None);
        fs::create_dir_all(dir.path().join("etc/init.d")).unwrap();
        assert_eq!(detect(dir.path(), Some(&live("/usr/bin/some-sandbox", &[]))).init, Some(Target::Sysv));
    }

    #[test]
    fn an_image_is_judged_by_its_sbin_init_and_a_running_host_is_not() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("sbin")).unwrap();
        fs::create_dir_all(dir.path().join("etc/init.d")).unwrap();
        std::os::unix::fs::symlink("/lib/systemd/systemd", dir.path().join("sbin/init")).unwrap();
        assert_eq!(detect(dir.path(), None).init, Some(Target::Systemd));
        assert_eq!(detect(dir.path(), Some(&live("process_api", &[]))).init, Some(Target::Sysv));
    }

    #[test]
    fn a_running_supervisor_counts_when_pid_1_says_nothing() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("etc/init.d")).unwrap();
        let d = detect(dir.path(), Some(&live("/usr/bin/tini", &["bash", "runsvdir"])));
        assert_eq!(d.init, Some(Target::Runit));
        assert!(d.evidence.iter().any(|e| e.fact == "a runsvdir process is running"));
    }
}
