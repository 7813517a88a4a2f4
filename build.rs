//! The catalogue is data: every `recipes/*.toml` is embedded in the binary,
//! with the init systems the end-to-end suites ran it on, and gets its golden
//! tests, with no list to edit when a recipe is added.

use std::{env, fmt::Write as _, fs, path::Path};

const TARGETS: [&str; 9] =
    ["Systemd", "Sysv", "Runit", "S6", "Daemontools", "Supervisord", "Openrc", "Upstart", "Launchd"];

/// The recipes the renderers were built around: golden for every target.
/// Every other recipe is golden for systemd and SysV, the targets people
/// install most; the static checks still render it for every target.
const EVERY_TARGET: [&str; 7] = ["haproxy", "mariadb", "memcached", "nginx", "php-fpm", "postgresql", "redis"];

/// Which init systems each recipe's real daemon ran on in the end-to-end
/// suites: each suite's `# proves on SYSTEMS: RECIPES` line, and SysV for a
/// recipe with a test description (the catalogue harness runs it there), and
/// systemd and runit too when the catalogue runs under them
/// (tests/e2e/catalogue_systemd.sh, catalogue_runit.sh) and the description
/// does not skip it there (`systemd_skip = "why"`, `runit_skip = "why"`,
/// which the harness reports as skips).
fn proven(names: &[String]) -> Vec<(String, Vec<String>)> {
    let mut suites: Vec<_> = fs::read_dir("tests/e2e")
        .expect("tests/e2e")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    suites.sort();
    let mut on: Vec<(String, Vec<String>)> = names.iter().map(|n| (n.clone(), Vec::new())).collect();
    for suite in &suites {
        for line in fs::read_to_string(suite).expect("a suite").lines() {
            let Some(rest) = line.strip_prefix("# proves on ") else { continue };
            let (systems, recipes) = rest.split_once(':').expect("`# proves on SYSTEMS: RECIPES`");
            for recipe in recipes.split_whitespace() {
                let Some(entry) = on.iter_mut().find(|(n, _)| n == recipe) else {
                    panic!("{}: `# proves on` names no recipe `{recipe}`", suite.display())
                };
                entry.1.extend(systems.split_whitespace().map(str::to_owned));
            }
        }
    }
    // The harness's other init systems: the suite that runs it there, and the
    // description's key that skips a recipe there.
    let others: Vec<_> =
        [("systemd", "catalogue_systemd.sh", "systemd_skip"), ("runit", "catalogue_runit.sh", "runit_skip")]
            .into_iter()
            .filter(|(_, suite, _)| Path::new("tests/e2e").join(suite).exists())
            .collect();
    for (name, systems) in &mut on {
        let description = Path::new("recipes/tests").join(format!("{name}.toml"));
        if let Ok(text) = fs::read_to_string(&description) {
            systems.push("SysV".to_owned());
            for (system, _, key) in &others {
                // Any such line counts: the doc never claims more than was run.
                let skipped = text
                    .lines()
                    .map(str::trim_start)
                    .any(|l| l.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('=')));
                if !skipped {
                    systems.push((*system).to_owned());
                }
            }
        }
        systems.sort();
        systems.dedup();
    }
    on
}

fn main() {
    println!("cargo:rerun-if-changed=recipes");
    println!("cargo:rerun-if-changed=tests/e2e");
    let mut names: Vec<String> = fs::read_dir("recipes")
        .expect("the recipes directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let out = env::var("OUT_DIR").expect("OUT_DIR");
    let mut catalogue =
        String::from("/// The recipes built into the binary, by name.\npub const EMBEDDED: &[(&str, &str)] = &[\n");
    let mut golden = String::from("golden! {\n");
    for name in &names {
        let _ = writeln!(
            catalogue,
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/recipes/{name}.toml\"))),"
        );
        let targets = if EVERY_TARGET.contains(&name.as_str()) { &TARGETS[..] } else { &TARGETS[..2] };
        for t in targets {
            let _ = writeln!(golden, "    {}_{}: {name:?}, {t};", name.replace('-', "_"), t.to_lowercase());
        }
    }
    let _ = write!(
        catalogue,
        "];\n\n/// The recipes the renderers were built around: the tests check every\n/// target and flavour on these, the common case on the rest.\npub const EVERY_TARGET: &[&str] = &{EVERY_TARGET:?};\n"
    );
    catalogue.push_str("\n/// The init systems each embedded recipe ran on in the end-to-end suites.\npub const PROVEN: &[(&str, &[&str])] = &[\n");
    for (name, systems) in proven(&names) {
        let _ = writeln!(catalogue, "    ({name:?}, &{systems:?}),");
    }
    catalogue.push_str("];\n");
    golden.push_str("}\n");
    fs::write(Path::new(&out).join("catalogue.rs"), catalogue).expect("writing catalogue.rs");
    fs::write(Path::new(&out).join("golden_cases.rs"), golden).expect("writing golden_cases.rs");
}
