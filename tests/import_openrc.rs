//! `initkit import` of OpenRC scripts: fixtures with their conf.d files read
//! into recipes with a report line per setting, initkit's own scripts read
//! back exactly, and any script-shaped text read without a panic.

mod common;

use common::report_entry;

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

#[test]
fn a_daemon_with_its_conf_d_becomes_a_recipe_whose_settings_are_conf_d_values() {
    let (r, i) = import_json("init.d/statsd-lite");
    assert_eq!(i["format"], "openrc");
    assert_eq!(r.summary, "Lightweight metrics aggregator");
    // command_args is word-split, as openrc-run's eval splits it; conf.d's values are settings.
    assert_eq!(strings(&r.run.command), ["/usr/bin/statsd-lite", "--config", "{STATSD_CONFIG...}", "{STATSD_OPTS...}"]);
    assert_eq!(
        vars(&r),
        [
            ("STATSD_CONFIG".into(), "/etc/statsd-lite/statsd.toml".into()),
            ("STATSD_OPTS".into(), "--workers 2 --flush-interval=10s".into())
        ]
    );
    assert_eq!(report_entry(&i, "STATSD_OPTS"), ("conf.d/statsd-lite:7".into(), "carried".into()));
    // `${STATSD_USER:-statsd}` with conf.d's line commented out: the default.
    assert_eq!((r.run.user.as_str(), r.run.group.as_deref()), ("statsd", Some("statsd")));
    assert_eq!(report_entry(&i, "command_user"), ("init.d/statsd-lite:11".into(), "carried".into()));
    assert_eq!(r.run.kind, RunKind::Foreground, "command_background: initkit knows the PID");
    assert_eq!(report_entry(&i, "pidfile"), ("init.d/statsd-lite:13".into(), "approximated".into()));
    assert_eq!(report_entry(&i, "output_log").1, "approximated");
    assert_eq!(r.stop.timeout_ms, 20_000);
    assert_eq!(r.stop.signal.name(), "TERM");
    assert_eq!(needs(&r), ["network", "syslog"]);
    assert_eq!(deps(&r.depends.after), ["firewall"]);
    let env: Vec<(String, String)> = r.run.environment.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
    assert_eq!(env, [("GOMAXPROCS".to_owned(), "2".to_owned())], "conf.d's export");
    let dirs =
        (r.directories.state.as_ref().map(ToString::to_string), r.directories.logs.as_ref().map(ToString::to_string));
    assert_eq!(dirs, (Some("statsd-lite".into()), Some("statsd-lite".into())), "checkpath -d");
    assert_eq!(r.directories.mode, Some(0o750));
    assert_eq!(report_entry(&i, "checkpath"), ("init.d/statsd-lite:26".into(), "carried".into()));
    assert_eq!(i["dropped"], 0, "{i:#}");
}

#[test]
fn a_supervise_daemon_script_restarts_within_its_respawn_limits() {
    let (r, i) = import_json("init.d/pushgate");
    assert_eq!(strings(&r.run.command), ["/usr/sbin/pushgate", "{PUSHGATE_ARGS...}", "--foreground"]);
    assert_eq!(vars(&r)[0].1, "--listen 127.0.0.1:8088 --queue /var/lib/pushgate/queue");
    assert_eq!((r.run.user.as_str(), r.run.group.as_deref()), ("pushgate", Some("pushgate")));
    assert_eq!(r.run.working_directory.as_ref().map(ToString::to_string).as_deref(), Some("/var/lib/pushgate"));
    assert_eq!(r.run.kind, RunKind::Foreground);
    assert_eq!(format!("{:?}", r.restart.policy), "Always");
    assert_eq!((r.restart.delay_ms, r.restart.burst), (5_000, Some(3)));
    assert_eq!(report_entry(&i, "respawn_period"), ("init.d/pushgate:16".into(), "carried".into()));
    // supervise_daemon_args: the nice level and an environment variable.
    assert_eq!(r.run.nice, Some(5));
    assert_eq!(r.run.environment.len(), 1);
    assert_eq!(report_entry(&i, "supervise_daemon_args --env").1, "carried");
    // depend(): a facility, a wanted service, another name; conf.d's rc_need.
    assert_eq!(needs(&r), ["local-fs", "network", "names"]);
    assert_eq!((deps(&r.depends.wants), deps(&r.depends.after)), (vec!["redis".to_owned()], vec!["redis".to_owned()]));
    assert_eq!(r.aliases, ["push-gateway"]);
    assert_eq!(report_entry(&i, "rc_need"), ("conf.d/pushgate:5".into(), "carried".into()));
    assert_eq!(report_entry(&i, "action `rotate`"), ("init.d/pushgate:29".into(), "dropped".into()));
    assert_eq!(i["dropped"], 1, "{i:#}");
}

