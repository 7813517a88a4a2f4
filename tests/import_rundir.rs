//! `initkit import` of runit and s6 service directories: hand-written ones
//! (chpst and env/, log/run and finish, execline with notification-fd and
//! dependencies.d) read with a report line for each file and setting, any
//! run file read without a panic, and initkit's own directories read back
//! to the recipe they were rendered from.

mod common;

use std::{path::Path, process::Output};

use initkit::{
    import::{self, Format, Source},
    recipe::{Recipe, parse_recipe},
    render::{Artifact, Target, render},
};
use proptest::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import");

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `import DIR --json` in the fixtures: the one recipe (parsed) and its import.
fn import_dir(dir: &str) -> (Recipe, serde_json::Value) {
    let o = common::initkit().args(["import", dir, "--json"]).current_dir(FIXTURES).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["problems"].as_array().unwrap().len(), 0, "{json:#}");
    let imports = json["imports"].as_array().unwrap();
    assert_eq!(imports.len(), 1, "{json:#}");
    let recipe = parse_recipe(Path::new("x.toml"), imports[0]["recipe"].as_str().unwrap()).unwrap();
    (recipe, imports[0].clone())
}

fn command(r: &Recipe) -> Vec<String> {
    r.run.command.iter().map(ToString::to_string).collect()
}

/// The report's entry for a setting: `(file:line, outcome)`.
fn entry(import: &serde_json::Value, setting: &str) -> (String, String) {
    let e = import["report"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["setting"] == setting)
        .unwrap_or_else(|| panic!("no report entry for {setting}: {import:#}"));
    (format!("{}:{}", e["file"].as_str().unwrap(), e["line"]), e["outcome"].as_str().unwrap().to_owned())
}

/// A rendered service directory as the CLI reads it: its run file with the others beside it.
fn source_of(artifacts: &[Artifact]) -> Source {
    let run = artifacts.iter().find(|a| a.path.ends_with("/run") && !a.path.ends_with("/log/run")).unwrap();
    let dir = run.path.strip_suffix("run").unwrap();
    let mut src = Source::new(&run.path, &run.content);
    src.extra = artifacts
        .iter()
        .filter(|a| a.path != run.path && a.path.starts_with(dir))
        .map(|a| Source::new(&a.path, &a.content))
        .collect();
    src
}

/// Where the two renders may differ: the literal environment values, which
/// live outside the directory, are read from the same file by its path.
fn normalised(a: &Artifact, recipe: &Recipe) -> String {
    let env_file = format!("/etc/initkit/env/{}", recipe.name);
    a.content
        .lines()
        .filter(|l| *l != format!("ENV_FILE={env_file}"))
        .map(|l| l.replace("ik_env_file=\"$ENV_FILE\"", &format!("ik_env_file={env_file}")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn round_trip(target: Target, format: Format) {
    for recipe in common::catalogue() {
        let options = common::options_for(&recipe);
        let artifacts = render(&recipe, target, &options).unwrap();
        let imported =
            import::import(&source_of(&artifacts), format).unwrap_or_else(|p| panic!("{}: {p:?}", recipe.name));
        let back = parse_recipe(Path::new("x.toml"), &imported[0].recipe)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", recipe.name, imported[0].recipe));
        assert_eq!(back.name, recipe.name);
        assert_eq!(back.run.user, recipe.run.user, "{}", recipe.name);
        assert_eq!(back.run.group, recipe.run.group, "{}", recipe.name);
        assert_eq!(imported[0].report.counts().2, 0, "{}: {}", recipe.name, imported[0].report.text());
        let again = render(&back, target, &common::options_for(&back)).unwrap();
        // The same files, but the literal environment values' own file, which
        // is not in the directory (the import reads it by its path).
        let env_file = format!("/etc/initkit/env/{}", recipe.name);
        let paths = |a: &[Artifact]| a.iter().map(|a| a.path.clone()).filter(|p| *p != env_file).collect::<Vec<_>>();
        assert_eq!(paths(&again), paths(&artifacts), "{}", recipe.name);
        for (a, b) in artifacts.iter().filter(|a| a.path != env_file).zip(&again) {
            assert_eq!(
                normalised(b, &back),
                normalised(a, &recipe),
                "{}: {}\n{}",
                recipe.name,
                a.path,
                imported[0].recipe
            );
        }
    }
}

#[test]
fn every_catalogue_runit_directory_imports_back_to_the_same_run_check_and_control_scripts() {
    round_trip(Target::Runit, Format::Runit);
}

#[test]
fn every_catalogue_s6_directory_imports_back_to_the_same_run_and_timeout_kill() {
    round_trip(Target::S6, Format::S6);
}
