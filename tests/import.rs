//! `initkit import` and `initkit convert`: a fixture of each format read
//! into a recipe with a report line for each setting, text kept as data,
//! any input read without a panic, and the catalogue's own units read back.

mod common;

use common::report_entry;

use std::{fs, path::Path, process::Output};

use initkit::{
    import::{
        self, Format, Source,
        words::{self, Dialect},
    },
    recipe::{Recipe, Relax, Reload, RunKind, Test, parse_recipe},
    render::{Target, render},
};
use proptest::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import");

fn run(args: &[&str]) -> Output {
    common::initkit().args(args).current_dir(FIXTURES).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `import --json` of the fixtures: each import's recipe (parsed) and report.
fn import_json(paths: &[&str]) -> Vec<(Recipe, serde_json::Value)> {
    common::import_json_in(Path::new(FIXTURES), paths)
}

fn command(r: &Recipe) -> Vec<String> {
    r.run.command.iter().map(ToString::to_string).collect()
}

#[test]
fn a_unit_and_its_drop_in_become_one_recipe_with_each_setting_reported() {
    let imports = import_json(&["web.service"]);
    let [(r, i)] = imports.as_slice() else { panic!("one recipe: {imports:?}") };
    // The drop-in resets ExecStart and sets a longer stop timeout.
    assert_eq!(command(r), ["/usr/sbin/webd", "-c", "{CONF}", "--verbose", "{OPTS...}"]);
    assert_eq!(r.stop.timeout_ms, 45_000);
    assert_eq!(report_entry(i, "[Service] ExecStart").0, "web.service.d/override.conf:3");
    assert_eq!(r.run.user, "webd");
    assert_eq!(r.run.kind, RunKind::Notify);
    // The settings the command names default to the unit's Environment=.
    let vars: Vec<(&str, String)> = r.vars.iter().map(|v| (v.name.as_str(), v.default.to_string())).collect();
    assert_eq!(vars, [("CONF", "/etc/webd/webd.conf".to_owned()), ("OPTS", "--workers 4".to_owned())]);
    // Two ExecReload lines: a check, then a signal.
    assert!(matches!(&r.reload, Some(Reload::Signal(s)) if s.name() == "HUP"), "{:?}", r.reload);
    let Some(Test::Command(check)) = r.check.as_ref().map(|c| &c.test) else { panic!("{:?}", r.check) };
    assert_eq!(check.iter().map(ToString::to_string).collect::<Vec<_>>(), ["/usr/sbin/webd", "-t", "-c", "{CONF}"]);
    let reloads: Vec<_> = i["report"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["setting"] == "[Service] ExecReload")
        .map(|e| (e["line"].as_u64().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(reloads, [(17, "approximated"), (18, "carried")]);
    assert_eq!(
        report_entry(i, "[Service] ExecStartPre"),
        ("web.service:15".into(), "approximated".into()),
        "the check, once"
    );
    assert!(r.start.before.is_empty(), "{:?}", r.start.before);
    assert_eq!(report_entry(i, "[Service] PAMName"), ("web.service:22".into(), "dropped".into()));
    assert_eq!(report_entry(i, "[Service] ProtectSystem").1, "approximated");
    assert_eq!(report_entry(i, "[Unit] Requires").1, "carried");
    assert_eq!(i["dropped"], 1, "{i:#}");
}

#[test]
fn an_lsb_script_becomes_a_recipe_from_its_header_and_start_stop_daemon() {
    let imports = import_json(&["legacyd"]);
    let [(r, i)] = imports.as_slice() else { panic!("one recipe: {imports:?}") };
    assert_eq!(r.name, "legacyd");
    assert_eq!(r.summary, "Legacy example daemon");
    assert_eq!(r.description.as_deref(), Some("A daemon with an init script of the usual Debian shape."));
    assert_eq!(r.aliases, ["legacy"]);
    assert_eq!(command(r), ["/usr/sbin/legacyd", "{DAEMON_ARGS...}"]);
    assert_eq!(r.vars[0].default.to_string(), "--foreground --port 7000");
    assert_eq!(r.run.user, "legacy");
    assert_eq!(r.run.kind, RunKind::Foreground, "--background --make-pidfile: initkit knows the PID");
    assert_eq!(r.stop.timeout_ms, 30_000, "--retry=TERM/30/KILL/5");
    assert!(matches!(&r.reload, Some(Reload::Signal(s)) if s.name() == "HUP"));
    assert_eq!(report_entry(i, "action `rotate`"), ("legacyd:32".into(), "dropped".into()));
    assert_eq!(report_entry(i, "PIDFILE").1, "approximated");
}

/// A start-stop-daemon call that ends in redirections keeps its arguments:
/// the redirections are reported, never taken as words of the command.
#[test]
fn redirections_that_end_a_start_stop_daemon_call_are_reported_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let script = "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: logd\n### END INIT INFO\nDAEMON=/usr/sbin/logd\n\
        do_start() {\n\tstart-stop-daemon --start --quiet --exec $DAEMON -- \\\n\t\t-c /etc/logd.conf --fg >>/var/log/logd.out 2>&1\n}\n\
        case \"$1\" in start) do_start ;; esac\n";
    fs::write(dir.path().join("logd"), script).unwrap();
    let (recipe, json) = common::import_json_in(dir.path(), &["logd"]).remove(0);
    assert_eq!(command(&recipe), ["/usr/sbin/logd", "-c", "/etc/logd.conf", "--fg"]);
    assert_eq!(report_entry(&json, "start-stop-daemon redirection"), ("logd:7".to_owned(), "approximated".to_owned()));
    assert!(json.to_string().contains(">>/var/log/logd.out 2>&1`: the script's redirection"), "{json:#}");
    // `> FILE` with a blank and `< /dev/null` are redirections too.
    fs::write(dir.path().join("logd"), script.replace(">>/var/log/logd.out 2>&1", "> /dev/null < /dev/null")).unwrap();
    let (recipe, _) = common::import_json_in(dir.path(), &["logd"]).remove(0);
    assert_eq!(command(&recipe), ["/usr/sbin/logd", "-c", "/etc/logd.conf", "--fg"]);
}

#[test]
fn a_units_watchdog_is_carried_and_rendered_back() {
    let dir = tempfile::tempdir().unwrap();
    let unit = "[Service]\nType=notify\nExecStart=/usr/sbin/pingd\nWatchdogSec=20\n";
    fs::write(dir.path().join("pingd.service"), unit).unwrap();
    let (recipe, json) = common::import_json_in(dir.path(), &["pingd.service"]).remove(0);
    assert_eq!(report_entry(&json, "[Service] WatchdogSec"), ("pingd.service:4".to_owned(), "carried".to_owned()));
    assert_eq!(recipe.systemd.watchdog_ms, Some(20_000));
    let back = &render(&recipe, Target::Systemd, &common::options_for(&recipe)).unwrap()[0];
    assert!(back.content.contains("WatchdogSec=20s\n") && !back.content.contains("NotifyAccess"), "{}", back.content);
    // Off is what no watchdog says.
    fs::write(dir.path().join("pingd.service"), unit.replace("=20", "=0")).unwrap();
    let (recipe, json) = common::import_json_in(dir.path(), &["pingd.service"]).remove(0);
    assert_eq!(report_entry(&json, "[Service] WatchdogSec").1, "carried");
    assert_eq!(recipe.systemd.watchdog_ms, None);
}

/// A script's own config test (a test function that runs the daemon with
/// its test flag) becomes the recipe's [check]; the same flag on a line that
/// is not a test (memcached's `-t 4` threads) does not.
/// memcached's shape: NAME and PIDFILE are set only inside a loop over
/// config files; NAME is taken as the script's name and PIDFILE from its
/// indented assignment, each reported as the guess it is, with its line.
#[test]
fn names_a_script_sets_only_in_a_loop_are_guessed_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let script = "#!/bin/bash\n### BEGIN INIT INFO\n# Provides: cached\n### END INIT INFO\n\
        DAEMON=/usr/bin/cached\nBOOT=/usr/share/cached/start-cached\nCONFIGS=(cached)\n\
        for ((i=0; i < 1; i++)); do\n  NAME=${CONFIGS[${i}]}\n  PIDFILE=\"/var/run/${NAME}.pid\"\n\
        case \"$1\" in\n  start)\n    start-stop-daemon --start --quiet --exec \"$BOOT\" -- /etc/${NAME}.conf $PIDFILE\n    ;;\n\
        esac\ndone\n";
    fs::write(dir.path().join("cached"), script).unwrap();
    let (r, json) = common::import_json_in(dir.path(), &["cached"]).remove(0);
    // The unquoted `$PIDFILE` is a word-split setting whose default is the guess.
    assert_eq!(command(&r), ["/usr/share/cached/start-cached", "/etc/cached.conf", "{PIDFILE...}"]);
    assert_eq!(r.var("PIDFILE").map(|v| v.default.to_string()).as_deref(), Some("/var/run/cached.pid"));
    assert!(
        matches!(&r.run.kind, RunKind::Forking { pidfile } if pidfile.to_string() == "/var/run/cached.pid"),
        "{:?}",
        r.run.kind
    );
    assert_eq!(report_entry(&json, "$NAME"), ("cached:9".into(), "approximated".into()));
    assert_eq!(report_entry(&json, "$PIDFILE"), ("cached:10".into(), "approximated".into()));
    assert_eq!(report_entry(&json, "`for` loop"), ("cached:8".into(), "approximated".into()));
    assert!(json.to_string().contains("taken as `cached`"), "{json:#}");
    // A NAME the top level sets wins, and nothing is guessed.
    fs::write(dir.path().join("cached"), script.replace("CONFIGS=(cached)", "NAME=other")).unwrap();
    let (r, json) = common::import_json_in(dir.path(), &["cached"]).remove(0);
    assert_eq!(command(&r), ["/usr/share/cached/start-cached", "/etc/other.conf", "{PIDFILE...}"]);
    assert_eq!(r.var("PIDFILE").map(|v| v.default.to_string()).as_deref(), Some("/var/run/other.pid"));
    assert!(!json["report"].as_array().unwrap().iter().any(|e| e["setting"] == "$NAME"), "{json:#}");
}

/// A script or a unit without ProtectSystem=strict ran its daemon unsandboxed:
/// the recipe opens initkit's sandbox (/var writable; as root, the common
/// capabilities) and says so; a unit's own capabilities and paths are carried.
#[test]
fn an_unsandboxed_source_gets_an_open_sandbox_and_a_units_own_is_carried() {
    let (r, json) = import_json(&["legacyd"]).remove(0);
    assert_eq!(r.run.user, "legacy");
    assert_eq!(r.systemd.allow, [Relax::Writes]);
    assert!(r.systemd.capabilities.is_empty(), "not root: no capabilities");
    assert_eq!(report_entry(&json, "sandbox"), ("legacyd:1".into(), "approximated".into()));
    let dir = tempfile::tempdir().unwrap();
    let unit = "[Service]\nExecStart=/usr/sbin/rootd\n";
    fs::write(dir.path().join("rootd.service"), unit).unwrap();
    let (r, _) = common::import_json_in(dir.path(), &["rootd.service"]).remove(0);
    assert_eq!(r.run.user, "root");
    assert!(r.systemd.capabilities.iter().any(|c| c == "CAP_NET_BIND_SERVICE"), "{:?}", r.systemd.capabilities);
    assert_eq!(r.systemd.allow, [Relax::Writes]);
    let unit = "[Service]\nExecStart=/usr/sbin/rootd\nProtectSystem=strict\nCapabilityBoundingSet=CAP_NET_RAW\nReadWritePaths=-/var/spool/rootd\n";
    fs::write(dir.path().join("rootd.service"), unit).unwrap();
    let (r, json) = common::import_json_in(dir.path(), &["rootd.service"]).remove(0);
    assert_eq!(r.systemd.capabilities, ["CAP_NET_RAW"]);
    assert_eq!(r.systemd.write_paths.iter().map(ToString::to_string).collect::<Vec<_>>(), ["/var/spool/rootd"]);
    assert!(r.systemd.allow.is_empty(), "a strict unit stays strict");
    assert_eq!(report_entry(&json, "[Service] CapabilityBoundingSet").1, "carried");
    let out = tempfile::tempdir().unwrap();
    let o = run(&["convert", "legacyd", "--to", "systemd", "--out", out.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(out.path().join("etc/systemd/system/legacyd.service")).unwrap();
    assert!(text.contains("ProtectSystem=full\n") && !text.contains("ProtectSystem=strict"), "{text}");
}

#[test]
fn an_init_scripts_config_test_becomes_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let script = "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: webd\n### END INIT INFO\nDAEMON=/usr/sbin/webd\n\
        DAEMON_OPTS=\"-c /etc/webd.conf\"\n\
        test_config() {\n\t$DAEMON -t $DAEMON_OPTS >/dev/null 2>&1 || return 1\n}\n\
        warm() {\n\t$DAEMON -t 4 --warm\n}\n\
        do_start() {\n\tstart-stop-daemon --start --exec $DAEMON -- $DAEMON_OPTS\n}\n\
        case \"$1\" in\n  start) do_start ;;\n  configtest) test_config ;;\nesac\n";
    fs::write(dir.path().join("webd"), script).unwrap();
    let (recipe, json) = common::import_json_in(dir.path(), &["webd"]).remove(0);
    let check = recipe.check.as_ref().expect("a [check]");
    let words: Vec<String> = check.command().unwrap().iter().map(ToString::to_string).collect();
    assert_eq!(words, ["/usr/sbin/webd", "-t", "{DAEMON_OPTS...}"]);
    assert_eq!(check.user.as_deref(), Some("root"));
    assert_eq!(report_entry(&json, "config test"), ("webd:8".to_owned(), "carried".to_owned()));
    assert_eq!(report_entry(&json, "action `configtest`").1, "approximated");
    // Without the test function, nothing else is taken for one.
    let bare = script.replace("test_config() {", "other() {").replace("configtest) test_config", "configtest) other");
    fs::write(dir.path().join("webd"), bare).unwrap();
    let (recipe, json) = common::import_json_in(dir.path(), &["webd"]).remove(0);
    assert!(recipe.check.is_none(), "{:?}", recipe.check);
    assert_eq!(report_entry(&json, "action `configtest`").1, "dropped");
}

#[test]
fn a_procfile_gives_a_recipe_per_process_and_leaves_the_release_phase_out() {
    let imports = import_json(&["Procfile"]);
    let names: Vec<&str> = imports.iter().map(|(r, _)| r.name.as_str()).collect();
    assert_eq!(names, ["import-web", "import-worker"]);
    let (web, i) = &imports[0];
    assert_eq!(command(web), ["/bin/sh", "-c", "exec bundle exec puma -p $PORT -C config/puma.rb"]);
    assert_eq!(web.run.working_directory.as_ref().map(ToString::to_string).as_deref(), Some(FIXTURES));
    let env: Vec<(String, String)> = web.run.environment.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
    assert_eq!(env, [("PORT".to_owned(), "{instance}".to_owned())]);
    assert_eq!(report_entry(i, "release"), ("Procfile:4".into(), "dropped".into()));
    // A program the Procfile runs through a shell is no catalogue daemon.
    assert!(i["catalogue"].is_null(), "{i:#}");
}

#[test]
fn a_compound_procfile_command_keeps_its_shell() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("Procfile"), "web: ./bin/migrate && exec ./bin/serve\n").unwrap();
    let imports = common::import_json_in(dir.path(), &["Procfile"]);
    // `exec ./bin/migrate && …` would end the service after the migration.
    assert_eq!(command(&imports[0].0), ["/bin/sh", "-c", "./bin/migrate && exec ./bin/serve"]);
}

