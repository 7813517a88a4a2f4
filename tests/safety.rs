//! The safety defects of issue 8, each shown fixed: names never leave their
//! directory, two instances never share a file.

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::Path,
    process::Output,
};

use common::initkit;
use initkit::render::{Options, Target, artifacts, settings_file};

fn run(args: &[&str]) -> Output {
    initkit().args(args).env("XDG_CONFIG_HOME", "/nonexistent-initkit-test").output().unwrap()
}

/// Stderr without the warnings about what a scratch root lacks (its
/// executables), which tests/install.rs checks.
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).lines().filter(|l| !l.starts_with("warning: ")).flat_map(|l| [l, "\n"]).collect()
}

/// A manifest planted outside the state directory, whose config test would
/// create `canary`; every command that takes a name must refuse the path
/// before reading it.
#[test]
fn a_name_that_is_a_path_never_reaches_the_state_directory() {
    let dir = tempfile::tempdir().unwrap();
    let canary = dir.path().join("canary");
    let recipe = format!(
        "name = \"x\"\nsummary = \"x\"\n[run]\ncommand = [\"/bin/sleep\", \"1\"]\nuser = \"root\"\n[check]\ncommand = [\"/usr/bin/touch\", \"{}\"]\n",
        canary.display()
    );
    let manifest = serde_json::json!({
        "recipe": "x", "target": "sysv", "flavor": "debian", "instances": [], "links": [], "created_dirs": [],
        "registered_with": null, "recipe_text": recipe,
        "files": [{"path": canary.join("victim").display().to_string(), "hash": "0", "backup": null, "instance": null}],
    });
    fs::write(dir.path().join("x.json"), manifest.to_string()).unwrap();
    fs::write(canary.with_file_name("victim"), "keep me").unwrap();
    let escape = format!("../../../..{}/x", dir.path().display());
    for args in [
        vec!["configtest", escape.as_str()],
        vec!["restart", escape.as_str()],
        vec!["status", escape.as_str()],
        vec!["uninstall", escape.as_str(), "--force"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("is not a recipe name"), "{args:?}: {}", stderr(&o));
        assert!(!canary.exists(), "{args:?} ran the planted config test");
        assert_eq!(fs::read_to_string(canary.with_file_name("victim")).unwrap(), "keep me");
    }
}

