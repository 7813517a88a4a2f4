//! Static validators on every rendered artifact: shellcheck for scripts,
//! systemd-analyze verify and security for units.

mod common;

use std::{fs, process::Command};

use initkit::render::{Flavor, Options, RenderError, Target, render};

#[test]
fn every_script_of_every_target_passes_shellcheck() {
    if !common::require_tool("shellcheck", "the rendered scripts' shellcheck run") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let catalogue: Vec<String> = common::catalogue().into_iter().map(|r| r.name).collect();
    for recipe in common::catalogue().into_iter().chain(common::feature_recipes()) {
        // The RHEL flavour changes paths and headers, not code: the recipes the
        // renderers were built around cover it; every recipe is checked for Debian.
        let flavors = if initkit::catalogue::EVERY_TARGET.contains(&recipe.name.as_str()) {
            &Flavor::ALL[..]
        } else {
            &Flavor::ALL[..1]
        };
        for target in Target::ALL {
            for &flavor in flavors {
                let options = Options { flavor, ..common::options_for(&recipe) };
                let artifacts = match render(&recipe, target, &options) {
                    Ok(a) => a,
                    Err(RenderError::Unsupported { .. }) if !catalogue.contains(&recipe.name) => continue,
                    Err(e) => panic!("{}: {e}", recipe.name),
                };
                for (i, artifact) in artifacts.iter().enumerate() {
                    if artifact.content.starts_with("#!/bin/sh") || artifact.content.starts_with("#!/sbin/openrc-run") {
                        let path = dir.path().join(format!("{}-{}-{}-{i}", recipe.name, target.name(), flavor.name()));
                        fs::write(&path, &artifact.content).unwrap();
                        files.push(path);
                    }
                }
            }
        }
    }
    // The trial start's setup, which the scripts and the front-end hand to `sh -c`.
    let setup = dir.path().join("trial-setup");
    fs::write(&setup, format!("#!/bin/sh\n{}\n", initkit::render::facts::TRIAL_SETUP)).unwrap();
    files.push(setup);
    // sysv 1, runit 3-4, s6 3, daemontools 2, supervisord 1, openrc 1 script each.
    let recipes = common::catalogue().len();
    assert!(files.len() > recipes * 8, "only {} scripts were rendered", files.len());
    // POSIX sh, every severity (style included); one run per core, side by side.
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = files
            .chunks(files.len().div_ceil(cores))
            .map(|chunk| {
                scope.spawn(move || {
                    Command::new("shellcheck").args(["-s", "sh", "-S", "style"]).args(chunk).output().unwrap()
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap())
            .filter(|out| !out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
            .collect()
    });
    assert!(failures.is_empty(), "shellcheck failed:\n{}", failures.join("\n"));
}

/// Renders each unit into a directory named like a real unit directory, with
/// an instance link for templates (verify needs a unit it can load).
fn units() -> (tempfile::TempDir, Vec<(String, String, f64)>) {
    let dir = tempfile::tempdir().unwrap();
    let mut units = Vec::new();
    for recipe in common::catalogue().into_iter().chain(common::feature_recipes()) {
        let artifacts = render(&recipe, Target::Systemd, &common::options_for(&recipe)).unwrap();
        // Its timer or socket beside it, for verify to load what they start.
        for other in &artifacts[1..] {
            if other.path.contains("/systemd/") {
                fs::write(dir.path().join(other.path.rsplit('/').next().unwrap()), &other.content).unwrap();
            }
        }
        let unit = &artifacts[0];
        let file = unit.path.rsplit('/').next().unwrap().to_owned();
        fs::write(dir.path().join(&file), &unit.content).unwrap();
        let loadable = if file.ends_with("@.service") {
            let instance = file.replace("@.service", "@test.service");
            fs::write(dir.path().join(&instance), &unit.content).unwrap();
            instance
        } else {
            file
        };
        units.push((recipe.name.clone(), loadable, recipe.systemd.exposure_max));
    }
    (dir, units)
}

/// The absolute programs a unit's `Exec*=` lines run.
fn executables(unit: &str) -> Vec<String> {
    unit.lines()
        .filter(|l| l.starts_with("Exec"))
        .filter_map(|l| l.split_once('=').map(|(_, v)| v))
        .filter_map(|v| v.trim_start_matches(['-', '@', ':', '+', '!']).split_whitespace().next())
        .filter(|p| p.starts_with('/'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_unit_passes_systemd_analyze_verify_with_empty_stderr() {
    if !common::require_tool("systemd-analyze", "systemd-analyze verify of the units") {
        return;
    }
    let (dir, units) = units();
    for (name, unit, _) in &units {
        // verify loads the programs the unit runs: one not installed here
        // skips that unit loudly (and fails under CI, which installs them).
        let text = fs::read_to_string(dir.path().join(unit)).unwrap();
        if !executables(&text).iter().all(|p| common::require_tool(p, &format!("systemd-analyze verify of {name}"))) {
            continue;
        }
        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(format!("./{unit}"))
            .current_dir(dir.path())
            .output()
            .unwrap();
        // An unknown key only warns with exit 0: any stderr is a failure.
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "systemd-analyze verify {name}: exit {:?}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(units.len(), common::catalogue().len() + common::feature_recipes().len());
}

#[test]
fn every_unit_scores_at_or_below_its_recipes_exposure_threshold() {
    if !common::require_tool("systemd-analyze", "the units' security scores") {
        return;
    }
    let (dir, units) = units();
    for (name, unit, max) in &units {
        let out = Command::new("systemd-analyze")
            // The threshold is in tenths: 2.0 is 20.
            .args(["security", "--offline=true", &format!("--threshold={}", (max * 10.0).round())])
            .arg(format!("./{unit}"))
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let score = text.lines().find_map(|l| l.split("Overall exposure level for ").nth(1)).unwrap_or("?").to_owned();
        assert!(out.status.success(), "{name}: exposure {score} is above the recipe's {max}");
    }
}

#[test]
fn the_test_suites_and_ci_pass_shellcheck() {
    if !common::require_tool("shellcheck", "shellcheck of the e2e suites") {
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<std::path::PathBuf> = fs::read_dir(root.join("tests/e2e"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    files.push(root.join(".ci/run"));
    files.push(root.join("bench/run.sh"));
    assert!(files.len() >= 8, "{files:?}");
    let out = Command::new("shellcheck")
        .args(["-x", "--source-path=SCRIPTDIR", "-S", "style"])
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "shellcheck failed:\n{}", String::from_utf8_lossy(&out.stdout));
}