#[test]
fn a_procfile_line_that_is_no_process_type_is_reported_dropped_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("Procfile"), "web: ./bin/serve\nthis is no type\nweb: ./bin/other\n").unwrap();
    let imports = common::import_json_in(dir.path(), &["Procfile"]);
    assert_eq!(imports.len(), 1);
    let i = &imports[0].1;
    assert_eq!(report_entry(i, "line 2"), ("Procfile:2".into(), "dropped".into()));
    assert_eq!(report_entry(i, "line 3"), ("Procfile:3".into(), "dropped".into()));
    let o = common::initkit().args(["import", "--strict", "Procfile"]).current_dir(dir.path()).output().unwrap();
    assert!(!o.status.success(), "--strict let a dropped line through: {}", stderr(&o));
}

#[test]
fn supervisord_programs_become_recipes() {
    let imports = import_json(&["supervisord.conf"]);
    let [(queue, _), (mailer, m)] = imports.as_slice() else { panic!("two recipes: {imports:?}") };
    assert_eq!(command(queue), ["/usr/bin/python3", "/srv/app/queue.py", "--jobs", "2"]);
    assert_eq!(queue.run.user, "app");
    assert_eq!(queue.stop.signal.name(), "INT");
    assert_eq!(queue.stop.timeout_ms, 15_000);
    assert_eq!(queue.run.environment.len(), 2);
    assert_eq!(mailer.name, "mailer");
    assert_eq!(report_entry(m, "startsecs"), ("supervisord.conf:16".into(), "approximated".into()));
}

