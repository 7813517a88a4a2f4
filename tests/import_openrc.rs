//! `initkit import` of OpenRC scripts: fixtures with their conf.d files read
//! into recipes with a report line per setting, initkit's own scripts read
//! back exactly, and any script-shaped text read without a panic.

mod common;

use std::{fs, path::Path, process::Output};

use initkit::{
    import::{self, Format, Source},
    recipe::{Recipe, Reload, RunKind, Test, parse_recipe},
    render::{Target, render},
};
use proptest::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import/openrc");

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `import --json` of one script in `dir`: its recipe (parsed) and its import.
fn import_json_in(dir: &Path, path: &str) -> (Recipe, serde_json::Value) {
    let o = common::initkit().args(["import", "--json", path]).current_dir(dir).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let [i] = json["imports"].as_array().unwrap().as_slice() else { panic!("one import: {json:#}") };
    (parse_recipe(Path::new("x.toml"), i["recipe"].as_str().unwrap()).unwrap(), i.clone())
}

fn import_json(path: &str) -> (Recipe, serde_json::Value) {
    import_json_in(Path::new(FIXTURES), path)
}

fn strings<T: ToString>(v: &[T]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

/// The report's last entry for a setting: `(file:line, outcome)`.
fn entry(import: &serde_json::Value, setting: &str) -> (String, String) {
    let e = import["report"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["setting"] == setting)
        .unwrap_or_else(|| panic!("no report entry for {setting}: {import:#}"));
    (format!("{}:{}", e["file"].as_str().unwrap(), e["line"]), e["outcome"].as_str().unwrap().to_owned())
}

fn vars(r: &Recipe) -> Vec<(String, String)> {
    r.vars.iter().map(|v| (v.name.clone(), v.default.to_string())).collect()
}

fn deps(d: &[initkit::recipe::Dep]) -> Vec<String> {
    strings(d)
}

fn needs(r: &Recipe) -> Vec<&'static str> {
    r.needs.iter().map(|n| n.name()).collect()
}

/// The part of initkit's script that reads the literal environment values
/// from their root-only file: those values are not in the script.
fn without_env_file(script: &str) -> String {
    let mut out = String::new();
    let mut skip = false;
    for line in script.lines() {
        if line.starts_with("ENV_FILE=") {
            continue;
        }
        if line.trim() == "ik_env_file=\"$ENV_FILE\"" {
            skip = true;
        }
        if !skip {
            out.push_str(line);
            out.push('\n');
        }
        if skip && line.trim() == "fi" {
            skip = false;
        }
    }
    out
}

/// Every catalogue recipe rendered for OpenRC and imported back renders the
/// same script, byte for byte (but for the literal environment, which lives
/// in its own root-only file): the same command, user, group, settings,
/// directories, check, hooks, readiness, reload and stop.
#[test]
fn every_catalogue_script_imports_back_to_the_same_script() {
    let mut literal_env = 0;
    for recipe in common::catalogue() {
        let options = common::options_for(&recipe);
        let script = &render(&recipe, Target::Openrc, &options).unwrap()[0];
        assert!(script.path.contains("/init.d/"), "{}", script.path);
        let imported = import::import(&Source::new(&script.path, &script.content), Format::Auto)
            .unwrap_or_else(|p| panic!("{}: {p:?}", recipe.name));
        assert_eq!(imported[0].format, Format::Openrc);
        let back = parse_recipe(Path::new("x.toml"), &imported[0].recipe)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", recipe.name, imported[0].recipe));
        assert_eq!((back.name.as_str(), back.summary.as_str()), (recipe.name.as_str(), recipe.summary.as_str()));
        assert_eq!(strings(&back.run.command), strings(&recipe.run.command), "{}", recipe.name);
        assert_eq!((&back.run.user, &back.run.group), (&recipe.run.user, &recipe.run.group), "{}", recipe.name);
        assert_eq!(back.run.kind, recipe.run.kind, "{}", recipe.name);
        assert_eq!(back.reload, recipe.reload, "{}", recipe.name);
        assert_eq!(back.check.as_ref().map(|c| &c.test), recipe.check.as_ref().map(|c| &c.test), "{}", recipe.name);
        assert_eq!((back.stop.signal, back.stop.timeout_ms), (recipe.stop.signal, recipe.stop.timeout_ms));
        assert_eq!(back.instances, recipe.instances, "{}", recipe.name);
        let again = &render(&back, Target::Openrc, &common::options_for(&back)).unwrap()[0];
        let has_literal_env = imported[0].report.entries.iter().any(|e| e.setting == "environment");
        if has_literal_env {
            literal_env += 1;
            assert_eq!(without_env_file(&again.content), without_env_file(&script.content), "{}", recipe.name);
        } else {
            assert_eq!(again.content, script.content, "{}", recipe.name);
        }
    }
    assert!(literal_env < 10, "the comparison left out the environment of {literal_env} recipes");
}
