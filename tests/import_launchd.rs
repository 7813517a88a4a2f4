//! `initkit import` of launchd property lists: hand-written jobs (a daemon
//! kept alive, an app with its environment, a calendar task, an inetd-style
//! socket) read with a report line for each key; every catalogue recipe's
//! plist read back to a recipe that renders the same plist; any input read
//! without a panic, every problem on a line of the file; hostile text kept
//! as data both ways.

mod common;

use common::report_entry;

use std::{fs, path::Path, process::Output};

use initkit::{
    import::{
        self, Format, Source,
        draft::{Draft, lit},
        plist,
    },
    recipe::{IoClass, Recipe, RestartPolicy, RunKind, StopMode, Template, parse_recipe, text},
    render::{Artifact, Target, render},
};
use proptest::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import");

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `import --json PATHS` in `dir`: each recipe (parsed) and its import.
fn import_in(dir: &Path, paths: &[&str]) -> Vec<(Recipe, serde_json::Value)> {
    let o = common::initkit().args(["import", "--json"]).args(paths).current_dir(dir).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["problems"].as_array().unwrap().len(), 0, "{json:#}");
    json["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (parse_recipe(Path::new("x.toml"), i["recipe"].as_str().unwrap()).unwrap(), i.clone()))
        .collect()
}

/// The one recipe of a fixture and its import.
fn import_fixture(file: &str) -> (Recipe, serde_json::Value) {
    let mut all = import_in(Path::new(FIXTURES), &[file]);
    assert_eq!(all.len(), 1);
    let (r, i) = all.remove(0);
    assert_eq!(i["format"], "launchd");
    (r, i)
}

fn command(r: &Recipe) -> Vec<String> {
    r.run.command.iter().map(|t| t.as_literal().unwrap()).collect()
}

fn env(r: &Recipe, name: &str) -> Option<String> {
    r.run.environment.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.as_literal())
}

fn why(import: &serde_json::Value, setting: &str) -> String {
    let e = import["report"].as_array().unwrap().iter().rfind(|e| e["setting"] == setting).unwrap();
    e["why"].as_str().unwrap_or_default().to_owned()
}

/// A job's keys in a property list, as launchd's own files are laid out.
fn job(keys: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n{keys}</dict>\n</plist>\n"
    )
}

const PROGRAM: &str =
    "<key>Label</key><string>t</string>\n<key>ProgramArguments</key><array><string>/bin/t</string></array>\n";

/// A job imported through the library: its recipe and report text.
fn import_job(keys: &str) -> (Recipe, String) {
    let imported =
        import::import(&Source::new("t.plist", &job(keys)), Format::Launchd).unwrap_or_else(|p| panic!("{p:?}"));
    let recipe = parse_recipe(Path::new("t.toml"), &imported[0].recipe).unwrap();
    (recipe, imported[0].report.text())
}

fn problems(file: &str, text: &str) -> Vec<String> {
    import::import(&Source::new(file, text), Format::Auto).unwrap_err().iter().map(ToString::to_string).collect()
}

#[test]
fn a_daemon_kept_alive_at_load_becomes_a_recipe_that_restarts_after_every_end() {
    let (r, i) = import_fixture("launchd/com.example.nginx.plist");
    assert_eq!(r.name, "com-example-nginx");
    assert_eq!(command(&r), ["/usr/local/sbin/nginx", "-c", "/usr/local/etc/nginx/nginx.conf", "-g", "daemon off;"]);
    assert_eq!((r.run.user.as_str(), r.run.group.as_deref()), ("nginx", Some("nginx")));
    assert_eq!(r.run.umask, Some(0o022), "Umask 18 is decimal for 022");
    assert_eq!(r.run.limits.entries(), [("nofile", 4096)], "the soft limit");
    assert_eq!((r.restart.policy, r.restart.delay_ms), (RestartPolicy::Always, 5_000));
    assert_eq!(r.stop.timeout_ms, 20_000);
    assert!(r.needs.is_empty());
    let f = "launchd/com.example.nginx.plist";
    for (setting, line, outcome) in [
        ("Label", 6, "approximated"),
        ("ProgramArguments", 8, "carried"),
        ("UserName", 16, "carried"),
        ("GroupName", 18, "carried"),
        ("RunAtLoad", 20, "carried"),
        ("KeepAlive", 22, "carried"),
        ("ThrottleInterval", 24, "approximated"),
        ("ExitTimeOut", 26, "carried"),
        ("Umask", 28, "carried"),
        ("SoftResourceLimits.NumberOfFiles", 32, "carried"),
        ("HardResourceLimits.NumberOfFiles", 37, "approximated"),
        ("HardResourceLimits.Stack", 39, "dropped"),
        ("StandardErrorPath", 42, "approximated"),
    ] {
        assert_eq!(report_entry(&i, setting), (format!("{f}:{line}"), outcome.to_owned()), "{setting}");
    }
    assert_eq!(why(&i, "HardResourceLimits.NumberOfFiles"), "one value for the soft and the hard limit: 4096");
    assert!(why(&i, "StandardErrorPath").contains("`/usr/local/var/log/nginx/error.log` is not written"));
    assert_eq!((i["carried"].as_u64(), i["approximated"].as_u64(), i["dropped"].as_u64()), (Some(8), Some(5), Some(1)));
    assert_eq!(report_entry(&i, "sandbox").1, "approximated", "launchd has no sandbox: systemd's is opened");
}