#[test]
fn checkconfig_reload_and_hooks_become_the_check_the_reload_signal_and_steps() {
    let (r, i) = import_json("init.d/webcache");
    assert_eq!(i["format"], "openrc", "#!/sbin/runscript is OpenRC too");
    // `X=${X:-default}` is settable in conf.d: a setting with the script's default.
    assert_eq!(strings(&r.run.command), ["/usr/sbin/webcache", "-f", "{WEBCACHE_CONF...}", "{WEBCACHE_OPTS...}"]);
    assert_eq!(
        vars(&r),
        [("WEBCACHE_CONF".into(), "/etc/webcache/webcache.conf".into()), ("WEBCACHE_OPTS".into(), "-w 4".into())]
    );
    let RunKind::Forking { pidfile } = &r.run.kind else { panic!("{:?}", r.run.kind) };
    assert_eq!(pidfile.to_string(), "/run/webcache/webcache.pid");
    let Some(Test::Command(check)) = r.check.as_ref().map(|c| &c.test) else { panic!("{:?}", r.check) };
    assert_eq!(strings(check), ["/usr/sbin/webcache", "-t", "-f", "{WEBCACHE_CONF}"], "${{command}} filled in");
    assert_eq!(r.check.as_ref().unwrap().user.as_deref(), Some("root"), "openrc-run runs checkconfig as root");
    assert_eq!(report_entry(&i, "checkconfig()"), ("init.d/webcache:26".into(), "carried".into()));
    assert!(matches!(&r.reload, Some(Reload::Signal(s)) if s.name() == "HUP"), "{:?}", r.reload);
    assert_eq!(report_entry(&i, "reload()"), ("init.d/webcache:50".into(), "carried".into()));
    assert_eq!((r.stop.signal.name(), r.stop.timeout_ms), ("QUIT", 30_000));
    assert_eq!(needs(&r), ["network", "local-fs", "names", "syslog"]);
    assert_eq!((deps(&r.depends.after), deps(&r.depends.before)), (vec!["bootmisc".into()], vec!["nginx".into()]));
    assert_eq!(r.directories.runtime.as_ref().map(ToString::to_string).as_deref(), Some("webcache"));
    // start_pre: the check (once), the directory, and a setup step; stop_post: a cleanup step.
    let before: Vec<Vec<String>> = r.start.before.iter().map(hook_argv).collect();
    assert_eq!(before, [vec!["/usr/sbin/webcache-migrate".to_owned(), "--quiet".to_owned()]]);
    let after: Vec<Vec<String>> = r.stop.after.iter().map(hook_argv).collect();
    assert_eq!(after, [vec!["/bin/sh".to_owned(), "-c".into(), "rm -f /run/webcache/webcache.sock".into()]]);
    assert_eq!(report_entry(&i, "start_pre() checkconfig"), ("init.d/webcache:31".into(), "carried".into()));
    assert_eq!(report_entry(&i, "start_pre() `if`"), ("init.d/webcache:30".into(), "dropped".into()));
    assert_eq!(report_entry(&i, "stop_post()").1, "approximated");
    // Shell at the top of the script is reported with its line.
    assert_eq!(report_entry(&i, "`[`"), ("init.d/webcache:55".into(), "dropped".into()));
}

