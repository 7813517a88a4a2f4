//! `initkit import` of runit and s6 service directories: hand-written ones
//! (chpst and env/, log/run and finish, execline with notification-fd and
//! dependencies.d) read with a report line for each file and setting, any
//! run file read without a panic, and initkit's own directories read back
//! to the recipe they were rendered from.

mod common;

use common::report_entry;

use std::{path::Path, process::Output};

use initkit::{
    import::{
        self, Format, Source,
        draft::{Draft, lit},
    },
    recipe::{ReadyCheck, Recipe, parse_recipe},
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
        round_trip_one(&recipe, target, format);
    }
}

/// One recipe rendered to `target` and imported back renders the same directory.
fn round_trip_one(recipe: &Recipe, target: Target, format: Format) {
    {
        let options = common::options_for(recipe);
        let artifacts = render(recipe, target, &options).unwrap();
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
                normalised(a, recipe),
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

#[test]
fn a_runit_directory_with_chpst_env_and_conf_becomes_a_recipe() {
    let (r, i) = import_dir("runit/gitea");
    assert_eq!(i["format"], "runit");
    assert_eq!(r.name, "gitea");
    assert_eq!(
        command(&r),
        ["/usr/bin/gitea", "web", "--config", "/etc/gitea/app.ini", "--port", "{PORT}", "{GITEA_OPTS...}"]
    );
    assert_eq!((r.run.user.as_str(), r.run.group.as_deref()), ("git", Some("git")));
    assert_eq!(r.run.working_directory.as_ref().map(ToString::to_string).as_deref(), Some("/var/lib/gitea"));
    assert_eq!(r.run.umask, Some(0o027));
    assert_eq!(r.run.nice, Some(5));
    assert_eq!(r.run.limits.entries(), [("nofile", 8192)]);
    let defaults: Vec<(String, String)> = r.vars.iter().map(|v| (v.name.clone(), v.default.to_string())).collect();
    assert!(defaults.contains(&("PORT".into(), "3000".into())), "{defaults:?}");
    assert!(defaults.contains(&("GITEA_OPTS".into(), "--quiet --pid /run/gitea/gitea.pid".into())), "{defaults:?}");
    let env = |k: &str| r.run.environment.iter().find(|(n, _)| n == k).map(|(_, v)| v.to_string());
    assert_eq!(env("GITEA_RUN_MODE").as_deref(), Some("production"), "the first line of the file only");
    // Text is data: braces stay literal and `$(…)` is a value, never run.
    assert_eq!(env("GITEA_BANNER").as_deref(), Some("a {{braced}} \"value\" $(not run)"));
    assert_eq!(env("GITEA_CUSTOM"), None);
    assert_eq!(report_entry(&i, "chpst -o"), ("runit/gitea/run:7".into(), "carried".into()));
    assert_eq!(report_entry(&i, "PORT"), ("runit/gitea/conf:2".into(), "carried".into()));
    assert_eq!(report_entry(&i, "UNUSED_TUNABLE"), ("runit/gitea/conf:4".into(), "dropped".into()));
    assert_eq!(report_entry(&i, "GITEA_CUSTOM"), ("runit/gitea/env/GITEA_CUSTOM:1".into(), "approximated".into()));
    assert_eq!(report_entry(&i, "down"), ("runit/gitea/down:1".into(), "approximated".into()));
    assert_eq!(report_entry(&i, "exec 2>&1"), ("runit/gitea/run:3".into(), "carried".into()));
}

#[test]
fn a_runit_directory_with_log_run_and_finish_keeps_its_steps_and_restart_pace() {
    let (r, i) = import_dir("runit/unbound");
    assert_eq!(command(&r), ["/usr/sbin/unbound", "-d", "-c", "/etc/unbound/unbound.conf"]);
    assert_eq!(r.run.user, "root");
    assert_eq!(r.run.limits.entries(), [("nofile", 4096)]);
    assert_eq!(r.stop.signal.name(), "QUIT");
    assert_eq!(r.restart.delay_ms, 3_000);
    assert_eq!(r.start.before.len(), 2);
    assert_eq!(r.stop.after.len(), 1);
    let deps: Vec<String> = r.depends.requires.iter().map(ToString::to_string).collect();
    assert_eq!(deps, ["dnscrypt-proxy"]);
    assert_eq!(report_entry(&i, "sv start dnscrypt-proxy"), ("runit/unbound/run:3".into(), "carried".into()));
    assert_eq!(report_entry(&i, "setup command"), ("runit/unbound/run:5".into(), "approximated".into()));
    assert_eq!(report_entry(&i, "sleep (restart delay)"), ("runit/unbound/finish:5".into(), "carried".into()));
    assert_eq!(report_entry(&i, "finish command"), ("runit/unbound/finish:3".into(), "approximated".into()));
    assert_eq!(report_entry(&i, "finish line"), ("runit/unbound/finish:4".into(), "dropped".into()));
    assert_eq!(report_entry(&i, "log/run"), ("runit/unbound/log/run:1".into(), "approximated".into()));
    assert_eq!(report_entry(&i, "down-signal"), ("runit/unbound/down-signal:1".into(), "carried".into()));
    assert_eq!(i["catalogue"], "unbound");
}

#[test]
fn an_s6_execline_directory_with_notification_fd_and_dependencies_becomes_a_recipe() {
    let (r, i) = import_dir("s6/prometheus-node");
    assert_eq!(i["format"], "s6");
    assert_eq!(
        command(&r),
        [
            "/usr/bin/node_exporter",
            "--web.listen-address=127.0.0.1:9100",
            "--collector.textfile.directory=/var/lib/node_exporter/textfile"
        ]
    );
    assert_eq!(r.run.user, "prometheus");
    assert_eq!(r.run.working_directory.as_ref().map(ToString::to_string).as_deref(), Some("/var/lib/node_exporter"));
    assert_eq!(r.run.limits.entries(), [("nofile", 1024)]);
    assert_eq!(
        r.run.environment.iter().map(|(k, v)| (k.clone(), v.to_string())).collect::<Vec<_>>(),
        [("LANG".to_owned(), "C".to_owned())]
    );
    assert_eq!(r.stop.timeout_ms, 20_000);
    let ready = r.ready.as_ref().expect("s6-notifyoncheck -c is the readiness probe");
    let ReadyCheck::Command(probe) = &ready.check else { panic!("{:?}", ready.check) };
    assert_eq!(
        probe.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["/usr/bin/curl", "-fs", "http://127.0.0.1:9100/metrics"]
    );
    let deps: Vec<String> = r.depends.requires.iter().map(ToString::to_string).collect();
    assert_eq!(deps, ["network-online"]);
    assert_eq!(r.start.before.len(), 1, "foreground {{ mkdir … }} is a setup step");
    assert_eq!(report_entry(&i, "fdmove -c 2 1"), ("s6/prometheus-node/run:3".into(), "carried".into()));
    assert_eq!(report_entry(&i, "s6-softlimit -m"), ("s6/prometheus-node/run:6".into(), "dropped".into()));
    assert_eq!(report_entry(&i, "notification-fd"), ("s6/prometheus-node/notification-fd:1".into(), "carried".into()));
    assert_eq!(
        report_entry(&i, "dependency s6rc-fdholder"),
        ("s6/prometheus-node/dependencies.d/s6rc-fdholder:1".into(), "dropped".into())
    );
    assert_eq!(report_entry(&i, "max-death-tally"), ("s6/prometheus-node/max-death-tally:1".into(), "dropped".into()));
    assert_eq!(report_entry(&i, "type"), ("s6/prometheus-node/type:1".into(), "carried".into()));
}

#[test]
fn shell_code_in_a_run_file_is_kept_whole_or_reported_never_spliced() {
    let text = "#!/bin/sh\nif [ -f /etc/x ]; then rm -rf /; fi\nif [ -d /y ]; then\n  mkdir /z\nfi\nexec /usr/bin/x $(id -u) \"a;b\" | tee /tmp/log\n";
    let imported = import::import(&Source::new("sv/x/run", text), Format::Runit).unwrap();
    let r = parse_recipe(Path::new("x.toml"), &imported[0].recipe).unwrap();
    assert_eq!(command(&r), ["/bin/sh", "-c", "exec /usr/bin/x $(id -u) \"a;b\" | tee /tmp/log"]);
    assert!(r.start.before.is_empty(), "{}", imported[0].recipe);
    let report = imported[0].report.text();
    assert!(report.contains("sv/x/run:2: `if` dropped"), "{report}");
    assert!(report.contains("sv/x/run:4: `mkdir` dropped"), "a command inside a block is not a step: {report}");
    assert!(report.contains("sv/x/run:6: command approximated: run by /bin/sh -c"), "{report}");
}

#[test]
fn a_run_file_without_a_shebang_or_a_bundle_is_refused_with_its_file() {
    let p = import::import(&Source::new("sv/x/run", "exec /bin/x\n"), Format::Runit).unwrap_err();
    assert_eq!((p[0].file.as_str(), p[0].line), ("sv/x/run", 1));
    let mut src = Source::new("sv/x/run", "#!/command/execlineb -P\n/bin/x\n");
    src.extra.push(Source::new("sv/x/type", "bundle\n"));
    let p = import::import(&src, Format::S6).unwrap_err();
    assert_eq!(p[0].file, "sv/x/type");
    let p =
        import::import(&Source::new("sv/x/run", "#!/command/execlineb -P\n/bin/x \"open\n"), Format::S6).unwrap_err();
    assert_eq!((p[0].line, p[0].message.as_str()), (2, "a quote is not closed"));
}

/// Lines in the shape of run scripts, with hostile values.
fn run_text() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "#!/bin/sh",
        "#!/command/execlineb -P",
        "exec ",
        "exec chpst -u ",
        "exec chpst -e ./env -o ",
        "s6-setuidgid ",
        "s6-envdir ",
        "s6-softlimit -o ",
        "fdmove -c 2 1",
        "foreground { ",
        "}",
        "cd ",
        "umask ",
        "ulimit -n ",
        ". ./conf",
        "export ",
        "sv check ",
        "s6-notifyoncheck -c ",
        "/usr/bin/x ",
        "X=",
        ": ${X:=",
        "\\",
    ]);
    prop::collection::vec((key, "[ -~\t\\\\$%{}'\"`;|&()\u{e9}\u{202e}\n]{0,24}"), 0..12)
        .prop_map(|lines| lines.into_iter().flat_map(|(k, v)| [k.to_owned(), v, "\n".to_owned()]).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any run file, with any files beside it: a recipe that parses, or
    /// located problems; never a panic, and each report line in its file.
    #[test]
    fn any_run_file_imports_or_is_refused_without_a_panic(
        run in prop_oneof![run_text(), any::<String>()],
        sibling in prop_oneof![run_text(), "[ -~\n{}$`'\"]{0,30}"],
        which in prop::sample::select(vec!["finish", "conf", "env/X", "env/a b", "down-signal", "timeout-kill", "type", "dependencies", "dependencies.d/x", "notification-fd", "log/run"]),
        format in prop::sample::select(vec![Format::Runit, Format::S6, Format::Auto]),
    ) {
        let mut src = Source::new("sv/x/run", &run);
        src.extra.push(Source::new(&format!("sv/x/{which}"), &sibling));
        match import::import(&src, format) {
            Ok(list) => {
                for i in list {
                    prop_assert!(parse_recipe(Path::new("x.toml"), &i.recipe).is_ok(), "{}", i.recipe);
                    for e in &i.report.entries {
                        let text = if e.file == src.file { &run } else { &sibling };
                        prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1), "{e:?}");
                    }
                }
            }
            Err(problems) => prop_assert!(!problems.is_empty()),
        }
    }
}