#[test]
fn an_app_with_its_environment_and_working_directory_becomes_a_recipe() {
    let (r, i) = import_fixture("launchd/com.example.api.plist");
    assert_eq!(command(&r), ["/usr/local/bin/node", "server.js", "--port", "3000"], "Program replaces argv[0]");
    assert_eq!(r.run.user, "api");
    assert_eq!(r.run.working_directory.as_ref().and_then(Template::as_literal).as_deref(), Some("/srv/api"));
    assert_eq!(env(&r, "NODE_ENV").as_deref(), Some("production"));
    assert_eq!(env(&r, "PORT").as_deref(), Some("3000"));
    // Entities decoded, braces and `$(…)` kept as text, never a placeholder or a command.
    assert_eq!(env(&r, "GREETING").as_deref(), Some("hello <b> & \"friends\" {name} $(not run)"));
    assert_eq!(env(&r, "MOTD"), None, "an environment value is one line");
    assert_eq!(r.run.nice, Some(5));
    assert_eq!(r.restart.policy, RestartPolicy::OnFailure, "KeepAlive SuccessfulExit=false");
    let f = "launchd/com.example.api.plist";
    for (setting, line, outcome) in [
        ("Program", 7, "approximated"),
        ("WorkingDirectory", 16, "carried"),
        ("EnvironmentVariables", 20, "carried"),
        ("EnvironmentVariables.MOTD", 28, "dropped"),
        ("KeepAlive.SuccessfulExit", 34, "carried"),
        ("KeepAlive.NetworkState", 36, "approximated"),
        ("RunAtLoad", 39, "carried"),
        ("ProcessType", 41, "approximated"),
        ("Nice", 43, "carried"),
        ("StandardOutPath", 45, "approximated"),
        ("StandardErrorPath", 47, "approximated"),
        ("MachServices", 49, "dropped"),
        ("Disabled", 54, "carried"),
    ] {
        assert_eq!(report_entry(&i, setting), (format!("{f}:{line}"), outcome.to_owned()), "{setting}");
    }
    assert_eq!(why(&i, "Program"), "runs with its own path as argv[0], not `node`");
    assert!(why(&i, "StandardOutPath").contains("/var/log/initkit/com-example-api/com-example-api.log under launchd"));
    assert_eq!(why(&i, "MachServices"), "Mach services exist on macOS only");
}

#[test]
fn a_calendar_job_becomes_a_task_on_a_schedule_with_its_timer() {
    let (r, i) = import_fixture("launchd/com.example.backup.plist");
    assert_eq!(command(&r), ["/usr/local/bin/backup", "--full", "--exclude=*.tmp&<cache>"], "CDATA is text");
    assert_eq!(r.run.kind, RunKind::Oneshot { remain: false });
    let schedule = r.schedule.as_ref().unwrap();
    assert_eq!(schedule.calendar.as_deref(), Some("Mon,Thu *-*-* 03:30:00"), "two times that differ in the weekday");
    assert_eq!(r.restart.policy, RestartPolicy::No);
    assert_eq!(r.run.io.map(|(c, _)| c), Some(IoClass::Idle));
    assert_eq!(r.stop.mode, StopMode::Process);
    let f = "launchd/com.example.backup.plist";
    for (setting, line, outcome) in [
        ("StartCalendarInterval", 14, "carried"),
        ("RunAtLoad", 33, "carried"),
        ("LowPriorityIO", 35, "approximated"),
        ("AbandonProcessGroup", 37, "approximated"),
        ("WatchPaths", 39, "dropped"),
        ("StandardOutPath", 43, "approximated"),
    ] {
        assert_eq!(report_entry(&i, setting), (format!("{f}:{line}"), outcome.to_owned()), "{setting}");
    }
    let artifacts = render(&r, Target::Systemd, &common::options_for(&r)).unwrap();
    let timer = artifacts.iter().find(|a| Path::new(&a.path).extension().is_some_and(|e| e == "timer")).unwrap();
    assert!(timer.content.contains("OnCalendar=Mon,Thu *-*-* 03:30:00\n"), "{}", timer.content);
}