#[test]
fn strict_fails_when_anything_is_dropped_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recipes");
    let o = run(&["import", "web.service", "--strict", "-o", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--strict: settings would be dropped from web"), "{}", stderr(&o));
    assert!(!out.join("web.toml").exists());
    // Without --strict it writes; a second import that differs needs --force and keeps a backup.
    assert!(run(&["import", "web.service", "-o", out.to_str().unwrap()]).status.success());
    fs::write(out.join("web.toml"), "# edited by hand\n").unwrap();
    let o = run(&["import", "web.service", "-o", out.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("use --force"), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(out.join("web.toml")).unwrap(), "# edited by hand\n");
    assert!(run(&["import", "web.service", "-o", out.to_str().unwrap(), "--force"]).status.success());
    assert_eq!(fs::read_to_string(out.join("web.toml.bak")).unwrap(), "# edited by hand\n");
    assert!(fs::read_to_string(out.join("web.toml")).unwrap().contains("name = \"web\""));
}

#[test]
fn unreadable_inputs_are_refused_with_their_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("blob.service"), b"[Service]\nExecStart=/bin/x\0\xff\n").unwrap();
    fs::write(dir.path().join("notes.txt"), "just some text\n").unwrap();
    fs::write(dir.path().join("web.socket"), "[Socket]\nListenStream=80\n").unwrap();
    for (file, says) in [
        ("blob.service", "a binary file"),
        ("notes.txt", "not a format initkit reads"),
        ("web.socket", "not a service unit"),
        ("missing.service", "No such file"),
    ] {
        let o = common::initkit().args(["import", file]).current_dir(dir.path()).output().unwrap();
        assert!(!o.status.success(), "{file}");
        assert!(stderr(&o).contains(file) && stderr(&o).contains(says), "{file}: {}", stderr(&o));
    }
}

