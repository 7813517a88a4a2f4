//! Which init system runs this host, decided from evidence a person can check.

use std::{fs, path::Path};

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Evidence {
    pub fact: String,
    pub points_to: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Detection {
    /// The init system, or `unknown`.
    pub init: &'static str,
    /// The distribution family, from /etc/os-release.
    pub family: Option<&'static str>,
    pub evidence: Vec<Evidence>,
}

/// What the files under `root` say. `pid1_exe` is PID 1's executable, when
/// readable (not meaningful under a chroot root).
pub fn detect(root: &Path, pid1_exe: Option<&str>) -> Detection {
    let mut evidence = Vec::new();
    let exists = |p: &str| root.join(p.trim_start_matches('/')).exists();
    if exists("/run/systemd/system") {
        evidence.push(Evidence {
            fact: "/run/systemd/system exists (systemd is running as init)".into(),
            points_to: Some("systemd"),
        });
    }
    if let Some(exe) = pid1_exe {
        let base = exe.rsplit('/').next().unwrap_or(exe);
        let points_to = match base {
            "systemd" => Some("systemd"),
            "openrc-init" => Some("openrc"),
            "runit" | "runit-init" => Some("runit"),
            "s6-svscan" => Some("s6"),
            "upstart" => Some("upstart"),
            "launchd" => Some("launchd"),
            "init" => Some("sysv"),
            _ => None,
        };
        evidence.push(Evidence { fact: format!("PID 1 runs {exe}"), points_to });
    }
    // An image that is not running: what its /sbin/init would start.
    if pid1_exe.is_none()
        && let Ok(target) = fs::read_link(root.join("sbin/init"))
    {
        let target = target.display().to_string();
        let points_to = if target.ends_with("/systemd") {
            Some("systemd")
        } else if target.ends_with("openrc-init") {
            Some("openrc")
        } else if target.contains("runit") {
            Some("runit")
        } else {
            None
        };
        evidence.push(Evidence { fact: format!("/sbin/init links to {target}"), points_to });
    }
    if exists("/run/openrc/softlevel") {
        evidence.push(Evidence {
            fact: "/run/openrc/softlevel exists (OpenRC is running)".into(),
            points_to: Some("openrc"),
        });
    }
    if exists("/etc/init.d") {
        evidence.push(Evidence {
            fact: "/etc/init.d exists (SysV-style scripts are supported)".into(),
            points_to: Some("sysv"),
        });
    }
    // The first piece of evidence that points somewhere decides; the list is in order of strength.
    let init = evidence.iter().find_map(|e| e.points_to).unwrap_or("unknown");
    let family = fs::read_to_string(root.join("etc/os-release")).ok().and_then(|text| family_of(&text));
    if let Some(family) = family {
        evidence
            .push(Evidence { fact: format!("/etc/os-release names a {family}-family distribution"), points_to: None });
    }
    Detection { init, family, evidence }
}

/// `debian` or `rhel`, from the ID and ID_LIKE fields of os-release.
pub fn family_of(os_release: &str) -> Option<&'static str> {
    let mut ids = Vec::new();
    for line in os_release.lines() {
        if let Some(v) = line.strip_prefix("ID=").or_else(|| line.strip_prefix("ID_LIKE=")) {
            ids.extend(v.trim_matches('"').split_whitespace().map(str::to_owned));
        }
    }
    if ids.iter().any(|i| i == "debian" || i == "ubuntu") {
        Some("debian")
    } else if ids.iter().any(|i| matches!(i.as_str(), "rhel" | "fedora" | "centos")) {
        Some("rhel")
    } else {
        None
    }
}

/// Detection of the running host.
pub fn detect_host() -> Detection {
    let pid1 = fs::read_link("/proc/1/exe").ok().map(|p| p.display().to_string());
    detect(Path::new("/"), pid1.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_directory_wins_over_init_d() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("run/systemd/system")).unwrap();
        fs::create_dir_all(dir.path().join("etc/init.d")).unwrap();
        fs::write(dir.path().join("etc/os-release"), "ID=rocky\nID_LIKE=\"rhel centos fedora\"\n").unwrap();
        let d = detect(dir.path(), None);
        assert_eq!(d.init, "systemd");
        assert_eq!(d.family, Some("rhel"));
    }

    #[test]
    fn an_image_whose_init_is_systemd_is_systemd() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("sbin")).unwrap();
        fs::create_dir_all(dir.path().join("etc/init.d")).unwrap();
        std::os::unix::fs::symlink("/lib/systemd/systemd", dir.path().join("sbin/init")).unwrap();
        assert_eq!(detect(dir.path(), None).init, "systemd");
        // A running host is judged by its PID 1, not by what /sbin/init would be.
        assert_eq!(detect(dir.path(), Some("/usr/bin/some-sandbox")).init, "sysv");
    }

    #[test]
    fn init_d_alone_means_sysv_and_nothing_means_unknown() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(detect(dir.path(), None).init, "unknown");
        fs::create_dir_all(dir.path().join("etc/init.d")).unwrap();
        assert_eq!(detect(dir.path(), Some("/usr/bin/some-sandbox")).init, "sysv");
    }
}