#[test]
fn an_inetd_style_socket_becomes_a_socket_that_accepts_each_connection() {
    let (r, i) = import_fixture("launchd/com.example.echo.plist");
    assert_eq!(command(&r), ["/usr/local/libexec/echod", "--inetd"]);
    assert_eq!(r.run.user, "nobody");
    let socket = r.socket.as_ref().unwrap();
    assert_eq!((socket.stream.as_slice(), socket.accept), (&["127.0.0.1:7007".to_owned()][..], true));
    let f = "launchd/com.example.echo.plist";
    for (setting, line, outcome) in [
        ("Sockets", 14, "carried"),
        ("Sockets.Listeners", 17, "carried"),
        ("Sockets.Listeners.Bonjour", 24, "dropped"),
        ("inetdCompatibility", 28, "carried"),
        ("HardResourceLimits.CPU", 35, "dropped"),
    ] {
        assert_eq!(report_entry(&i, setting), (format!("{f}:{line}"), outcome.to_owned()), "{setting}");
    }
    let artifacts = render(&r, Target::Systemd, &common::options_for(&r)).unwrap();
    let unit = artifacts.iter().find(|a| Path::new(&a.path).extension().is_some_and(|e| e == "socket")).unwrap();
    assert!(unit.content.contains("ListenStream=127.0.0.1:7007\nAccept=yes\n"), "{}", unit.content);
}

#[test]
fn plists_are_found_by_their_suffix_or_their_plist_element() {
    let all = import_in(Path::new(FIXTURES), &["launchd"]);
    let names: Vec<&str> = all.iter().map(|(r, _)| r.name.as_str()).collect();
    assert_eq!(names, ["com-example-api", "com-example-backup", "com-example-echo", "com-example-nginx"]);
    assert!(all.iter().all(|(_, i)| i["format"] == "launchd"));
    let dir = tempfile::tempdir().unwrap();
    let text = job(PROGRAM);
    fs::write(dir.path().join("job"), &text).unwrap();
    fs::write(dir.path().join("job.xml"), &text).unwrap();
    let found = import_in(dir.path(), &["job"]);
    assert_eq!(found[0].1["format"], "launchd", "`<plist` in the text");
    let o =
        common::initkit().args(["import", "--format", "launchd", "job.xml"]).current_dir(dir.path()).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_binary_plist_is_refused_with_the_command_that_converts_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("x.plist"), b"bplist00\xd1\x01\x02\x00\x00\x08").unwrap();
    let o = common::initkit().args(["import", "x.plist"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains("error: x.plist:1: binary property list: convert it with `plutil -convert xml1 x.plist` first\n"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        problems("/Library/LaunchDaemons/a.plist", "bplist00\u{1}"),
        [
            "/Library/LaunchDaemons/a.plist:1: binary property list: convert it with `plutil -convert xml1 /Library/LaunchDaemons/a.plist` first"
        ]
    );
}

#[test]
fn a_broken_plist_is_refused_at_its_line_with_every_problem_at_once() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("cut.plist"), "<plist>\n<dict>\n<key>Label</key>\n<string>x").unwrap();
    let o = common::initkit().args(["import", "cut.plist"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error: cut.plist:4: the file ends inside <string> (opened on line 4): it is truncated\n"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        problems("a.plist", "<plist>\n<dict>\n<key>Label</key>\n</array>\n</plist>\n"),
        ["a.plist:4: </array> closes <dict> (opened on line 2)"]
    );
    assert_eq!(
        problems(
            "a.plist",
            "<plist><dict>\n<key>Nice</key><integer>1.5</integer>\n<key>X</key>\n<wat/>\n</dict></plist>"
        ),
        ["a.plist:2: <integer> `1.5` is not an integer", "a.plist:4: unknown element <wat>"]
    );
    assert_eq!(
        problems("a.plist", &job("<key>Label</key><string>x</string>\n")),
        ["a.plist:4: no Program or ProgramArguments: nothing to run"]
    );
    assert_eq!(
        problems(
            "a.plist",
            &job(
                "<key>ProgramArguments</key>\n<array><string>/bin/x</string>\n<integer>1</integer></array>\n<key>UserName</key><string>Bob Smith</string>\n"
            )
        ),
        [
            "a.plist:7: argument 2 of ProgramArguments is an integer, not a string",
            "a.plist:8: `Bob Smith` is not a user name initkit takes (lowercase letters, digits, `_` and `-`, at most 32)",
        ]
    );
    assert_eq!(
        problems("a.plist", "<plist><array/></plist>"),
        ["a.plist:1: the property list holds an array, not the dictionary of a job"]
    );
}