#[test]
fn convert_renders_an_lsb_script_as_a_systemd_unit() {
    let o = run(&["convert", "legacyd", "--to", "systemd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let unit = String::from_utf8_lossy(&o.stdout);
    assert!(unit.contains("Description=Legacy example daemon\n"), "{unit}");
    assert!(unit.contains("ExecStart=/usr/sbin/legacyd $DAEMON_ARGS"), "{unit}");
    assert!(unit.contains("User=legacy") && unit.contains("TimeoutStopSec=30"), "{unit}");
    assert!(unit.contains("ExecReload=/bin/kill -s HUP $MAINPID"), "{unit}");
    // The report goes to stderr, never into the unit.
    assert!(stderr(&o).contains("action `rotate` dropped") && !unit.contains("rotate"), "{}", stderr(&o));
    let o = run(&["convert", "legacyd", "--to", "systemd", "--strict"]);
    assert!(!o.status.success() && o.stdout.is_empty());
}

#[test]
fn install_takes_a_unit_or_a_script_and_records_the_imported_recipe() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path().to_str().unwrap();
    let o = run(&["install", "./legacyd", "--root", r, "--target", "systemd", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The report is said before the install, and the unit runs the script's daemon.
    assert!(stderr(&o).contains("action `rotate` dropped"), "{}", stderr(&o));
    let unit = fs::read_to_string(root.path().join("etc/systemd/system/legacyd.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/sbin/legacyd $DAEMON_ARGS"), "{unit}");
    // The manifest keeps the imported recipe, so start/stop/uninstall know it.
    let kept = fs::read_to_string(root.path().join("var/lib/initkit/installed/legacyd.toml")).unwrap();
    assert!(parse_recipe(Path::new("legacyd.toml"), &kept).is_ok(), "{kept}");
    // A template unit's `@` is part of its file name, not an instance.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("echo@.service"), "[Service]\nExecStart=/bin/echo %i\n").unwrap();
    let o = common::initkit()
        .args(["render", "./echo@.service@one", "--target", "systemd"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    // (No file is named `echo@.service@one`: the instance was split off.)
    assert!(o.status.success(), "{}", stderr(&o));
    let unit = String::from_utf8_lossy(&o.stdout);
    assert!(unit.contains("/etc/systemd/system/echo@.service") && unit.contains("ExecStart=/bin/echo %i"), "{unit}");
    // A file of several services names them and installs nothing.
    let o = run(&["install", "./Procfile", "--root", r, "--target", "systemd"]);
    assert!(!o.status.success() && stderr(&o).contains("initkit import ./Procfile -o DIR"), "{}", stderr(&o));
}

/// The unit of a rendered recipe, read back, renders the same `ExecStart=`,
/// `User=` and `Type=`.
#[test]
fn every_catalogue_unit_imports_back_to_the_same_command_user_and_type() {
    let keys = ["ExecStart=", "User=", "Type=", "ExecReload=", "KillSignal="];
    let lines = |unit: &str| -> Vec<String> {
        unit.lines().filter(|l| keys.iter().any(|k| l.starts_with(k))).map(str::to_owned).collect()
    };
    for recipe in common::catalogue() {
        let options = common::options_for(&recipe);
        let unit = &render(&recipe, Target::Systemd, &options).unwrap()[0];
        let file = unit.path.rsplit('/').next().unwrap();
        let imported = import::import(&Source::new(file, &unit.content), Format::Systemd)
            .unwrap_or_else(|p| panic!("{}: {p:?}", recipe.name));
        let back = parse_recipe(Path::new("x.toml"), &imported[0].recipe).unwrap();
        let again = &render(&back, Target::Systemd, &common::options_for(&back)).unwrap()[0];
        assert_eq!(lines(&again.content), lines(&unit.content), "{}", recipe.name);
    }
}

fn any_format() -> impl Strategy<Value = Format> {
    prop::sample::select(vec![
        Format::Auto,
        Format::Systemd,
        Format::Sysv,
        Format::Upstart,
        Format::Openrc,
        Format::Supervisord,
        Format::Procfile,
    ])
}

/// Lines in the shape of each format, with hostile values.
fn shaped_text() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "[Unit]",
        "[Service]",
        "[program:x]",
        "ExecStart=",
        "ExecReload=",
        "Environment=",
        "Description=",
        "command=",
        "### BEGIN INIT INFO",
        "# Provides: ",
        "DAEMON=",
        "start-stop-daemon --start --exec ",
        "web: ",
        "case \"$1\" in",
        "  reload)",
        "exec ",
        "script",
        "end script",
        "pre-stop script",
        "setuid ",
        "env ",
        "limit nofile ",
        "respawn limit ",
        "instance $",
    ]);
    prop::collection::vec((key, "[ -~\t\\\\$%{}'\"`;|&\u{e9}\u{202e}]{0,24}"), 0..12)
        .prop_map(|lines| lines.into_iter().flat_map(|(k, v)| [k.to_owned(), v, "\n".to_owned()]).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any text, in any format: a recipe that parses, or located problems; never a panic.
    #[test]
    fn any_text_imports_or_is_refused_without_a_panic(
        text in prop_oneof![shaped_text(), any::<String>()],
        format in any_format(),
        name in prop::sample::select(vec!["x.service", "x@.service", "init.d/x", "Procfile", "x.conf", "x"]),
    ) {
        match import::import(&Source::new(name, &text), format) {
            Ok(list) => {
                for i in list {
                    prop_assert!(parse_recipe(Path::new("x.toml"), &i.recipe).is_ok(), "{}", i.recipe);
                    for e in &i.report.entries {
                        prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1), "{e:?}");
                    }
                }
            }
            Err(problems) => prop_assert!(!problems.is_empty()),
        }
    }

    /// Literal text stays literal: braces, dots and colons of a command and
    /// its description come back as they were, never as placeholders.
    #[test]
    fn literal_text_round_trips(
        args in prop::collection::vec("[a-zA-Z0-9{}/._=:,+-]{1,12}", 0..5),
        desc in "[a-zA-Z0-9{}()<>!?#*+=:;,.'\"`|&~^-][a-zA-Z0-9 {}()<>!?#*+=:;,.'\"`|&~^-]{0,30}",
    ) {
        let desc = desc.trim_end();
        let exec = format!("/usr/bin/x {}", args.join(" ")).trim_end().to_owned();
        let text = format!("[Unit]\nDescription={desc}\n[Service]\nExecStart={exec}\n");
        let imported = import::import(&Source::new("x.service", &text), Format::Systemd).unwrap();
        let recipe = parse_recipe(Path::new("x.toml"), &imported[0].recipe).unwrap();
        prop_assert_eq!(&recipe.summary, desc);
        let unit = &render(&recipe, Target::Systemd, &common::options_for(&recipe)).unwrap()[0];
        let line = unit.content.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
        // Quoted as the renderer likes; the same words as the source.
        prop_assert_eq!(words::split(line, Dialect::Systemd), words::split(&exec, Dialect::Systemd));
    }
}

#[test]
fn a_services_timer_and_socket_beside_it_become_its_schedule_and_socket() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| fs::write(dir.path().join(name), text).unwrap();
    write("scrub.service", "[Unit]\nDescription=Scrub\n[Service]\nType=oneshot\nExecStart=/usr/sbin/scrub --all\n");
    write(
        "scrub.timer",
        "[Unit]\nDescription=the timer's own text\n[Timer]\nOnCalendar=Sun *-*-* 03:10:00\nPersistent=true\nRandomizedDelaySec=60\n[Install]\nWantedBy=timers.target\n",
    );
    write("echo.service", "[Service]\nExecStart=/usr/bin/echod\n");
    write("echo.socket", "[Socket]\nListenStream=127.0.0.1:7777\nListenStream=/run/echo.sock\nAccept=no\n");
    // A timer for a service that is not a task cannot be a recipe's schedule.
    write("web.service", "[Service]\nExecStart=/usr/bin/webd\n");
    write("web.timer", "[Timer]\nOnCalendar=daily\n");
    let imports = common::import_json_in(dir.path(), &["."]);
    let by_name = |n: &str| imports.iter().find(|(r, _)| r.name == n).unwrap().clone();
    let (scrub, s) = by_name("scrub");
    assert_eq!(scrub.summary, "Scrub", "the timer's [Unit] is its own");
    let schedule = scrub.schedule.as_ref().expect("the timer became the schedule");
    assert_eq!(schedule.calendar.as_deref(), Some("Sun *-*-* 03:10:00"));
    assert!(schedule.persistent);
    assert_eq!(report_entry(&s, "[Timer] OnCalendar"), ("./scrub.timer:4".into(), "carried".into()));
    let (echo, _) = by_name("echo");
    let socket = echo.socket.as_ref().expect("the socket unit became the socket");
    assert_eq!(socket.stream, ["127.0.0.1:7777", "/run/echo.sock"]);
    assert!(!socket.accept);
    let (web, w) = by_name("web");
    assert!(web.schedule.is_none());
    assert_eq!(report_entry(&w, "[Timer] OnCalendar").1, "dropped");
    // The companions are not imported on their own.
    assert_eq!(imports.len(), 3, "{imports:?}");
}

