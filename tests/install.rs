//! Install and uninstall under a scratch --root: exact, idempotent, refusing, recorded.

mod common;

use std::{
    collections::BTreeMap,
    fs,
    os::unix::fs::PermissionsExt,
    path::Path,
    process::{Command, Output},
};

use common::initkit;

fn run(args: &[&str]) -> Output {
    initkit().args(args).env("XDG_CONFIG_HOME", "/nonexistent-initkit-test").output().unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Stderr without the warnings (about what a scratch root lacks).
fn errors(o: &Output) -> String {
    err(o).lines().filter(|l| !l.starts_with("warning: ")).flat_map(|l| [l, "\n"]).collect()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every path under `root` with its kind and content (or link target).
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, map: &mut BTreeMap<String, String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                map.insert(rel, format!("link {}", fs::read_link(&path).unwrap().display()));
            } else if meta.is_dir() {
                map.insert(rel, format!("dir {:o}", meta.permissions().mode()));
                walk(root, &path, map);
            } else {
                map.insert(
                    rel,
                    format!(
                        "file {:o} {}",
                        meta.permissions().mode(),
                        String::from_utf8_lossy(&fs::read(&path).unwrap())
                    ),
                );
            }
        }
    }
    let mut map = BTreeMap::new();
    walk(root, root, &mut map);
    map
}

/// A scratch root that looks like a Debian host with systemd running.
fn host() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in ["etc/init.d", "etc/systemd/system", "etc/default", "run/systemd/system", "var/lib"] {
        fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    fs::write(dir.path().join("etc/os-release"), "ID=debian\n").unwrap();
    dir
}