#[test]
fn launchd_keys_the_fixtures_leave_out() {
    // StartInterval is `every`; KeepAlive does not restart a task on a schedule.
    let (r, report) =
        import_job(&format!("{PROGRAM}<key>StartInterval</key><integer>900</integer>\n<key>KeepAlive</key><true/>\n"));
    assert_eq!(r.schedule.as_ref().and_then(|s| s.every_ms), Some(900_000));
    assert_eq!(r.restart.policy, RestartPolicy::No);
    assert!(report.contains("t.plist:8: KeepAlive dropped: a task on a schedule runs at its times"), "{report}");
    // Times that differ in two fields: the first is kept, the others reported.
    let (r, report) = import_job(&format!(
        "{PROGRAM}<key>StartCalendarInterval</key>\n<array>\n<dict><key>Hour</key><integer>9</integer></dict>\n<dict><key>Hour</key><integer>17</integer><key>Minute</key><integer>30</integer></dict>\n</array>\n"
    ));
    assert_eq!(r.schedule.unwrap().calendar.as_deref(), Some("*-*-* 09:*:00"), "no Minute: every minute of the hour");
    assert!(report.contains("t.plist:7: StartCalendarInterval approximated: only the first time (line 9)"), "{report}");
    assert!(report.contains("t.plist:10: StartCalendarInterval[2] dropped: a second calendar time"), "{report}");
    let (r, report) = import_job(&format!(
        "{PROGRAM}<key>StartCalendarInterval</key><dict><key>Day</key><integer>1</integer><key>Weekday</key><integer>7</integer><key>Hour</key><integer>0</integer><key>Minute</key><integer>0</integer></dict>\n"
    ));
    assert_eq!(r.schedule.unwrap().calendar.as_deref(), Some("Sun *-*-01 00:00:00"), "Weekday 7 is Sunday");
    assert!(report.contains("launchd runs it when the day or the weekday matches"), "{report}");
    // A socket the daemon checks in for with launchd is handed over the systemd way.
    let (r, report) = import_job(&format!(
        "{PROGRAM}<key>Sockets</key><dict>\n<key>a</key><dict><key>SockServiceName</key><integer>8080</integer><key>SockFamily</key><string>IPv6</string></dict>\n<key>b</key><array><dict><key>SockType</key><string>dgram</string><key>SockServiceName</key><string>53</string><key>SockNodeName</key><string>localhost</string></dict>\n<dict><key>SockServiceName</key><string>http</string></dict>\n<dict><key>SockPathName</key><string>/var/run/t.sock</string><key>SockPathMode</key><integer>438</integer></dict></array>\n</dict>\n"
    ));
    let socket = r.socket.unwrap();
    assert_eq!(socket.stream, ["[::]:8080", "/var/run/t.sock"]);
    assert_eq!(socket.datagram, ["127.0.0.1:53"]);
    assert!(report.contains("t.plist:7: Sockets approximated: socket activation the systemd way: the service is handed its sockets as LISTEN_FDS"), "{report}");
    assert!(report.contains("t.plist:9: Sockets.b[1] approximated: localhost as 127.0.0.1"), "{report}");
    assert!(
        report.contains("t.plist:10: Sockets.b[2] dropped: `http` is a service name: write its port number"),
        "{report}"
    );
    assert!(report.contains("t.plist:11: Sockets.b[3].SockPathMode dropped"), "{report}");
    // A program launchd looks up in PATH; a job started only on demand; keys given twice.
    let (r, report) = import_job(
        "<key>Label</key><string>t</string>\n<key>Program</key><string>t</string>\n<key>RunAtLoad</key><false/>\n<key>Umask</key><string>027</string>\n<key>Umask</key><integer>63</integer>\n<key>Disabled</key><true/>\n",
    );
    assert_eq!(command(&r), ["/usr/bin/env", "t"]);
    assert_eq!(r.run.umask, Some(0o077), "the last Umask");
    assert!(report.contains("t.plist:6: Program approximated: `t` is looked up in PATH by /usr/bin/env"), "{report}");
    assert!(report.contains("t.plist:7: RunAtLoad approximated: launchd starts it only when asked"), "{report}");
    assert!(report.contains("t.plist:8: Umask dropped: given again on line 9: the last one counts"), "{report}");
    assert!(report.contains("t.plist:10: Disabled approximated: launchd would not load it; `initkit install` enables it at boot: `initkit disable t` keeps it off"), "{report}");
}