/// A recipe whose arguments, setting default, environment value and working
/// directory hold hostile text (quotes, `$()`, backquotes, `;`, braces,
/// newlines in an argument, unicode).
fn hostile_recipe() -> impl Strategy<Value = Option<Recipe>> {
    let text = "[ -~\t\u{e9}\u{202e}]{0,16}";
    (
        prop::collection::vec(
            prop_oneof![text.prop_map(String::from), "[a-z\n'$`{}]{0,8}".prop_map(String::from)],
            0..4,
        ),
        text,
        text,
        "[a-z/ '{}$]{1,12}",
    )
        .prop_map(|(args, default, value, dir)| {
            let mut d = Draft::new("hostile", "hostile text");
            let mut command = vec!["/usr/bin/x".to_owned()];
            command.extend(args.iter().map(|a| lit(a)));
            command.push("--opt={opt}".into());
            command.push("{words...}".into());
            d.set_list(&["run"], "command", &command);
            d.set(&["run"], "user", "nobody");
            d.set(&["run"], "working_directory", format!("/srv/{}", lit(&dir)));
            d.set(&["vars"], "opt", lit(&default));
            d.set(&["vars"], "words", lit(&default));
            d.set(&["run", "environment"], "LITERAL", lit(&value));
            d.set(&["run", "environment"], "TEMPLATED", format!("{}{{opt}}", lit(&value)));
            parse_recipe(Path::new("hostile.toml"), &d.text("")).ok()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// initkit's own directory of a recipe with hostile text reads back to the same directory.
    #[test]
    fn hostile_text_in_initkits_own_directories_round_trips(recipe in hostile_recipe()) {
        prop_assume!(recipe.is_some());
        let recipe = recipe.unwrap();
        round_trip_one(&recipe, Target::Runit, Format::Runit);
        round_trip_one(&recipe, Target::S6, Format::S6);
    }
}
