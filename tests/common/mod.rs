//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod lex;

use std::{path::Path, process::Command};

use initkit::{catalogue::EMBEDDED, recipe::Recipe, recipe::parse_recipe, render::Options};

/// Whether `tool` can be run. Missing under `CI=true` is a failure; locally the
/// test is skipped, and says so loudly.
pub fn require_tool(tool: &str, why: &str) -> bool {
    let found =
        Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{tool} is required ({why}) and CI=true: .ci/run must install it"
    );
    eprintln!("\n!!!! SKIPPED: {tool} is not installed, so {why} was NOT checked !!!!\n");
    false
}

/// Root is needed to run init scripts for real; missing it fails under CI.
pub fn require_root(why: &str) -> bool {
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if uid.is_ok_and(|u| u == "0") {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "root is required ({why}) and CI=true");
    eprintln!("\n!!!! SKIPPED: not root, so {why} was NOT checked !!!!\n");
    false
}

/// Every catalogue recipe, parsed.
/// Options that render `recipe` on every target: an instance for a recipe
/// with instances (its default, else `main`), which per-instance targets need.
pub fn options_for(recipe: &Recipe) -> Options {
    let instance = recipe.instances.as_ref().map(|i| i.default.clone().unwrap_or_else(|| "main".to_owned()));
    Options { instance, ..Options::default() }
}

pub fn catalogue() -> Vec<Recipe> {
    EMBEDDED
        .iter()
        .map(|(name, text)| {
            parse_recipe(Path::new(&format!("recipes/{name}.toml")), text).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

/// The recipes of tests/fixtures/features: every recipe field beyond the
/// catalogue's, for the static checks and golden files.
pub fn feature_recipes() -> Vec<Recipe> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/features");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| parse_recipe(p, &std::fs::read_to_string(p).unwrap()).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

pub fn initkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_initkit"))
}

/// An import's report entry for a setting, the last one (the one that took
/// effect): `(file:line, outcome)`, from `import --json`.
pub fn report_entry(import: &serde_json::Value, setting: &str) -> (String, String) {
    let e = import["report"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["setting"] == setting)
        .unwrap_or_else(|| panic!("no report entry for {setting}: {import:#}"));
    (format!("{}:{}", e["file"].as_str().unwrap(), e["line"]), e["outcome"].as_str().unwrap().to_owned())
}

/// Pieces hostile text is made of: what ends lines, quotes, expands,
/// comments, escapes, or reads as a directive or stanza in some language.
pub const PIECES: &[&str] = &[
    "'",
    "\"",
    "`",
    "$",
    "$(touch /tmp/ik-pwned)",
    "`id`",
    "${HOME}",
    "$$",
    "%",
    "%i",
    "%n",
    "%%",
    "\\",
    "\\\\",
    "\\n",
    ";",
    "&&",
    "|",
    "#",
    "# c",
    "[Service]",
    "ExecStartPre=/bin/true",
    "[program:x]",
    "end script",
    "exec ",
    "<",
    ">",
    "]]>",
    "&amp;",
    "=",
    "{",
    "}",
    "~",
    "-",
    "@",
    "*",
    "?",
    "!",
    "(",
    ")",
    "ü",
    "✓",
    "\u{202e}",
    " ",
    "a",
    "Z",
    "0",
    ":",
    ",",
    ".",
    "/",
];

/// `[conditions]` with every kind of condition, in both groups, hostile
/// paths among them: for round trips through a target and back.
pub const EVERY_CONDITION: &str = r#"path_exists = ["!/etc/initrd-release", "/srv/it's \"quoted\" $(x) `y` | ! %n; then ||"]
path_is_directory = ["/srv"]
file_not_empty = ["!/etc/a && [ -s /b ]"]
file_is_executable = ["/usr/bin/x"]
path_is_read_write = ["/proc/sys/net/"]
capability = ["CAP_SYS_MODULE", "!CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE"]
virtualization = ["!container", "kvm", "no"]
kernel_command_line = ["!nomodeset", "root=/dev/sda1", "50%"]
ac_power = false
security = ["!apparmor", "uefi-secureboot"]

[conditions.any]
directory_not_empty = ["/etc/modules-load.d", "/run/modules-load.d"]
path_is_symbolic_link = ["/system-update"]
path_is_mount_point = ["!/proc/sys/fs/binfmt_misc"]
kernel_command_line = ["modules-load", "!rd.modules_load"]
ac_power = true
security = ["selinux"]"#;

/// `import --json` of `paths` in `dir`: each recipe (parsed) and its import.
pub fn import_json_in(dir: &Path, paths: &[&str]) -> Vec<(Recipe, serde_json::Value)> {
    let o = initkit().args(["import", "--json"]).args(paths).current_dir(dir).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    json["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let text = i["recipe"].as_str().unwrap();
            (parse_recipe(Path::new("x.toml"), text).unwrap_or_else(|e| panic!("{e}\n{text}")), i.clone())
        })
        .collect()
}
