//! The safety defects of issue 8, each shown fixed: names never leave their
//! directory, two instances never share a file.

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    process::Output,
};

use common::initkit;
use initkit::render::{Options, Target, artifacts, sysv_instance_file};

fn run(args: &[&str]) -> Output {
    initkit().args(args).env("XDG_CONFIG_HOME", "/nonexistent-initkit-test").output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
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
                    let mut paths: BTreeSet<String> =
                        artifacts(recipe, target, &options).unwrap().into_iter().map(|a| a.path).collect();
                    paths.insert(sysv_instance_file(recipe, &options, name).path);
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