/// The plist a recipe renders, imported back, renders again byte for byte.
fn round_trip_one(recipe: &Recipe) -> Result<(), String> {
    let artifacts = render(recipe, Target::Launchd, &common::options_for(recipe)).map_err(|e| e.to_string())?;
    let plist: &Artifact = &artifacts[0];
    let imported = import::import(&Source::new(&plist.path, &plist.content), Format::Auto)
        .map_err(|p| format!("{}: {p:?}\n{}", recipe.name, plist.content))?;
    let i = &imported[0];
    let back = parse_recipe(Path::new("x.toml"), &i.recipe).map_err(|e| format!("{e}\n{}", i.recipe))?;
    let same =
        |what: &str, ok: bool| if ok { Ok(()) } else { Err(format!("{}: {what} differs\n{}", recipe.name, i.recipe)) };
    same("format", i.format == Format::Launchd)?;
    same("name", back.name == recipe.name)?;
    same("user", back.run.user == recipe.run.user)?;
    same("group", back.run.group == recipe.run.group)?;
    same("nothing dropped", i.report.counts().2 == 0)?;
    let again = render(&back, Target::Launchd, &common::options_for(&back)).map_err(|e| e.to_string())?;
    same("path", again[0].path == plist.path)?;
    same("mode", again[0].mode == plist.mode)?;
    if again[0].content != plist.content {
        return Err(format!(
            "{}: the plist differs\n{}\n{}\n{}",
            recipe.name, plist.content, again[0].content, i.recipe
        ));
    }
    Ok(())
}

#[test]
fn every_catalogue_plist_imports_back_to_a_recipe_that_renders_it_again() {
    let mut checked = 0;
    for recipe in common::catalogue() {
        if render(&recipe, Target::Launchd, &common::options_for(&recipe)).is_err() {
            continue;
        }
        round_trip_one(&recipe).unwrap_or_else(|e| panic!("{e}"));
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} catalogue recipes render for launchd");
}

#[test]
fn every_field_a_plist_holds_reads_back_to_the_same_recipe_field() {
    let text = "name = \"keeper\"\nsummary = \"k\"\nneeds = []\n[instances]\ndefault = \"blue\"\n[run]\ncommand = [\"/usr/bin/keeper\", \"--name\", \"{instance}\", \"a {{b}}\"]\nuser = \"keeper\"\ngroup = \"staff\"\nworking_directory = \"/srv/keeper\"\numask = \"0027\"\nlimits = { nofile = 1024, nproc = 64, core = 0, memlock = 65536 }\nenvironment = { MODE = \"fast\", QUOTE = \"it's <ok> & \\\"fine\\\"\" }\n[restart]\npolicy = \"always\"\n[stop]\ntimeout = \"45s\"\n";
    let recipe = parse_recipe(Path::new("keeper.toml"), text).unwrap();
    round_trip_one(&recipe).unwrap_or_else(|e| panic!("{e}"));
    let plist = &render(&recipe, Target::Launchd, &common::options_for(&recipe)).unwrap()[0];
    assert!(plist.content.contains("<key>KeepAlive</key>\n\t<true/>"), "{}", plist.content);
    let imported = import::import(&Source::new(&plist.path, &plist.content), Format::Launchd).unwrap();
    let back = parse_recipe(Path::new("x.toml"), &imported[0].recipe).unwrap();
    // Every setting carried; the one approximation is the sandbox launchd never had.
    let report = &imported[0].report;
    assert_eq!(report.counts(), (report.entries.len() - 1, 1, 0), "{}", report.text());
    assert!(report.text().contains(":1: sandbox approximated"), "{}", report.text());
    assert_eq!(command(&back), ["/usr/bin/keeper", "--name", "blue", "a {b}"], "resolved at render time");
    assert_eq!(back.instances.as_ref().and_then(|i| i.default.as_deref()), Some("blue"));
    assert_eq!(back.run.working_directory, recipe.run.working_directory);
    assert_eq!(back.run.environment, recipe.run.environment);
    assert_eq!(back.run.umask, recipe.run.umask);
    assert_eq!(back.run.limits, recipe.run.limits);
    assert_eq!(back.restart.policy, RestartPolicy::Always);
    assert_eq!(back.stop.timeout_ms, 45_000);
}