#[test]
fn an_upstart_job_becomes_a_recipe_from_its_stanzas() {
    let imports = import_json(&["queued.conf"]);
    let [(r, i)] = imports.as_slice() else { panic!("one recipe: {imports:?}") };
    assert_eq!(i["format"], "upstart");
    assert_eq!(r.summary, "Job queue daemon");
    // Unquoted, as the shell reads them: both split.
    assert_eq!(command(r), ["/usr/sbin/queued", "--port", "{PORT...}", "{OPTS...}"]);
    let vars: Vec<(&str, String)> = r.vars.iter().map(|v| (v.name.as_str(), v.default.to_string())).collect();
    assert_eq!(vars, [("PORT", "7100".to_owned()), ("OPTS", "--workers 2".to_owned())]);
    assert_eq!((r.run.user.as_str(), r.run.group.as_deref()), ("queue", Some("queue")));
    assert_eq!(r.run.working_directory.as_ref().map(ToString::to_string).as_deref(), Some("/var/lib/queued"));
    assert_eq!(r.stop.signal.name(), "INT");
    assert_eq!(r.stop.timeout_ms, 20_000);
    assert_eq!(r.run.success_codes, [3]);
    assert_eq!(r.restart.burst, Some(10));
    assert_eq!(report_entry(i, "normal exit"), ("queued.conf:16".into(), "approximated".into()));
    assert_eq!(report_entry(i, "kill signal"), ("queued.conf:14".into(), "carried".into()));
    assert_eq!(report_entry(i, "pre-start").0, "queued.conf:22");
    assert_eq!(report_entry(i, "start on").1, "approximated");
    assert!(r.needs.iter().any(|n| format!("{n:?}") == "Network"), "{:?}", r.needs);
}