fn hook_argv(h: &initkit::recipe::Hook) -> Vec<String> {
    match &h.action {
        initkit::recipe::HookAction::Run(c) => strings(c),
        initkit::recipe::HookAction::Poll { command, .. } => strings(command),
    }
}

#[test]
fn a_script_with_no_command_is_refused_with_its_start_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("init.d")).unwrap();
    let script = "#!/sbin/openrc-run\ndescription=\"x\"\n\nstart() {\n\t/usr/bin/x &\n}\n";
    fs::write(dir.path().join("init.d/x"), script).unwrap();
    let o = common::initkit().args(["import", "init.d/x"]).current_dir(dir.path()).output().unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("init.d/x:4: no `command=`"), "{}", stderr(&o));
    fs::write(dir.path().join("init.d/x"), "#!/sbin/openrc-run\ncommand=\"bin/x\"\n").unwrap();
    let o = common::initkit().args(["import", "init.d/x"]).current_dir(dir.path()).output().unwrap();
    assert!(stderr(&o).contains("init.d/x:2: command `bin/x` is not an absolute path"), "{}", stderr(&o));
}

#[test]
fn shell_code_in_values_stays_out_of_the_recipe() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("init.d")).unwrap();
    fs::create_dir_all(dir.path().join("conf.d")).unwrap();
    let script = "#!/sbin/openrc-run\ncommand=/usr/bin/x\ncommand_args=\"--id $(hostname) ${X_OPTS}\"\n\
                  command_user=\"$(id -un)\"\nreload() {\n\teval \"$RELOAD\"\n}\n";
    fs::write(dir.path().join("init.d/x"), script).unwrap();
    fs::write(dir.path().join("conf.d/x"), "X_OPTS='--name \"{a b}\" `rm -rf /`'\n").unwrap();
    let (r, i) = import_json_in(dir.path(), "init.d/x");
    assert_eq!(strings(&r.run.command), ["/usr/bin/x"]);
    assert_eq!(report_entry(&i, "command_args"), ("init.d/x:3".into(), "dropped".into()));
    assert_eq!(r.run.user, "root");
    assert_eq!(report_entry(&i, "command_user"), ("init.d/x:4".into(), "dropped".into()));
    assert!(r.reload.is_none());
    assert_eq!(report_entry(&i, "reload()").1, "dropped");
    assert_eq!(report_entry(&i, "X_OPTS"), ("conf.d/x:1".into(), "dropped".into()), "read by nothing carried");
}

/// Lines in the shape of an openrc-run script, with hostile values.
fn shaped_script() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "command=",
        "command=/usr/bin/",
        "command_args=\"",
        "command_args='",
        "command_args_foreground=",
        "command_user=",
        "command_background=",
        "pidfile=",
        "directory=",
        "supervisor=supervise-daemon",
        "respawn_max=",
        "respawn_period=",
        "respawn_delay=",
        "retry=",
        "description=\"",
        "name=",
        "start_stop_daemon_args=\"",
        "extra_commands=\"checkconfig ",
        "export ",
        "depend() {",
        "\tneed ",
        "\tuse ",
        "\tprovide ",
        "checkconfig() {",
        "start_pre() {",
        "\tcheckpath -d -m 0750 /run/",
        "reload() {",
        "\tstart-stop-daemon --signal ",
        "\tkill -",
        "\t\"${command}\" -t ",
        "}",
        "if [ ",
        "X=${X:-",
    ]);
    prop::collection::vec((key, "[ -~\t\\\\$%{}()'\"`;|&\u{e9}\u{202e}]{0,24}"), 0..14)
        .prop_map(|lines| lines.into_iter().flat_map(|(k, v)| [k.to_owned(), v, "\n".to_owned()]).collect())
}