/// Pieces of plist markup and of hostile text.
fn plist_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "<?xml version=\"1.0\"?>",
        "<!DOCTYPE plist [ <!ENTITY x \">\"> ]>",
        "<plist version=\"1.0\">",
        "</plist>",
        "<dict>",
        "</dict>",
        "<dict/>",
        "<array>",
        "</array>",
        "<key>Label</key>",
        "<key>ProgramArguments</key>",
        "<key>Program</key>",
        "<key>KeepAlive</key>",
        "<key>SuccessfulExit</key>",
        "<key>Sockets</key>",
        "<key>SockServiceName</key>",
        "<key>StartCalendarInterval</key>",
        "<key>Hour</key>",
        "<key>EnvironmentVariables</key>",
        "<key>UserName</key>",
        "<key>Umask</key>",
        "<key>inetdCompatibility</key>",
        "<key>Wait</key>",
        "<string>",
        "</string>",
        "<string>/bin/x</string>",
        "<integer>",
        "</integer>",
        "<integer>7</integer>",
        "<real>1.5</real>",
        "<date>2024-01-01T00:00:00Z</date>",
        "<data>aGk=</data>",
        "<true/>",
        "<false/>",
        "<![CDATA[",
        "]]>",
        "<!--",
        "-->",
        "&amp;",
        "&#x41;",
        "&#0;",
        "&bogus;",
        "&",
        "<",
        ">",
        "\"",
        "'",
        "\n",
        " ",
        "x",
        "é",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
}

/// The fixtures and a rendered plist, each cut short or edited.
fn damaged() -> impl Strategy<Value = String> {
    let mut sources: Vec<String> = ["api", "backup", "echo", "nginx"]
        .iter()
        .map(|n| fs::read_to_string(format!("{FIXTURES}/launchd/com.example.{n}.plist")).unwrap())
        .collect();
    let redis = common::catalogue().into_iter().find(|r| r.name == "redis").unwrap();
    sources.push(render(&redis, Target::Launchd, &common::options_for(&redis)).unwrap()[0].content.clone());
    (prop::sample::select(sources), any::<usize>(), any::<usize>(), plist_text()).prop_map(|(text, cut, at, junk)| {
        let boundary = |i: usize| {
            let mut i = i % (text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let (cut, at) = (boundary(cut), boundary(at));
        if cut % 2 == 0 { text[..cut].to_owned() } else { format!("{}{junk}{}", &text[..at], &text[at..]) }
    })
}

fn within(line: usize, text: &str) -> bool {
    line >= 1 && line <= text.lines().count().max(1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Any text or bytes, any plist cut short or edited: a recipe that
    /// parses, or problems that each point at a line of the file; never a
    /// panic, and never a recipe the importer made invalid.
    #[test]
    fn any_input_imports_or_is_refused_at_a_line_without_a_panic(
        text in prop_oneof![
            plist_text(),
            damaged(),
            any::<String>(),
            prop::collection::vec(any::<u8>(), 0..200).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ],
        format in prop::sample::select(vec![Format::Launchd, Format::Auto]),
    ) {
        match plist::parse("x.plist", &text) {
            Ok(_) => {}
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                for p in &problems {
                    prop_assert!(within(p.line, &text), "{p}");
                }
            }
        }
        match import::import(&Source::new("x.plist", &text), format) {
            Ok(list) => {
                for i in list {
                    prop_assert!(parse_recipe(Path::new("x.toml"), &i.recipe).is_ok(), "{}", i.recipe);
                    for e in &i.report.entries {
                        prop_assert!(within(e.line, &text), "{e:?}");
                    }
                }
            }
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                for p in &problems {
                    prop_assert!(within(p.line, &text), "{p}");
                    prop_assert!(!p.message.starts_with("the imported recipe is not valid"), "{p}\n{text}");
                }
            }
        }
    }
}

/// Hostile text: what ends a line, quotes, expands or closes XML.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "'",
        "\"",
        "`",
        "`id`",
        "$",
        "$(touch /tmp/ik-pwned)",
        "${HOME}",
        "<",
        ">",
        "&",
        "&amp;",
        "&#x41;",
        "]]>",
        "<![CDATA[",
        "<!--",
        "</string>",
        "{",
        "}",
        "{name}",
        "\\",
        "\n",
        "\t",
        ";",
        " ",
        "a",
        "é",
        "\u{202e}",
    ]);
    prop::collection::vec(piece, 0..6).prop_map(|p| p.concat())
}

