//! Quoting, proved: arguments, environment values, settings values and instance
//! names full of shell metacharacters survive render → SysV start → the daemon's
//! argv and environment, byte for byte.

mod common;

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use initkit::{
    recipe::parse_recipe,
    render::{Layout, Options, Target, render},
};
use proptest::prelude::*;
use toml_edit::{Array, DocumentMut, InlineTable, value};

/// A probe daemon: writes argc, its argv and its environment (NUL-separated)
/// to the file named by argv[1], then waits for a signal.
const PROBE: &str = r#"
#include <stdio.h>
#include <unistd.h>
extern char **environ;
int main(int argc, char **argv) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f) return 1;
    fprintf(f, "%d", argc); fputc(0, f);
    for (int i = 0; i < argc; i++) { fputs(argv[i], f); fputc(0, f); }
    for (char **e = environ; *e; e++) { fputs(*e, f); fputc(0, f); }
    fclose(f);
    rename(tmp, argv[1]);
    for (;;) pause();
}
"#;

fn build_probe(dir: &Path) -> PathBuf {
    let src = dir.join("probe.c");
    let bin = dir.join("probe");
    fs::write(&src, PROBE).unwrap();
    let status = Command::new("cc").arg("-O").arg("-o").arg(&bin).arg(&src).status().unwrap();
    assert!(status.success(), "cc failed to build the probe");
    bin
}

/// Text as a recipe writes it literally: braces doubled.
fn lit(s: &str) -> String {
    s.replace('{', "{{").replace('}', "}}")
}

const NASTY: &str = "[ a-zA-Z0-9'\"$`*?\\[\\]\\\\%{}#;~&|<>()=!^,.:@+-]";

fn nasty(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![8 => NASTY.prop_map(|s| s), 1 => Just("\n".to_owned()), 1 => Just("\t".to_owned())],
        0..max,
    )
    .prop_map(|v| v.concat())
}

fn instance_name() -> impl Strategy<Value = String> {
    // The whole alphabet instance names may use (recipe::name).
    "[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,20}"
}

struct Case {
    /// One line of hostile prose for the summary, description, documentation and a hook.
    prose: String,
    args: Vec<String>,
    env_value: String,
    setting: String,
    instance: String,
}

