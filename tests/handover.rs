//! `[restart.handover]`: every bad value reported with its field and span;
//! what each init system makes of it (a handover, or a plain restart with
//! the reason); and the SysV script's restart run for real against a small
//! daemon in sh that hands over as nginx (a new main process) or haproxy (new
//! workers) do: the handover when it comes through, a plain restart when it
//! does not, a refused restart when the config test fails, and nothing left
//! running after the stop.

mod common;

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
};

use initkit::{
    host::handover::plain_reason,
    recipe::{HandoverMain, Recipe, parse_recipe, signal::Signal},
    render::{Layout, Options, Target, features, render},
};

/// A daemon recipe with `handover` as its `[restart.handover]` table.
fn text(handover: &str) -> String {
    format!(
        "name = \"probe\"\nsummary = \"a probe\"\n\n[run]\ncommand = [\"/bin/sleep\", \"1000\"]\nuser = \"root\"\n\n[restart.handover]\n{handover}\n"
    )
}

fn recipe(handover: &str) -> Recipe {
    let text = text(handover);
    parse_recipe(Path::new("probe.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Each diagnostic as (field, message, the recipe text its span covers).
fn problems(text: &str) -> Vec<(String, String, String)> {
    let e = parse_recipe(Path::new("probe.toml"), text).expect_err("refused");
    e.diagnostics
        .iter()
        .map(|d| {
            let at = d.span.clone().map(|s| text[s].to_owned()).unwrap_or_default();
            (d.field.clone(), d.message.clone(), at)
        })
        .collect()
}

#[test]
fn a_new_main_process_and_a_main_that_runs_itself_again_are_read() {
    let h = recipe("signal = \"SIGUSR2\"\nmain = \"child\"\nfinish = \"quit\"\ntimeout = \"5s\"").restart.handover;
    let h = h.expect("a handover");
    assert_eq!(h.signal, Signal::Usr2);
    assert_eq!(h.main, HandoverMain::Child { finish: Signal::Quit });
    assert_eq!(h.timeout_ms, 5_000);
    let h = recipe("signal = \"USR2\"\nmain = \"same\"").restart.handover.expect("a handover");
    assert_eq!(h.main, HandoverMain::Same);
    assert_eq!(h.timeout_ms, 10_000, "the default budget");
    let fields: Vec<String> = problems(&text("")).into_iter().map(|(f, _, _)| f).collect();
    assert_eq!(fields, ["restart.handover.signal", "restart.handover.main"], "an empty table says what it lacks");
}

#[test]
fn every_bad_value_is_reported_at_once_with_its_field_and_span() {
    let got = problems(&text("signal = \"SIGFOO\"\nmain = \"sideways\"\ntimeout = \"soon\"\ncolour = 1"));
    let fields: Vec<&str> = got.iter().map(|(f, _, _)| f.as_str()).collect();
    assert!(fields.contains(&"restart.handover.signal"), "{got:?}");
    assert!(fields.contains(&"restart.handover.main"), "{got:?}");
    assert!(fields.contains(&"restart.handover.timeout"), "{got:?}");
    assert!(fields.iter().any(|f| f.contains("colour")), "{got:?}");
    let signal = got.iter().find(|(f, _, _)| f == "restart.handover.signal").unwrap();
    assert!(signal.1.contains("`SIGFOO` is not a signal initkit knows"), "{signal:?}");
    assert_eq!(signal.2, "\"SIGFOO\"");
    let main = got.iter().find(|(f, _, _)| f == "restart.handover.main").unwrap();
    assert_eq!(main.1, "`sideways` is not one of child, same");
    assert_eq!(main.2, "\"sideways\"");
}

#[test]
fn a_new_main_process_needs_a_finish_and_one_that_stays_has_none() {
    let got = problems(&text("signal = \"USR2\"\nmain = \"child\""));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "restart.handover.finish");
    assert_eq!(got[0].1, "`main = \"child\"` needs `finish`: the signal that ends the old main process");
    assert_eq!(got[0].2, "\"child\"");

    let got = problems(&text("signal = \"USR2\"\nmain = \"same\"\nfinish = \"QUIT\""));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "restart.handover.finish");
    assert!(got[0].1.starts_with("`finish` does not go with `main = \"same\"`"), "{got:?}");
    assert_eq!(got[0].2, "finish");

    let got = problems(&text("main = \"same\""));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "restart.handover.signal");
    assert!(got[0].1.starts_with("missing `signal`"), "{got:?}");
}