/// An argument in double quotes, as a script writes it inside `command_args='…'`.
fn double_quoted(arg: &str) -> String {
    let mut s = String::from("\"");
    for c in arg.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

/// A recipe with these `[conditions]`, rendered for OpenRC and imported
/// back: the recipe read back, and the import.
fn conditions_back(recipe: &Recipe) -> (Recipe, import::Imported) {
    let script = &render(recipe, Target::Openrc, &common::options_for(recipe)).unwrap()[0];
    let imported = import::import(&Source::new(&script.path, &script.content), Format::Auto).unwrap().remove(0);
    let back =
        parse_recipe(Path::new("x.toml"), &imported.recipe).unwrap_or_else(|e| panic!("{e}\n{}", imported.recipe));
    let again = &render(&back, Target::Openrc, &common::options_for(&back)).unwrap()[0];
    let differ = again.content.lines().zip(script.content.lines()).find(|(a, b)| a != b);
    assert_eq!(differ, None, "the script rendered again differs");
    assert_eq!(again.content, script.content);
    (back, imported)
}

fn with_conditions(conditions: &str) -> Recipe {
    let text = format!(
        "name = \"probe\"\nsummary = \"p\"\n[conditions]\n{conditions}\n[run]\ncommand = [\"/bin/true\"]\nuser = \"root\"\n"
    );
    parse_recipe(Path::new("probe.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Every kind of condition, of both groups, with a hostile path, and the
/// feature recipes with conditions: read back from initkit's OpenRC script
/// unchanged, each carried at its line.
#[test]
fn a_scripts_conditions_read_back_unchanged() {
    let every = format!("setting = \"ENABLED\"\n{}\n\n[vars]\nENABLED = \"yes\"", common::EVERY_CONDITION);
    let mut recipes = vec![with_conditions(&every)];
    recipes.extend(common::feature_recipes().into_iter().filter(|r| !r.conditions.is_empty()));
    for recipe in recipes {
        let (back, imported) = conditions_back(&recipe);
        assert_eq!(back.conditions, recipe.conditions, "{}\n{}", recipe.name, imported.recipe);
        let conditions: Vec<_> =
            imported.report.entries.iter().filter(|e| e.setting.starts_with("condition")).collect();
        assert_eq!(
            conditions.len(),
            recipe.conditions.iter().count() + usize::from(recipe.conditions.setting.is_some())
        );
        assert!(conditions.iter().all(|e| e.outcome == import::report::Outcome::Carried), "{conditions:?}");
    }
}

/// A test initkit's script does not write (edited by hand) is dropped at its line.
#[test]
fn a_condition_edited_by_hand_is_dropped_at_its_line() {
    let recipe = with_conditions("path_exists = [\"/etc/x\"]");
    let script = &render(&recipe, Target::Openrc, &common::options_for(&recipe)).unwrap()[0];
    let edited = script.content.replace("{ [ -e /etc/x ]; }", "{ [ -w /etc/x ]; }");
    assert_ne!(edited, script.content);
    let line = edited.lines().position(|l| l.contains("[ -w /etc/x ]")).unwrap() + 1;
    let imported = import::import(&Source::new(&script.path, &edited), Format::Auto).unwrap().remove(0);
    let e = imported.report.entries.iter().find(|e| e.setting == "condition").unwrap();
    assert_eq!(e.line, line);
    assert!(matches!(&e.outcome, import::report::Outcome::Dropped(why) if why.contains("edited by hand")), "{e:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Hostile condition paths and kernel words, in both groups, come back
    /// from initkit's OpenRC script as they were.
    #[test]
    fn condition_values_are_data(
        paths in prop::collection::btree_set("/[ -~\u{e9}\u{202e}]{0,16}", 1..4),
        any in prop::collection::btree_set("/[ -~\u{e9}]{0,16}", 2..4),
        words in prop::collection::btree_set("[a-z0-9][a-z0-9%$&;|()`<>.,:+-]{0,9}(=[a-z0-9%$&;|/]{0,6})?", 0..3),
    ) {
        // A condition named twice is one condition: each is named once.
        let list = |v: &std::collections::BTreeSet<String>| v.iter().map(|p| toml_edit::Value::from(p.as_str()).to_string()).collect::<Vec<_>>().join(", ");
        let text = format!("path_exists = [{}]\nkernel_command_line = [{}]\n[conditions.any]\nfile_not_empty = [{}]", list(&paths), list(&words), list(&any));
        // A value no field may hold (a path that ends with `\`) is the parser's to refuse.
        let recipe = parse_recipe(Path::new("probe.toml"), &format!(
            "name = \"probe\"\nsummary = \"p\"\n[conditions]\n{text}\n[run]\ncommand = [\"/bin/true\"]\nuser = \"root\"\n"
        ));
        prop_assume!(recipe.is_ok());
        let recipe = recipe.unwrap();
        let (back, _) = conditions_back(&recipe);
        prop_assert_eq!(back.conditions, recipe.conditions);
    }

    /// Any script and conf.d text: a recipe that parses, with every report
    /// line inside its file, or located problems; never a panic.
    #[test]
    fn any_script_imports_or_is_refused_without_a_panic(
        body in prop_oneof![shaped_script(), any::<String>()],
        conf in prop_oneof![shaped_script(), "[A-Z_]{1,8}=[ -~]{0,20}\n"],
        shebang in prop::sample::select(vec!["#!/sbin/openrc-run\n", "#!/sbin/runscript\n", ""]),
    ) {
        let text = format!("{shebang}{body}");
        let mut src = Source::new("/etc/init.d/x", &text);
        src.extra.push(Source::new("/etc/conf.d/x", &conf));
        match import::import(&src, Format::Openrc) {
            Ok(list) => {
                for i in list {
                    prop_assert!(parse_recipe(Path::new("x.toml"), &i.recipe).is_ok(), "{}", i.recipe);
                    for e in &i.report.entries {
                        let lines = if e.file.contains("conf.d") { conf.lines().count() } else { text.lines().count() };
                        prop_assert!(e.line >= 1 && e.line <= lines.max(1), "{e:?}");
                    }
                }
            }
            Err(problems) => prop_assert!(problems.iter().all(|p| p.line >= 1 && p.file == "/etc/init.d/x")),
        }
    }

    /// Hostile arguments quoted in `command_args` come back as the command's
    /// words byte for byte: braces stay literal, `$` and backquotes stay text.
    #[test]
    fn command_args_are_data(args in prop::collection::vec("[ -&(-~\t\u{e9}\u{202e}]{1,12}", 0..5)) {
        let quoted: Vec<String> = args.iter().map(|a| double_quoted(a)).collect();
        let text = format!("#!/sbin/openrc-run\ncommand=/usr/bin/x\ncommand_args='{}'\n", quoted.join(" "));
        let imported = import::import(&Source::new("/etc/init.d/x", &text), Format::Openrc).unwrap();
        let recipe = parse_recipe(Path::new("x.toml"), &imported[0].recipe).unwrap();
        let words: Vec<Option<String>> = recipe.run.command[1..].iter().map(initkit::recipe::Template::as_literal).collect();
        prop_assert_eq!(words, args.iter().map(|a| Some(a.clone())).collect::<Vec<_>>());
        // Rendered for OpenRC and read back: still the same words.
        let script = &render(&recipe, Target::Openrc, &common::options_for(&recipe)).unwrap()[0];
        let back = import::import(&Source::new(&script.path, &script.content), Format::Auto).unwrap();
        let back = parse_recipe(Path::new("x.toml"), &back[0].recipe).unwrap();
        prop_assert_eq!(strings(&back.run.command), strings(&recipe.run.command));
    }
}
