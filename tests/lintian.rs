//! Debian's own linter on what initkit renders: every catalogue recipe's SysV
//! script and systemd unit, packaged the way a Debian package ships them
//! (scripts registered with update-rc.d in the maintainer scripts, units in
//! /lib/systemd/system), gets no init.d or systemd tag from lintian.

mod common;

use std::{fs, os::unix::fs::PermissionsExt, path::Path, process::Command};

use initkit::render::{Options, Target, render};

fn write(path: &Path, content: &str, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn lintian_finds_nothing_to_say_about_the_scripts_and_units() {
    if !common::require_tool("lintian", "lintian on the rendered scripts and units")
        || !common::require_tool("dpkg-deb", "building the package lintian checks")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    let mut conffiles = String::new();
    let (mut postinst, mut postrm) = (String::from("#!/bin/sh\nset -e\n"), String::from("#!/bin/sh\nset -e\n"));
    for recipe in common::catalogue() {
        for target in [Target::Sysv, Target::Systemd] {
            for a in render(&recipe, target, &Options::default()).unwrap() {
                // A package ships units in /lib/systemd/system; initkit installs an administrator's in /etc.
                let path = a.path.replacen("/etc/systemd/system/", "/lib/systemd/system/", 1);
                write(&pkg.join(path.trim_start_matches('/')), &a.content, a.mode);
                if path.starts_with("/etc/") {
                    conffiles.push_str(&format!("{path}\n"));
                }
            }
        }
        let n = &recipe.name;
        postinst.push_str(&format!("if [ -x \"/etc/init.d/{n}\" ]; then\n\tupdate-rc.d {n} defaults >/dev/null\nfi\n"));
        postrm.push_str(&format!("if [ \"$1\" = purge ]; then\n\tupdate-rc.d {n} remove >/dev/null\nfi\n"));
    }
    let control = "Package: initkit-rendered\nVersion: 0.1.0-1\nArchitecture: all\nMaintainer: initkit <initkit@example.org>\n\
                   Section: admin\nPriority: optional\nDepends: redis-server, memcached, nginx, haproxy, mariadb-server, postgresql, php-fpm\n\
                   Description: initkit's rendered scripts and units\n what initkit renders, for lintian\n";
    write(&pkg.join("DEBIAN/control"), control, 0o644);
    write(&pkg.join("DEBIAN/conffiles"), &conffiles, 0o644);
    write(&pkg.join("DEBIAN/postinst"), &postinst, 0o755);
    write(&pkg.join("DEBIAN/postrm"), &postrm, 0o755);
    let deb = dir.path().join("initkit-rendered_0.1.0-1_all.deb");
    let built = Command::new("dpkg-deb").args(["--root-owner-group", "--build"]).arg(&pkg).arg(&deb).output().unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let out = Command::new("lintian").args(["--no-tag-display-limit", "-I", "--pedantic"]).arg(&deb).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let about_init: Vec<&str> = text
        .lines()
        .filter(|l| ["init.d", "init-d", "systemd", "update-rc", "lsb", "/etc/init"].iter().any(|w| l.contains(w)))
        .collect();
    assert!(about_init.is_empty(), "lintian on init scripts and units:\n{}", about_init.join("\n"));
    // lintian ran and read the package: it has something to say about the rest (no changelog, say).
    assert!(!text.trim().is_empty(), "lintian printed nothing at all: {}", String::from_utf8_lossy(&out.stderr));
}