fn run_case(probe: &Path, case: &Case) {
    let root = tempfile::Builder::new().prefix("ik-quote").tempdir().unwrap();
    let prefix = root.path().to_str().unwrap().to_owned();
    fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let out = root.path().join("argv");

    // Prose that would create the canary if any of it ran as a command.
    let canary = root.path().join("canary");
    let c = canary.display();
    let evil = format!("{} $(touch {c}) `touch {c}`; touch {c} && touch {c} | touch {c} # x", case.prose);
    let mut doc = DocumentMut::new();
    doc["name"] = value("probe");
    doc["summary"] = value(&evil);
    doc["description"] = value(format!("{evil}\ntouch {c}\n### END INIT INFO\n{evil}"));
    let mut docs = Array::new();
    docs.push(format!("https://example.org/$(touch{c})'`touch`{}", case.prose.replace(' ', "_")));
    doc["documentation"] = value(docs);
    doc["vars"]["setting"] = value("default");
    doc["instances"] = toml_edit::table();
    let mut command = Array::new();
    command.push(lit(probe.to_str().unwrap()));
    command.push(lit(out.to_str().unwrap()));
    for a in &case.args {
        command.push(lit(a));
    }
    command.push("{setting}");
    command.push("x{instance}y");
    doc["run"]["command"] = value(command);
    doc["run"]["user"] = value("root");
    let mut env = InlineTable::new();
    env.insert("NASTY", lit(&case.env_value).into());
    env.insert("WHO", "{instance}".into());
    doc["run"]["environment"] = value(env);
    let mut hook = toml_edit::Table::new();
    hook["description"] = value(&evil);
    hook["run"] = value(Array::from_iter(["/bin/true"]));
    hook["timeout"] = value("5s");
    let mut hooks = toml_edit::ArrayOfTables::new();
    hooks.push(hook);
    doc["stop"] = toml_edit::table();
    doc["stop"]["before"] = toml_edit::Item::ArrayOfTables(hooks);
    let text = doc.to_string();
    let recipe = parse_recipe(Path::new("probe.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));

    let options = Options { layout: Layout { root: prefix.clone(), ..Layout::default() }, ..Options::default() };
    // The script, its logrotate snippet and the root-only environment file.
    let artifacts = render(&recipe, Target::Sysv, &options).unwrap();
    for a in &artifacts {
        let path = PathBuf::from(&a.path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &a.content).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(a.mode)).unwrap();
    }
    let script_path = PathBuf::from(&artifacts[0].path);
    let settings = root.path().join("etc/default/probe.d");
    fs::create_dir_all(&settings).unwrap();
    // Settings values are taken to the end of the line; one pair of surrounding quotes is removed.
    fs::write(settings.join(&case.instance), format!("setting='{}'\n", case.setting)).unwrap();

    let start = Command::new(&script_path).args(["start", &case.instance]).output().unwrap();
    assert!(
        start.status.success(),
        "start failed: {}{}",
        String::from_utf8_lossy(&start.stdout),
        String::from_utf8_lossy(&start.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !out.exists() {
        assert!(Instant::now() < deadline, "the probe never wrote {}", out.display());
        std::thread::sleep(Duration::from_millis(5));
    }
    for (action, code) in [("status", 0), ("configtest", 0), ("frobnicate", 3)] {
        let o = Command::new(&script_path).args([action, &case.instance]).output().unwrap();
        assert_eq!(o.status.code(), Some(code), "{action}: {}", String::from_utf8_lossy(&o.stderr));
    }
    // A hostile instance name on the command line is refused before anything runs.
    let o = Command::new(&script_path).args(["start", &format!("$(touch {c})")]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let stop = Command::new(&script_path).args(["stop", &case.instance]).output().unwrap();
    assert!(stop.status.success(), "stop failed: {}", String::from_utf8_lossy(&stop.stderr));
    assert!(!canary.exists(), "text from the recipe ran as a command");

    let bytes = fs::read(&out).unwrap();
    let fields: Vec<String> = bytes.split(|b| *b == 0).map(|f| String::from_utf8(f.to_vec()).unwrap()).collect();
    let argc: usize = fields[0].parse().unwrap();
    let got_args = &fields[1..=argc];
    let env: Vec<&String> = fields[argc + 1..].iter().filter(|f| !f.is_empty()).collect();

    let mut want = vec![probe.to_str().unwrap().to_owned(), out.to_str().unwrap().to_owned()];
    want.extend(case.args.iter().cloned());
    want.push(case.setting.clone());
    want.push(format!("x{}y", case.instance));
    assert_eq!(got_args, &want[..], "argv differs");
    assert!(env.contains(&&format!("NASTY={}", case.env_value)), "NASTY missing or changed in {env:?}");
    assert!(env.contains(&&format!("WHO={}", case.instance)), "WHO missing or changed in {env:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_argument_survives_render_and_run(
        prose in prop::collection::vec(NASTY, 0..16).prop_map(|v| v.concat()),
        args in prop::collection::vec(nasty(12), 0..5),
        // One line, as environment values are (recipe::text::Kind::Line).
        env_value in nasty(16).prop_map(|v| {
            let v = v.replace('\n', " ");
            if v.trim_end().ends_with('\\') { v + "." } else { v }
        }),
        setting in prop::collection::vec(NASTY, 0..12).prop_map(|v| v.concat()),
        instance in instance_name(),
    ) {
        if !common::require_root("running SysV scripts for the quoting property") || !common::require_tool("cc", "building the probe daemon") {
            return Ok(());
        }
        let dir = tempfile::tempdir().unwrap();
        let probe = build_probe(dir.path());
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        run_case(&probe, &Case { prose, args, env_value, setting, instance });
    }
}

#[test]
fn a_fixed_nasty_case() {
    if !common::require_root("running SysV scripts") || !common::require_tool("cc", "building the probe daemon") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let probe = build_probe(dir.path());
    run_case(
        &probe,
        &Case {
            prose: "it's \"$x\" %i `id` \\ ; $(id)".into(),
            args: vec![
                String::new(),
                "a b".into(),
                "it's".into(),
                "$(id) `id` ${HOME}".into(),
                "*".into(),
                "line\nbreak".into(),
                "50%".into(),
                "{x}".into(),
                "-n".into(),
            ],
            env_value: "\"quoted\" 'single' $PATH \\ %i".into(),
            setting: "a b; rm -rf / $(x) '".into(),
            instance: "A_1.b-2".into(),
        },
    );
}