#[test]
fn a_task_has_no_handover_and_the_message_names_the_file_and_line() {
    let text = "name = \"probe\"\nsummary = \"a probe\"\n\n[run]\ntype = \"oneshot\"\ncommand = [\"/bin/true\"]\nuser = \"root\"\n\n[restart.handover]\nsignal = \"USR2\"\nmain = \"same\"\n";
    let got = problems(text);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "restart.handover");
    assert!(got[0].1.contains("has no sockets to hand over"), "{got:?}");
    let drawn =
        parse_recipe(Path::new("probe.toml"), &self::text("signal = \"USR2\"\nmain = \"up\"")).unwrap_err().to_string();
    assert!(
        drawn.starts_with("error: probe.toml:10:8: restart.handover.main: `up` is not one of child, same\n"),
        "{drawn}"
    );
    assert!(drawn.contains("10 | main = \"up\"\n   |        ^^^^"), "{drawn}");
}

#[test]
fn each_init_system_hands_over_or_says_why_it_restarts_plainly() {
    let child = recipe("signal = \"USR2\"\nmain = \"child\"\nfinish = \"QUIT\"");
    let same = recipe("signal = \"USR2\"\nmain = \"same\"");
    for target in [Target::Sysv, Target::Openrc] {
        assert_eq!(plain_reason(&child, target), None, "{}", target.name());
        assert_eq!(plain_reason(&same, target), None, "{}", target.name());
    }
    assert_eq!(plain_reason(&same, Target::Systemd), None, "the front-end hands over under systemd");
    assert!(plain_reason(&child, Target::Systemd).is_some_and(|w| w.contains("PID 1")));
    for target in
        [Target::Runit, Target::S6, Target::Daemontools, Target::Supervisord, Target::Upstart, Target::Launchd]
    {
        for r in [&child, &same] {
            let why = plain_reason(r, target).unwrap_or_else(|| panic!("{} hands over?", target.name()));
            assert!(why.starts_with("a plain restart"), "{}: {why}", target.name());
            // The render says so too.
            assert!(features::notes(r, target).iter().any(|n| n.contains("restart.handover")), "{}", target.name());
        }
    }
    assert_eq!(plain_reason(&recipe_without(), Target::Runit), None, "no handover, nothing to say");
}

fn recipe_without() -> Recipe {
    let text =
        "name = \"probe\"\nsummary = \"a probe\"\n\n[run]\ncommand = [\"/bin/sleep\", \"1000\"]\nuser = \"root\"\n";
    parse_recipe(Path::new("probe.toml"), text).unwrap()
}

/// A daemon in sh that hands over as `mode` says: `child` starts a new copy
/// of itself on USR2 (which starts its own worker); `same` replaces its
/// worker. With `DIR/fail` present, what USR2 starts exits at once (child)
/// or nothing happens (same). TERM ends it and its worker. (An async list's
/// QUIT is ignored in sh, so TERM is the stop and finish signal here.)
const DAEMON: &str = r#"d=$(dirname "$0")
sleep 1000 &
w=$!
trap 'kill "$w"; exit 0' TERM
if [ "$1" = child ]; then
    trap 'if [ -e "$d/fail" ]; then sh -c "exit 1" & else sh "$0" child & fi' USR2
else
    trap 'if [ ! -e "$d/fail" ]; then kill "$w"; sleep 1000 & w=$!; fi' USR2
fi
while :; do wait; done
"#;

struct Service {
    _root: tempfile::TempDir,
    dir: PathBuf,
    script: PathBuf,
    pidfile: PathBuf,
}

fn install(mode: &str) -> Service {
    let root = tempfile::Builder::new().prefix("h-handover-sh").tempdir_in("/tmp").unwrap();
    fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let dir = root.path().join("srv");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("daemon.sh"), DAEMON).unwrap();
    let d = dir.display();
    let finish = if mode == "child" { "finish = \"TERM\"\n" } else { "" };
    let text = format!(
        "name = \"probe\"\nsummary = \"a probe\"\n\n[run]\ncommand = [\"/bin/sh\", \"{d}/daemon.sh\", \"{mode}\"]\nuser = \"root\"\n\n\
         [check]\ncommand = [\"/bin/sh\", \"-c\", \"! test -e {d}/bad\"]\n\n[stop]\nsignal = \"TERM\"\ntimeout = \"5s\"\n\n\
         [restart.handover]\nsignal = \"USR2\"\nmain = \"{mode}\"\n{finish}timeout = \"1s\"\n"
    );
    let recipe = parse_recipe(Path::new("probe.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let prefix = root.path().to_str().unwrap().to_owned();
    let options = Options { layout: Layout { root: prefix, ..Layout::default() }, ..Options::default() };
    let artifacts = render(&recipe, Target::Sysv, &options).unwrap();
    for a in &artifacts {
        let path = PathBuf::from(&a.path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &a.content).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(a.mode)).unwrap();
    }
    let script = PathBuf::from(&artifacts[0].path);
    let pidfile = root.path().join("run/initkit/probe/probe.pid");
    Service { _root: root, dir, script, pidfile }
}