/// Every instance of every multi-instance catalogue recipe, on every target,
/// has files of its own: no two instances map to one path. What they share is
/// only the one script or unit that serves them all, on the targets that have one.
#[test]
fn two_instances_never_share_a_file_on_any_target() {
    let names = ["a", "A", "a-b", "a_b", "a.b", "a--b", "a..b", "_", "1", "a.", "a-", "b"];
    let mut checked = 0;
    for recipe in common::catalogue().iter().filter(|r| r.instances.is_some()) {
        for target in Target::ALL {
            let sets: Vec<BTreeSet<String>> = names
                .iter()
                .map(|name| {
                    let options = Options { instance: Some((*name).to_owned()), ..Options::default() };
                    // The environment file holds the service's literal values, the same for every instance.
                    let mut paths: BTreeSet<String> = artifacts(recipe, target, &options)
                        .unwrap()
                        .into_iter()
                        .filter(|a| !a.path.starts_with("/etc/initkit/env/"))
                        .map(|a| a.path)
                        .collect();
                    paths.insert(settings_file(recipe, target, &options, name).path);
                    paths
                })
                .collect();
            let shared: BTreeSet<String> =
                sets.iter().skip(1).fold(sets[0].clone(), |acc, s| acc.intersection(s).cloned().collect());
            assert_eq!(
                shared.is_empty(),
                target.per_instance(),
                "{} {}: shared {shared:?}",
                recipe.name,
                target.name()
            );
            let mut owner: BTreeMap<&String, &str> = BTreeMap::new();
            for (name, set) in names.iter().zip(&sets) {
                for path in set.difference(&shared) {
                    if let Some(first) = owner.insert(path, name) {
                        panic!("{} {}: {name:?} and {first:?} both map to {path}", recipe.name, target.name());
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} paths were compared");
    // Names that once mapped onto others (`a b` and `a_b` were one supervisord program) are refused.
    let redis = common::catalogue().into_iter().find(|r| r.name == "redis").unwrap();
    for bad in ["a b", "a/b", "..", "a:b", "a@b", "ä"] {
        for target in Target::ALL {
            let options = Options { instance: Some(bad.to_owned()), ..Options::default() };
            assert!(artifacts(&redis, target, &options).is_err(), "{bad:?} rendered for {}", target.name());
        }
    }
}

/// A newline in a one-line field once ran the next line as root in every
/// SysV action; it is refused, with the file, line, column and field.
#[test]
fn a_newline_in_a_one_line_field_is_refused_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.toml");
    fs::write(
        &path,
        "name = \"evil\"\nsummary = \"x\\ntouch /tmp/pwned\"\ndocumentation = [\"see the wiki\"]\n[run]\ncommand = [\"/bin/sleep\", \"1\"]\nuser = \"root\"\nworking_directory = \"/srv\\n[Service]\"\n",
    )
    .unwrap();
    let o = run(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let p = path.display();
    assert_eq!(
        stderr(&o),
        format!(
            "error: {p}:2:11: summary: contains a newline, which this field cannot hold; this field is one line (write longer text in `description`)\n  |\n2 | summary = \"x\\ntouch /tmp/pwned\"\n  |           ^^^^^^^^^^^^^^^^^^^^^\n\n\
             error: {p}:3:18: documentation[0]: `see the wiki` is not a documentation URI: write one starting with http://, https://, file:, info:, man:\n  |\n3 | documentation = [\"see the wiki\"]\n  |                  ^^^^^^^^^^^^^^\n\n\
             error: {p}:7:21: run.working_directory: contains a newline, which this field cannot hold\n  |\n7 | working_directory = \"/srv\\n[Service]\"\n  |                     ^^^^^^^^^^^^^^^^^\n\
             3 problem(s) in 1 file(s)\n"
        )
    );
}

/// A scratch root that looks like a Debian host with systemd running.
fn host_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    prepare_host(dir.path());
    dir
}

fn prepare_host(root: &Path) {
    for d in ["etc/init.d", "etc/systemd/system", "etc/default", "run/systemd/system", "var/lib"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(root.join("etc/os-release"), "ID=debian\n").unwrap();
}

/// Every path under `root` with its kind, mode, owner, time and content.
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, map: &mut BTreeMap<String, String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let m = fs::symlink_metadata(&path).unwrap();
            let who = format!("{:o} {}:{}", m.mode(), m.uid(), m.gid());
            if m.file_type().is_symlink() {
                map.insert(rel, format!("link {who} -> {}", fs::read_link(&path).unwrap().display()));
            } else if m.is_dir() {
                map.insert(rel, format!("dir {who}"));
                walk(root, &path, map);
            } else {
                let content = String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned();
                map.insert(rel, format!("file {who} mtime {}.{} {content}", m.mtime(), m.mtime_nsec()));
            }
        }
    }
    let mut map = BTreeMap::new();
    walk(root, root, &mut map);
    map
}

/// Ten, then twenty, parallel installs of different instances into one root:
/// every one is recorded; parallel uninstalls then leave the root as it was.
#[test]
fn parallel_installs_lose_no_record() {
    for n in [10, 20, 20] {
        let root = host_root();
        let r = root.path().to_str().unwrap().to_owned();
        let before = tree(root.path());
        let spawn = |args: Vec<String>| {
            initkit()
                .args(&args)
                .env("XDG_CONFIG_HOME", "/nonexistent-initkit-test")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        let children: Vec<_> = (0..n)
            .map(|i| {
                spawn(vec!["install".into(), format!("redis@i{i}"), "--root".into(), r.clone(), "--enable".into()])
            })
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        let manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(root.path().join("var/lib/initkit/installed/redis.json")).unwrap())
                .unwrap();
        assert_eq!(manifest["instances"].as_array().unwrap().len(), n, "{manifest}");
        assert_eq!(manifest["files"].as_array().unwrap().len(), n + 1, "{manifest}");
        assert_eq!(manifest["links"].as_array().unwrap().len(), n, "{manifest}");
        let children: Vec<_> = (0..n)
            .map(|i| spawn(vec!["uninstall".into(), format!("redis@i{i}"), "--root".into(), r.clone()]))
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        assert_eq!(tree(root.path()), before);
    }
}

/// A symlink initkit did not make (Debian's usual layout) is refused without
/// --force, kept as a link with --force, and put back by uninstall; a file
/// replaced with --force comes back with its owner, mode and time.
#[test]
fn foreign_links_and_files_come_back_exactly() {
    if !common::require_root("giving a file another owner") {
        return;
    }
    let root = host_root();
    let r = root.path().to_str().unwrap();
    let unit = root.path().join("etc/systemd/system/nginx.service");
    std::os::unix::fs::symlink("/lib/systemd/system/nginx.service", &unit).unwrap();
    let script = root.path().join("etc/init.d/memcached");
    fs::write(&script, "#!/bin/sh\n# the package's own\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o750)).unwrap();
    std::os::unix::fs::chown(&script, Some(1234), Some(2345)).unwrap();
    fs::File::options()
        .write(true)
        .open(&script)
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(978_307_200 + 17))
        .unwrap();
    let before = tree(root.path());

    let o = run(&["install", "nginx", "--root", r]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: /etc/systemd/system/nginx.service is a symlink to /lib/systemd/system/nginx.service that initkit did not make; use --force to replace it (the link is kept and restored on uninstall)\nnothing was written\n"
    );
    assert_eq!(tree(root.path()), before);
    assert!(run(&["install", "nginx", "--root", r, "--force"]).status.success());
    assert!(!fs::symlink_metadata(&unit).unwrap().file_type().is_symlink());
    assert!(run(&["install", "memcached@m", "--root", r, "--target", "sysv", "--force"]).status.success());
    assert!(fs::read_to_string(&script).unwrap().contains("Rendered by initkit"));
    for name in ["nginx", "memcached"] {
        let o = run(&["uninstall", name, "--root", r]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(tree(root.path()), before);
}

/// A full disk at any point of an install leaves no temporary, an error that
/// names the path and the operation, and a root that a retry completes and an
/// uninstall brings back exactly.
#[test]
fn a_full_disk_at_any_point_leaves_a_recoverable_root() {
    if !common::require_root("mounting a small tmpfs") {
        return;
    }
    let mnt = tempfile::tempdir().unwrap();
    let m = mnt.path();
    let mount = |size: &str| {
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(m)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mount failed");
    };
    let umount = || {
        let _ = std::process::Command::new("umount").arg(m).status();
    };
    let r = m.to_str().unwrap();
    let mut failures = 0;
    for (round, free_pages) in (0..14).enumerate() {
        mount("128k");
        prepare_host(m);
        let before = tree(m);
        // Leave `free_pages` pages free: each install step needs one or more.
        let avail = fs2_available(m);
        let filler = m.join("filler");
        let size = avail.saturating_sub(free_pages * 4096);
        fs::write(&filler, vec![0u8; usize::try_from(size).unwrap()]).unwrap();
        let o = run(&["install", "redis@a", "--root", r, "--enable"]);
        let leftovers: Vec<String> = tree(m).keys().filter(|k| k.contains("initkit-tmp")).cloned().collect();
        assert!(leftovers.is_empty(), "temporaries left behind: {leftovers:?}");
        if !o.status.success() {
            failures += 1;
            assert!(stderr(&o).contains("No space left on device"), "{}", stderr(&o));
            assert!(stderr(&o).contains(r), "the error names no path: {}", stderr(&o));
        }
        fs::remove_file(&filler).unwrap();
        if round % 2 == 0 {
            // Retry, then uninstall.
            let o = run(&["install", "redis@a", "--root", r, "--enable"]);
            assert!(o.status.success(), "retry: {}", stderr(&o));
            assert!(m.join("etc/systemd/system/redis@.service").exists());
        }
        let o = run(&["uninstall", "redis", "--root", r]);
        let nothing = stderr(&o).contains("is not installed");
        assert!(o.status.success() || nothing, "uninstall: {}", stderr(&o));
        let mut after = tree(m);
        after.remove("filler");
        assert_eq!(after, before, "round {round} ({free_pages} pages free)");
        umount();
    }
    assert!(failures >= 3, "only {failures} installs hit the full disk");
}

/// Free bytes on the file system holding `path`, from df.
fn fs2_available(path: &Path) -> u64 {
    let out = std::process::Command::new("df").args(["-B1", "--output=avail"]).arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().nth(1).unwrap().trim().parse().unwrap()
}

/// A damaged manifest names its file and the way out; the other services
/// still list; `uninstall --force` and `install --force` recover.
#[test]
fn a_damaged_manifest_is_reported_and_recovered() {
    let root = host_root();
    let r = root.path().to_str().unwrap();
    let before = tree(root.path());
    assert!(run(&["install", "redis@a", "--root", r]).status.success());
    assert!(run(&["install", "nginx", "--root", r, "--target", "systemd"]).status.success());
    let record = root.path().join("var/lib/initkit/installed/nginx.json");
    let text = fs::read_to_string(&record).unwrap();
    fs::write(&record, &text[..text.len() / 2]).unwrap();

    let o = run(&["list", "--installed", "--root", r]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "redis  (systemd debian, 2 files, 0 links)  instances: a  not enabled\n"
    );
    let p = record.display();
    assert!(stderr(&o).starts_with(&format!("error: {p} is damaged (")), "{}", stderr(&o));
    assert!(stderr(&o).contains("`initkit uninstall nginx --force` removes what it still names"), "{}", stderr(&o));

    let o = run(&["uninstall", "nginx", "--root", r]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is damaged"), "{}", stderr(&o));
    let o = run(&["install", "nginx", "--root", r, "--target", "systemd", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("was damaged"));
    let text = fs::read_to_string(&record).unwrap();
    fs::write(&record, &text[..text.len() / 2]).unwrap();
    let o = run(&["uninstall", "nginx", "--root", r, "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!root.path().join("etc/systemd/system/nginx.service").exists());
    assert!(run(&["uninstall", "redis", "--root", r]).status.success());
    assert_eq!(tree(root.path()), before);
}

/// Settings and the installed recipe are private to root; the manifest,
/// readable by all, carries no recipe text.
#[test]
fn settings_and_the_installed_recipe_are_private() {
    let root = host_root();
    let r = root.path().to_str().unwrap();
    assert!(run(&["install", "redis@a", "--root", r, "--set", "bind=10.0.0.1"]).status.success());
    let mode = |p: &str| fs::metadata(root.path().join(p)).unwrap().mode() & 0o777;
    assert_eq!(mode("etc/default/redis.d/a"), 0o600);
    assert_eq!(mode("var/lib/initkit/installed/redis.toml"), 0o600);
    assert_eq!(mode("var/lib/initkit/installed/redis.json"), 0o644);
    let manifest = fs::read_to_string(root.path().join("var/lib/initkit/installed/redis.json")).unwrap();
    assert!(!manifest.contains("recipe_text") && !manifest.contains("redis-server"), "{manifest}");
}