#[test]
fn an_upstart_job_that_forks_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("forky.conf"), "description \"x\"\nexpect fork\nexec /usr/sbin/forky\n").unwrap();
    let o = common::initkit().args(["import", "forky.conf"]).current_dir(dir.path()).output().unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("forky.conf:2: `expect fork`"), "{}", stderr(&o));
}

#[test]
fn an_output_directory_that_cannot_be_made_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    fs::write(&file, "").unwrap();
    let out = file.join("recipes");
    let o = run(&["import", "web.service", "-o", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains(&format!("cannot create the directory {}", out.display())), "{}", stderr(&o));
}

#[test]
fn a_lone_triggering_condition_is_a_plain_one_and_several_are_any_of() {
    let dir = tempfile::tempdir().unwrap();
    let one = "[Unit]\nConditionPathExists=|/etc/x.conf\n[Service]\nExecStart=/usr/bin/x\n";
    let two =
        "[Unit]\nConditionPathExists=|/etc/x.conf\nConditionPathExists=|/etc/y.conf\n[Service]\nExecStart=/usr/bin/x\n";
    fs::write(dir.path().join("one.service"), one).unwrap();
    fs::write(dir.path().join("two.service"), two).unwrap();
    let imports = common::import_json_in(dir.path(), &["."]);
    let [(one, _), (two, t)] = imports.as_slice() else { panic!("two recipes: {imports:?}") };
    let values =
        |list: &[initkit::recipe::Condition]| list.iter().map(initkit::recipe::Condition::value).collect::<Vec<_>>();
    assert_eq!(values(&one.conditions.all), ["/etc/x.conf"]);
    assert!(one.conditions.any.is_empty());
    assert!(two.conditions.all.is_empty());
    assert_eq!(values(&two.conditions.any), ["/etc/x.conf", "/etc/y.conf"]);
    assert_eq!(report_entry(t, "[Unit] ConditionPathExists"), ("./two.service:3".into(), "carried".into()));
}
