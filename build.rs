//! The catalogue is data: every `recipes/*.toml` is embedded in the binary and
//! gets its golden tests, with no list to edit when a recipe is added.

use std::{env, fmt::Write as _, fs, path::Path};

const TARGETS: [&str; 9] =
    ["Systemd", "Sysv", "Runit", "S6", "Daemontools", "Supervisord", "Openrc", "Upstart", "Launchd"];

/// The recipes the renderers were built around: golden for every target.
/// Every other recipe is golden for systemd and SysV, the targets people
/// install most; the static checks still render it for every target.
const EVERY_TARGET: [&str; 7] = ["haproxy", "mariadb", "memcached", "nginx", "php-fpm", "postgresql", "redis"];

fn main() {
    println!("cargo:rerun-if-changed=recipes");
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
    catalogue.push_str("];\n");
    golden.push_str("}\n");
    fs::write(Path::new(&out).join("catalogue.rs"), catalogue).expect("writing catalogue.rs");
    fs::write(Path::new(&out).join("golden_cases.rs"), golden).expect("writing golden_cases.rs");
}