impl Service {
    fn run(&self, action: &str) -> (i32, String) {
        let o = Command::new(&self.script).arg(action).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        (o.status.code().unwrap_or(-1), text)
    }

    /// The pidfile's fields: PID, start time, and the group when it is not the PID's.
    fn recorded(&self) -> Vec<u32> {
        let text = fs::read_to_string(&self.pidfile).unwrap_or_default();
        text.split_whitespace().map(|w| w.parse().unwrap()).collect()
    }

    /// The service's process group: the recorded one, else the main process's.
    fn group(&self) -> u32 {
        let r = self.recorded();
        r.get(2).or(r.first()).copied().unwrap_or(0)
    }
}

/// The live members of process group `group`.
fn members(group: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(member) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else { continue };
        let Some((_, rest)) = stat.rsplit_once(") ") else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first().is_some_and(|s| !s.starts_with('Z')) && fields.get(2) == Some(&group.to_string().as_str()) {
            out.push(member);
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

impl Drop for Service {
    fn drop(&mut self) {
        let group = self.group();
        let _ = self.run("stop");
        for pid in members(group) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

#[test]
fn a_new_main_process_takes_over_and_a_failed_one_falls_back_to_a_plain_restart() {
    if !common::require_root("running the SysV script's handover") {
        return;
    }
    let s = install("child");
    assert_eq!(s.run("start").0, 0);
    let first = s.recorded()[0];

    let (code, out) = s.run("restart");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("restarted with a handover: new main process"), "{out}");
    let after = s.recorded();
    assert_ne!(after[0], first, "a new main process: {out}");
    assert_eq!(after.get(2), Some(&first), "the group is still the first main's");
    assert!(!alive(first), "the old main process ended");
    assert_eq!(s.run("status").0, 0);

    // Again, from the new main process: the group stays the first one's.
    let second = after[0];
    let (code, out) = s.run("restart");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("restarted with a handover"), "{out}");
    assert_ne!(s.recorded()[0], second);
    assert_eq!(s.recorded().get(2), Some(&first));

    // A config the test refuses: nothing is signalled, the main process stays.
    let third = s.recorded()[0];
    fs::write(s.dir.join("bad"), "").unwrap();
    let (code, out) = s.run("restart");
    assert_eq!(code, 6, "{out}");
    assert_eq!(s.recorded()[0], third);
    assert_eq!(members(first).len(), 2, "the main process and its worker, nothing started: {out}");
    fs::remove_file(s.dir.join("bad")).unwrap();

    // What USR2 starts exits at once: a plain restart, which says so.
    fs::write(s.dir.join("fail"), "").unwrap();
    let (code, out) = s.run("restart");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("the handover did not come through ("), "{out}");
    assert!(out.contains("restarted plainly"), "{out}");
    let plain = s.recorded();
    assert_ne!(plain[0], third);
    assert_eq!(plain.len(), 2, "a fresh start leads its own group: {plain:?}");
    assert!(!alive(third));
    assert!(members(first).is_empty(), "the old group ended with the plain restart: {:?}", members(first));
    assert_eq!(members(plain[0]).len(), 2, "the new main process and its worker only");

    assert_eq!(s.run("stop").0, 0);
    assert!(members(plain[0]).is_empty(), "the stop left {:?}", members(plain[0]));
}

#[test]
fn a_main_that_runs_itself_again_keeps_its_pid_and_a_silent_one_falls_back() {
    if !common::require_root("running the SysV script's handover") {
        return;
    }
    let s = install("same");
    assert_eq!(s.run("start").0, 0);
    let main = s.recorded()[0];
    let workers =
        |s: &Service| -> Vec<u32> { members(s.group()).into_iter().filter(|p| *p != s.recorded()[0]).collect() };
    let before = workers(&s);
    assert_eq!(before.len(), 1, "one worker");

    let (code, out) = s.run("restart");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("restarted with a handover: new workers"), "{out}");
    assert_eq!(s.recorded().len(), 2, "the main process leads its own group still");
    assert_eq!(s.recorded()[0], main, "the main process stays");
    let now = workers(&s);
    assert_eq!(now.len(), 1, "the old worker ended, a new one runs: {now:?}");
    assert_ne!(now, before, "a new worker");

    fs::write(s.dir.join("fail"), "").unwrap();
    let (code, out) = s.run("restart");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no new worker within 1000ms"), "{out}");
    assert!(out.contains("restarted plainly"), "{out}");
    let fresh = s.recorded()[0];
    assert_ne!(fresh, main, "a plain restart starts a new main process");
    assert!(!alive(main));
    assert!(members(main).is_empty(), "the old group ended: {:?}", members(main));

    assert_eq!(s.run("stop").0, 0);
    assert!(members(fresh).is_empty(), "the stop left {:?}", members(fresh));
}