#[test]
fn install_then_uninstall_leaves_the_root_exactly_as_before() {
    let root = host();
    let r = root.path().to_str().unwrap();
    let before = tree(root.path());
    for (spec, port) in [("redis@a", "17001"), ("redis@b", "17002")] {
        let o = run(&["install", spec, "--root", r, "--set", &format!("port={port}"), "--enable"]);
        assert!(o.status.success(), "{}", err(&o));
    }
    let o = run(&["install", "nginx", "--root", r, "--target", "sysv", "--enable"]);
    assert!(o.status.success(), "{}", err(&o));
    let unit = fs::read_to_string(root.path().join("etc/systemd/system/redis@.service")).unwrap();
    assert!(!unit.contains("17001"), "per-instance settings must not land in the shared template");
    assert_eq!(
        fs::read_to_string(root.path().join("etc/default/redis.d/b"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["port=17002"]
    );
    assert_eq!(
        fs::read_link(root.path().join("etc/systemd/system/multi-user.target.wants/redis@a.service")).unwrap(),
        Path::new("/etc/systemd/system/redis@.service")
    );
    assert_eq!(fs::read_link(root.path().join("etc/rc2.d/S01nginx")).unwrap(), Path::new("../init.d/nginx"));
    let listed = run(&["list", "--installed", "--root", r]);
    assert_eq!(
        out(&listed),
        "nginx  (sysv debian, 2 files, 7 links)  enabled\nredis  (systemd debian, 3 files, 2 links)  instances: a, b  enabled: a, b\n"
    );
    for name in ["redis", "nginx"] {
        let o = run(&["uninstall", name, "--root", r]);
        assert!(o.status.success(), "{}", err(&o));
    }
    assert_eq!(tree(root.path()), before);
}

#[test]
fn disable_and_enable_remove_and_remake_exactly_the_boot_links() {
    let root = host();
    let r = root.path().to_str().unwrap();
    for (spec, port) in [("redis@a", "17001"), ("redis@b", "17002")] {
        let o = run(&["install", spec, "--root", r, "--set", &format!("port={port}"), "--enable"]);
        assert!(o.status.success(), "{}", err(&o));
    }
    let enabled = tree(root.path());
    let wants = root.path().join("etc/systemd/system/multi-user.target.wants");

    let o = run(&["disable", "redis@a", "--root", r]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("unlinked  /etc/systemd/system/multi-user.target.wants/redis@a.service"), "{}", out(&o));
    assert!(!wants.join("redis@a.service").exists());
    assert!(fs::symlink_metadata(wants.join("redis@b.service")).is_ok(), "only the named instance is disabled");
    assert!(out(&run(&["list", "--installed", "--root", r])).contains("instances: a, b  enabled: b\n"));

    let o = run(&["enable", "redis@a", "--root", r]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(tree(root.path()), enabled, "enable puts back exactly what disable removed");

    assert!(run(&["disable", "redis", "--root", r]).status.success());
    assert!(fs::read_dir(&wants).map_or(true, |mut d| d.next().is_none()), "every instance is disabled");
    assert!(out(&run(&["list", "--installed", "--root", r])).contains("instances: a, b  not enabled\n"));

    let o = run(&["enable", "redis@zzz", "--root", r]);
    assert!(!o.status.success());
    assert!(err(&o).contains("`redis@zzz` is not installed (installed: a, b)"), "{}", err(&o));
    assert!(!err(&o).contains("did you mean"), "nothing is close to zzz: {}", err(&o));
    let o = run(&["uninstall", "redis@aa", "--root", r]);
    assert!(!o.status.success());
    assert!(
        err(&o).contains("`redis@aa` is not installed (installed: a, b)\n  = help: did you mean `a`?"),
        "{}",
        err(&o)
    );

    assert!(run(&["uninstall", "redis", "--root", r]).status.success());
}

/// runit, s6 and daemontools run whatever their scan directory links: every
/// installed instance is linked (so that `initkit start` finds it
/// supervised), and one not enabled holds a `down` file, written before the
/// link, that keeps it down when the supervisor comes up.
#[test]
fn a_supervisor_links_every_instance_and_a_down_file_holds_one_not_enabled() {
    for (target, sv, scan) in [
        ("runit", "etc/sv", "etc/service"),
        ("s6", "etc/s6/sv", "etc/s6/service"),
        ("daemontools", "etc/daemontools/sv", "etc/service"),
    ] {
        let root = tempfile::tempdir().unwrap();
        let r = root.path().to_str().unwrap();
        let before = tree(root.path());
        let o = run(&["install", "redis@a", "--target", target, "--root", r, "--set", "a:port=17001"]);
        assert!(o.status.success(), "{target}: {}", err(&o));
        let o = run(&["install", "redis@b", "--target", target, "--root", r, "--set", "b:port=17002", "--enable"]);
        assert!(o.status.success(), "{target}: {}", err(&o));
        let dir = |i: &str| root.path().join(format!("{sv}/redis@{i}"));
        for i in ["a", "b"] {
            assert_eq!(
                fs::read_link(root.path().join(format!("{scan}/redis@{i}"))).unwrap(),
                Path::new(&format!("/{sv}/redis@{i}")),
                "{target}: redis@{i} is linked, enabled or not"
            );
        }
        assert!(dir("a").join("down").is_file(), "{target}: not enabled: held down");
        assert!(!dir("b").join("down").exists(), "{target}: enabled: no down file");
        let listed = out(&run(&["list", "--installed", "--root", r]));
        assert!(listed.contains("instances: a, b  enabled: b\n"), "{target}: {listed}");

        let o = run(&["enable", "redis@a", "--root", r]);
        assert!(o.status.success(), "{target}: {}", err(&o));
        assert!(out(&o).contains(&format!("removed  /{sv}/redis@a/down (starts at boot)")), "{target}: {}", out(&o));
        assert!(!dir("a").join("down").exists(), "{target}: enable lifts the down file");
        let o = run(&["disable", "redis", "--root", r]);
        assert!(o.status.success(), "{target}: {}", err(&o));
        assert!(out(&o).contains(&format!("written  /{sv}/redis@b/down")), "{target}: {}", out(&o));
        for i in ["a", "b"] {
            assert!(dir(i).join("down").is_file(), "{target}: disable holds redis@{i} down");
            assert!(
                fs::symlink_metadata(root.path().join(format!("{scan}/redis@{i}"))).is_ok(),
                "{target}: still linked"
            );
        }
        assert!(out(&run(&["list", "--installed", "--root", r])).contains("not enabled\n"), "{target}");
        // A second install of a disabled instance keeps it disabled.
        assert!(run(&["install", "redis@a", "--target", target, "--root", r]).status.success());
        assert!(dir("a").join("down").is_file(), "{target}: a reinstall does not enable");
        assert!(run(&["uninstall", "redis", "--root", r]).status.success());
        assert_eq!(tree(root.path()), before, "{target}: uninstall takes the links and down files too");
    }
}

#[test]
fn one_install_sets_each_instance_its_own_values() {
    let root = host();
    let r = root.path().to_str().unwrap();
    let o = run(&[
        "install",
        "redis@a",
        "redis@b",
        "--root",
        r,
        "--set",
        "bind=0.0.0.0",
        "--set",
        "a:port=17011",
        "--set",
        "b:port=17012",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let values = |i: &str| -> Vec<String> {
        fs::read_to_string(root.path().join("etc/default/redis.d").join(i))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(values("a"), ["port=17011", "bind=0.0.0.0"]);
    assert_eq!(values("b"), ["port=17012", "bind=0.0.0.0"]);

    let before = tree(root.path());
    let o = run(&["install", "redis@a", "--root", r, "--set", "b:port=1", "--set", "a:nope=2"]);
    assert!(!o.status.success());
    let e = err(&o);
    assert!(e.contains("--set b:port: `b` is not an instance being installed (this install is of a)"), "{e}");
    assert!(e.contains("--set nope: recipe `redis` has no variable `nope`"), "{e}");
    assert_eq!(tree(root.path()), before, "a refused --set changes nothing");
}

#[test]
fn what_an_image_lacks_is_a_warning_read_from_its_own_files() {
    let root = host();
    let r = root.path().to_str().unwrap();
    let etc = root.path().join("etc");
    fs::write(etc.join("passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    fs::write(etc.join("group"), "root:x:0:\n").unwrap();
    let o = run(&["install", "memcached", "--root", r]);
    assert!(o.status.success(), "an image may get its packages later: {}", err(&o));
    let e = err(&o);
    assert!(
        e.contains(
            "warning: user `memcache` does not exist: install the package that creates it, or give --create-user"
        ),
        "{e}"
    );
    assert!(e.contains(&format!("warning: the executable `/usr/bin/memcached` is not there or not executable ({r}/usr/bin/memcached checked)")), "{e}");
    assert!(run(&["uninstall", "memcached", "--root", r]).status.success());

    fs::write(etc.join("passwd"), "root:x:0:0::/root:/bin/sh\nmemcache:x:100:100::/nonexistent:/bin/false\n").unwrap();
    fs::create_dir_all(root.path().join("usr/bin")).unwrap();
    fs::write(root.path().join("usr/bin/memcached"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(root.path().join("usr/bin/memcached"), fs::Permissions::from_mode(0o755)).unwrap();
    let o = run(&["install", "memcached", "--root", r]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(err(&o), "", "nothing is missing any more");
}

/// A host root with account databases of root alone, when this test run can
/// make accounts in it (root, with useradd); `None`, said loudly, otherwise.
fn accounts_root() -> Option<tempfile::TempDir> {
    let has_useradd = Command::new("useradd").arg("--help").output().is_ok();
    let is_root = fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    if !(has_useradd && is_root) {
        assert!(std::env::var("CI").is_err(), "CI runs as root with useradd");
        eprintln!("SKIPPED: --create-user needs root and useradd");
        return None;
    }
    let root = host();
    let etc = root.path().join("etc");
    fs::write(etc.join("passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    fs::write(etc.join("group"), "root:x:0:\n").unwrap();
    fs::write(etc.join("shadow"), "").unwrap();
    fs::write(etc.join("gshadow"), "").unwrap();
    Some(root)
}

#[test]
fn create_user_makes_a_system_account_in_the_root() {
    let Some(root) = accounts_root() else { return };
    let r = root.path().to_str().unwrap();
    let etc = root.path().join("etc");
    let o = run(&["install", "redis@a", "--root", r, "--create-user"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("note  created the system group redis"), "{}", out(&o));
    assert!(out(&o).contains("note  created the system user redis"), "{}", out(&o));
    let passwd = fs::read_to_string(etc.join("passwd")).unwrap();
    let line = passwd.lines().find(|l| l.starts_with("redis:")).expect("redis in the root's passwd");
    assert!(line.ends_with(":/nonexistent:/usr/sbin/nologin"), "{line}");
    assert!(fs::read_to_string(etc.join("group")).unwrap().lines().any(|l| l.starts_with("redis:")));
    assert!(!err(&o).contains("user `redis`"), "{}", err(&o));
}

/// Two services of one app run as one user (`new --from` writes them so):
/// the account initkit made for the first goes with the last one uninstalled.
#[test]
fn an_account_two_services_share_goes_with_the_last_one() {
    let Some(root) = accounts_root() else { return };
    let r = root.path().to_str().unwrap();
    let etc = root.path().join("etc");
    let has_user = || fs::read_to_string(etc.join("passwd")).unwrap().lines().any(|l| l.starts_with("shop:"));
    for kind in ["web", "worker"] {
        let recipe = root.path().join(format!("shop-{kind}.toml"));
        fs::write(
            &recipe,
            format!(
                "name = \"shop-{kind}\"\nsummary = \"s\"\n[run]\ncommand = [\"/bin/sleep\", \"9\"]\nuser = \"shop\"\n"
            ),
        )
        .unwrap();
        let o = run(&["install", recipe.to_str().unwrap(), "--root", r, "--target", "sysv", "--create-user"]);
        assert!(o.status.success(), "{}", err(&o));
        assert_eq!(out(&o).contains("note  created the system user shop"), kind == "web", "{}", out(&o));
    }
    let o = run(&["uninstall", "shop-web", "--root", r, "--purge"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("note  kept the system user shop initkit made: `shop-worker` runs as it too, and uninstalling that one removes it (with --purge)\n"),
        "{}",
        out(&o)
    );
    assert!(has_user(), "shop-worker still runs as shop");
    let o = run(&["uninstall", "shop-worker", "--root", r, "--purge"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("  removed  the system user shop initkit made (--purge)\n"), "{}", out(&o));
    assert!(!has_user(), "the last service took the account with it");
}

#[test]
fn uninstall_names_the_data_it_keeps_and_purge_removes_it_without_following_links() {
    let root = host();
    let r = root.path().to_str().unwrap();
    let p = root.path();
    assert!(run(&["install", "redis@a", "redis@b", "--root", r, "--target", "sysv"]).status.success());
    for f in ["var/lib/redis/a/dump.rdb", "var/lib/redis/b/dump.rdb", "var/log/initkit/redis/a.log"] {
        fs::create_dir_all(p.join(f).parent().unwrap()).unwrap();
        fs::write(p.join(f), "data").unwrap();
    }
    let o = run(&["uninstall", "redis@a", "--root", r]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("     kept  /var/lib/redis/a (data and logs; --purge removes it)\n"), "{}", out(&o));
    assert!(out(&o).contains("     kept  /var/log/initkit/redis/a.log"), "{}", out(&o));
    assert!(!out(&o).contains("/var/lib/redis/b"), "b is not being uninstalled: {}", out(&o));
    assert!(p.join("var/lib/redis/a/dump.rdb").exists());

    // b's state is a link to a directory elsewhere: purge removes the link, not what it points to.
    let elsewhere = tempfile::tempdir().unwrap();
    fs::write(elsewhere.path().join("keep"), "x").unwrap();
    fs::remove_dir_all(p.join("var/lib/redis/b")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), p.join("var/lib/redis/b")).unwrap();
    let o = run(&["uninstall", "redis", "--root", r, "--purge"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("  removed  /var/lib/redis/b (--purge)\n"), "{}", out(&o));
    assert!(out(&o).contains("  removed  /var/log/initkit/redis (--purge)\n"), "{}", out(&o));
    assert!(fs::symlink_metadata(p.join("var/lib/redis/b")).is_err());
    assert!(!p.join("var/log/initkit/redis").exists());
    assert!(elsewhere.path().join("keep").exists(), "a link is never followed");
    assert!(p.join("var/lib/redis/a/dump.rdb").exists(), "a is no longer installed: not purged with redis");
}

#[test]
fn purge_leaves_a_directory_a_package_owns() {
    let root = host();
    let r = root.path().to_str().unwrap();
    let p = root.path();
    assert!(run(&["install", "nginx", "--root", r, "--target", "sysv"]).status.success());
    fs::create_dir_all(p.join("var/lib/nginx/proxy")).unwrap();
    fs::create_dir_all(p.join("var/log/nginx")).unwrap();
    fs::create_dir_all(p.join("var/lib/dpkg/info")).unwrap();
    // dpkg's own list names the directory; a longer path that merely starts with it does not count.
    fs::write(p.join("var/lib/dpkg/info/nginx-common.list"), "/.\n/var\n/var/lib\n/var/lib/nginx\n/var/log/nginxx\n")
        .unwrap();
    let o = run(&["uninstall", "nginx", "--root", r, "--purge"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("     kept  /var/lib/nginx (the package nginx-common owns it; --purge leaves it)\n"),
        "{}",
        out(&o)
    );
    assert!(out(&o).contains("  removed  /var/log/nginx (--purge)\n"), "{}", out(&o));
    assert!(p.join("var/lib/nginx/proxy").is_dir(), "what the package owns stays, with what is in it");
    assert!(!p.join("var/log/nginx").exists());
}

#[test]
fn purge_keeps_a_package_directory_that_every_instance_shares() {
    let root = host();
    let r = root.path().to_str().unwrap();
    let p = root.path();
    for spec in ["postgresql@a", "postgresql@b"] {
        let o = run(&["install", spec, "--root", r, "--target", "sysv"]);
        assert!(o.status.success(), "{}", err(&o));
    }
    fs::create_dir_all(p.join("var/lib/postgresql/15/a")).unwrap();
    fs::create_dir_all(p.join("run/postgresql")).unwrap();
    fs::create_dir_all(p.join("var/lib/dpkg/info")).unwrap();
    fs::write(p.join("var/lib/dpkg/info/postgresql-common.list"), "/var/lib\n/var/lib/postgresql\n").unwrap();
    let o = run(&["uninstall", "postgresql", "--root", r, "--purge"]);
    assert!(o.status.success(), "{}", err(&o));
    // Both instances name the same directories: each is seen, and kept or purged, once.
    for path in ["/var/lib/postgresql ", "/run/postgresql "] {
        assert_eq!(out(&o).matches(path).count(), 1, "{path}once:\n{}", out(&o));
    }
    assert!(out(&o).contains("     kept  /var/lib/postgresql (the package postgresql-common owns it"), "{}", out(&o));
    assert!(p.join("var/lib/postgresql/15/a").is_dir(), "the package's directory stays with what is in it");
    assert!(!p.join("run/postgresql").exists());
}

#[test]
fn sysv_enables_a_script_as_a_whole_and_refuses_one_instance() {
    let root = host();
    let r = root.path().to_str().unwrap();
    for spec in ["redis@a", "redis@b"] {
        let o = run(&["install", spec, "--root", r, "--target", "sysv", "--enable", "--set", "port=17003"]);
        assert!(o.status.success(), "{}", err(&o));
    }
    let enabled = tree(root.path());
    let o = run(&["disable", "redis@a", "--root", r]);
    assert!(!o.status.success());
    assert!(err(&o).contains("cannot be disabled alone"), "{}", err(&o));
    assert_eq!(tree(root.path()), enabled, "a refused disable changes nothing");

    assert!(run(&["disable", "redis", "--root", r]).status.success());
    assert!(fs::symlink_metadata(root.path().join("etc/rc2.d/S01redis")).is_err());
    assert!(out(&run(&["list", "--installed", "--root", r])).contains("not enabled"));
    assert!(run(&["enable", "redis", "--root", r]).status.success());
    assert_eq!(tree(root.path()), enabled);
}

#[test]
fn a_second_identical_install_changes_nothing_and_says_so() {
    let root = host();
    let r = root.path().to_str().unwrap();
    assert!(run(&["install", "memcached@x", "--root", r, "--enable"]).status.success());
    let first = tree(root.path());
    let o = run(&["install", "memcached@x", "--root", r, "--enable"]);
    assert!(o.status.success());
    assert!(out(&o).contains("nothing to do: memcached is installed and up to date"), "{}", out(&o));
    assert_eq!(tree(root.path()), first);
}

#[test]
fn an_edited_file_is_not_replaced_without_force_and_is_backed_up_with_it() {
    let root = host();
    let r = root.path().to_str().unwrap();
    assert!(run(&["install", "haproxy", "--root", r]).status.success());
    let unit = root.path().join("etc/systemd/system/haproxy.service");
    fs::write(&unit, "# my edit\n").unwrap();
    let before = tree(root.path());
    let o = run(&["install", "haproxy", "--root", r]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        errors(&o),
        "error: /etc/systemd/system/haproxy.service was changed since initkit wrote it; use --force to replace it (a backup is kept)\nnothing was written\n"
    );
    assert_eq!(tree(root.path()), before, "a refused install wrote something");
    let o = run(&["install", "haproxy", "--root", r, "--force"]);
    assert!(o.status.success(), "{}", err(&o));
    let backups: Vec<_> =
        fs::read_dir(root.path().join("var/lib/initkit/backups/etc/systemd/system")).unwrap().collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(fs::read_to_string(backups[0].as_ref().unwrap().path()).unwrap(), "# my edit\n");
}

#[test]
fn a_file_initkit_did_not_write_is_refused_then_restored_on_uninstall() {
    let root = host();
    let r = root.path().to_str().unwrap();
    fs::write(root.path().join("etc/init.d/memcached"), "#!/bin/sh\n# Debian's own\n").unwrap();
    let before = tree(root.path());
    let o = run(&["install", "memcached@m", "--root", r, "--target", "sysv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("/etc/init.d/memcached exists and initkit did not write it"), "{}", err(&o));
    assert_eq!(tree(root.path()), before);
    assert!(run(&["install", "memcached@m", "--root", r, "--target", "sysv", "--force"]).status.success());
    assert!(run(&["uninstall", "memcached", "--root", r]).status.success());
    assert_eq!(tree(root.path()), before);
}

#[test]
fn dry_run_shows_a_diff_and_writes_nothing() {
    let root = host();
    let r = root.path().to_str().unwrap();
    let before = tree(root.path());
    let o = run(&["install", "redis@c", "--root", r, "--set", "port=6390", "--enable", "--dry-run"]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.contains("--- /dev/null\n+++ /etc/default/redis.d/c\n"), "{text}");
    assert!(text.contains("+port=6390\n"), "{text}");
    assert!(
        text.contains(
            "link /etc/systemd/system/multi-user.target.wants/redis@c.service -> /etc/systemd/system/redis@.service"
        ),
        "{text}"
    );
    assert_eq!(tree(root.path()), before);
}

#[test]
fn bad_input_is_refused_with_every_problem_and_nothing_written() {
    let root = host();
    let r = root.path().to_str().unwrap();
    let before = tree(root.path());
    let o = run(&["install", "redis@a", "--root", r, "--set", "prot=1", "--set", "port=1\nExecStartPre=/bin/sh"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        errors(&o),
        "error: --set prot: recipe `redis` has no variable `prot` (it has: config, port, bind)\n\
         error: --set port: the value contains a newline, which this field cannot hold; this field is one line (write longer text in `description`)\n\
         nothing was written\n"
    );
    // Any one-line value is data: quoted the way systemd's EnvironmentFile= reads it.
    let o = run(&["install", "redis@a", "--root", r, "--set", "bind=$HOME 'x' \"y\" `z` \\ end"]);
    assert!(o.status.success(), "{}", err(&o));
    let settings = fs::read_to_string(root.path().join("etc/default/redis.d/a")).unwrap();
    assert!(settings.contains("\nbind=\"\\$HOME 'x' \\\"y\\\" \\`z\\` \\\\ end\"\n"), "{settings}");
    assert!(run(&["uninstall", "redis", "--root", r]).status.success());
    let o = run(&["install", "redis@a", "--root", "/nonexistent-initkit-root"]);
    assert_eq!(
        err(&o),
        "error: --root /nonexistent-initkit-root does not exist or is not a directory; nothing was written\n"
    );
    let o = run(&["install", "nginx@x", "--root", r]);
    assert_eq!(err(&o), "error: recipe `nginx` has no [instances]; install it as `nginx`\n");
    let o = run(&["uninstall", "redis@zzz", "--root", r]);
    assert_eq!(err(&o), format!("error: `redis` is not installed under {r}\n"));
    assert_eq!(tree(root.path()), before);
}

#[test]
fn without_privilege_nothing_is_written() {
    if !common::require_root("running install as an unprivileged user") {
        return;
    }
    let root = host();
    let r = root.path().to_str().unwrap();
    fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let before = tree(root.path());
    let o = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_initkit"))
        .args(["install", "redis@a", "--root", r])
        .env("XDG_CONFIG_HOME", "/nonexistent-initkit-test")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).starts_with("error: no permission to write "), "{}", err(&o));
    assert!(err(&o).ends_with("(run as root); nothing was written\n"), "{}", err(&o));
    assert_eq!(tree(root.path()), before);
}