/// A recipe whose arguments, setting default, environment value and working
/// directory hold hostile text.
fn hostile_recipe() -> impl Strategy<Value = Option<Recipe>> {
    (prop::collection::vec(hostile(), 0..4), hostile(), hostile(), "[a-z/ '{}$<&>]{1,12}").prop_map(
        |(args, default, value, dir)| {
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
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A recipe with hostile text renders a plist that imports back to the
    /// same arguments, environment and directory, and renders the same plist.
    #[test]
    fn hostile_text_in_a_rendered_plist_round_trips(recipe in hostile_recipe()) {
        prop_assume!(recipe.is_some());
        let recipe = recipe.unwrap();
        round_trip_one(&recipe).map_err(TestCaseError::fail)?;
    }

    /// A plist written by another tool with hostile text in its Label,
    /// arguments and environment: every argument and one-line value comes
    /// back byte for byte; a value a recipe cannot hold is reported, not
    /// mangled; the label is the summary and gives a valid name.
    #[test]
    fn hostile_text_in_any_plist_is_kept_as_data(
        label in hostile(),
        args in prop::collection::vec(hostile(), 0..4),
        values in prop::collection::vec(hostile(), 0..3),
    ) {
        let mut d = ::plist::Dictionary::new();
        d.insert("Label".into(), ::plist::Value::String(label.clone()));
        let mut argv = vec![::plist::Value::String("/usr/bin/x".into())];
        argv.extend(args.iter().map(|a| ::plist::Value::String(a.clone())));
        d.insert("ProgramArguments".into(), ::plist::Value::Array(argv));
        let vars: ::plist::Dictionary =
            values.iter().enumerate().map(|(i, v)| (format!("V{i}"), ::plist::Value::String(v.clone()))).collect();
        d.insert("EnvironmentVariables".into(), ::plist::Value::Dictionary(vars));
        let mut xml = Vec::new();
        ::plist::Value::Dictionary(d).to_writer_xml(&mut xml).unwrap();
        let xml = String::from_utf8(xml).unwrap();
        let imported = import::import(&Source::new("job.plist", &xml), Format::Auto).map_err(|p| TestCaseError::fail(format!("{p:?}\n{xml}")))?;
        let i = &imported[0];
        let r = parse_recipe(Path::new("x.toml"), &i.recipe).unwrap();
        prop_assert_eq!(&command(&r)[1..], &args[..]);
        for (n, v) in values.iter().enumerate() {
            let name = format!("V{n}");
            if text::check(text::Kind::Line, v).is_ok() {
                prop_assert_eq!(env(&r, &name), Some(v.clone()));
            } else {
                prop_assert_eq!(env(&r, &name), None);
                let setting = format!("EnvironmentVariables.{name}");
                prop_assert!(i.report.entries.iter().any(|e| e.setting == setting), "{}", i.report.text());
            }
        }
        prop_assert!(initkit::recipe::is_recipe_name(&r.name), "{}", r.name);
        if !label.is_empty() {
            prop_assert_eq!(r.name, import::recipe_name(&label));
            let shown: String = label.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            prop_assert_eq!(r.summary, format!("{shown} (launchd job)"));
        }
    }
}
