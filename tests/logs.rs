//! `initkit logs` on services installed under a scratch --root, the way a
//! person installs them: lines written where each target's init system or
//! logger writes them, then read back, the named instance's only; the end of
//! a large file; following through rotation; the errors. The journal needs a
//! running systemd, which this machine has not: its arguments are unit tests
//! in the systemd driver.

mod common;

use std::{
    fmt::Write as _,
    fs,
    io::{BufRead, BufReader, BufWriter, Write},
    path::Path,
    process::{Child, Output, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

use common::initkit;

/// A recipe of our own with instances, and one without.
const APP: &str = "name = \"app\"\nsummary = \"A test app\"\n[run]\ncommand = [\"/bin/sleep\", \"1000\"]\nuser = \"root\"\n[instances]\n";
const ONE: &str =
    "name = \"one\"\nsummary = \"A test app\"\n[run]\ncommand = [\"/bin/sleep\", \"1000\"]\nuser = \"root\"\n";

fn run(args: &[&str]) -> Output {
    initkit().args(args).env("XDG_CONFIG_HOME", "/nonexistent-initkit-test").env("TZ", "UTC").output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch root with `specs` of the recipe `text` installed for `target`,
/// as `initkit install RECIPE --root DIR --target TARGET` does it.
fn installed(text: &str, specs: &[&str], target: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let recipe = root.path().join("recipe.toml");
    fs::write(&recipe, text).unwrap();
    let r = root.path().to_str().unwrap();
    let specs: Vec<String> = specs.iter().map(|s| format!("{}{s}", recipe.display())).collect();
    let mut args = vec!["install"];
    args.extend(specs.iter().map(String::as_str));
    args.extend(["--root", r, "--target", target]);
    let o = run(&args);
    assert!(o.status.success(), "install for {target}: {}", err(&o));
    root
}

/// Writes `text` to the host path `path` under `root`.
fn write(root: &Path, path: &str, text: &str) {
    let abs = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(abs.parent().unwrap()).unwrap();
    fs::write(abs, text).unwrap();
}

fn logs(root: &Path, args: &[&str]) -> Output {
    let mut all = vec!["logs"];
    all.extend(args);
    all.extend(["--root", root.to_str().unwrap()]);
    run(&all)
}

#[test]
fn each_target_reads_the_file_its_init_system_or_logger_writes() {
    // (target, where the log of `one` is, what is in it, what is shown: TZ=UTC)
    let cases = [
        ("sysv", "/var/log/initkit/one/one.log", "started\nready\n", "started\nready\n"),
        ("openrc", "/var/log/initkit/one/one.log", "started\nready\n", "started\nready\n"),
        ("supervisord", "/var/log/supervisor/initkit-one.log", "started\nready\n", "started\nready\n"),
        ("upstart", "/var/log/upstart/one.log", "started\nready\n", "started\nready\n"),
        ("launchd", "/var/log/initkit/one/one.log", "started\nready\n", "started\nready\n"),
        (
            "runit",
            "/var/log/initkit/one/one/current",
            "2024-01-15_08:44:44.50000 started\n2024-01-15_08:45:00.00000 ready\n",
            "2024-01-15 08:44:44.500 started\n2024-01-15 08:45:00.000 ready\n",
        ),
        (
            "s6",
            "/var/log/initkit/one/one/current",
            "2024-01-15 08:44:44.500000000  started\n2024-01-15 08:45:00.000000000  ready\n",
            "2024-01-15 08:44:44.500 started\n2024-01-15 08:45:00.000 ready\n",
        ),
        (
            "daemontools",
            "/var/log/initkit/one/one/current",
            "@4000000065a4f0861dcd6500 started\n@4000000065a4f09600000000 ready\n",
            "2024-01-15 08:44:44.500 started\n2024-01-15 08:45:00.000 ready\n",
        ),
    ];
    for (target, path, text, shown) in cases {
        let root = installed(ONE, &[""], target);
        write(root.path(), path, text);
        let o = logs(root.path(), &["one"]);
        assert_eq!((out(&o).as_str(), err(&o).as_str(), o.status.code()), (shown, "", Some(0)), "{target}");
    }
}

#[test]
fn only_the_named_instances_last_lines_are_shown() {
    let root = installed(APP, &["@a", "@b"], "runit");
    let stamped = |who: &str, n: usize| -> String {
        (0..n).fold(String::new(), |mut text, i| {
            let _ = writeln!(text, "2024-01-15_08:{:02}:{:02}.00000 {who} line {i}", i / 60, i % 60);
            text
        })
    };
    write(root.path(), "/var/log/initkit/app/a/current", &stamped("a", 30));
    write(root.path(), "/var/log/initkit/app/b/current", &stamped("b", 30));
    let o = logs(root.path(), &["app@a", "-n", "3"]);
    assert_eq!(
        out(&o),
        "2024-01-15 08:00:27.000 a line 27\n2024-01-15 08:00:28.000 a line 28\n2024-01-15 08:00:29.000 a line 29\n"
    );
    let o = logs(root.path(), &["app@b"]);
    let shown = out(&o);
    assert_eq!(shown.lines().count(), 20, "20 lines by default");
    assert!(shown.lines().all(|l| l.contains(" b line ")), "{shown}");
    assert!(shown.ends_with("b line 29\n"));

    // Per-instance files on the other targets too.
    for (target, a, b) in [
        ("supervisord", "/var/log/supervisor/initkit-app@a.log", "/var/log/supervisor/initkit-app@b.log"),
        ("upstart", "/var/log/upstart/app-a.log", "/var/log/upstart/app-b.log"),
        ("sysv", "/var/log/initkit/app/a.log", "/var/log/initkit/app/b.log"),
        ("daemontools", "/var/log/initkit/app/a/current", "/var/log/initkit/app/b/current"),
    ] {
        let root = installed(APP, &["@a", "@b"], target);
        write(root.path(), a, "@4000000065a4f0861dcd6500 from a\n");
        write(root.path(), b, "@4000000065a4f0861dcd6500 from b\n");
        let o = logs(root.path(), &["app@b", "-n", "1"]);
        assert!(out(&o).ends_with("from b\n") && o.status.success(), "{target}: {}{}", out(&o), err(&o));
    }
}

#[test]
fn a_missing_log_an_unknown_instance_and_a_stranger_are_told_apart() {
    let root = installed(APP, &["@a", "@b"], "sysv");
    let o = logs(root.path(), &["app@a"]);
    let file = root.path().join("var/log/initkit/app/a.log");
    assert_eq!(
        (err(&o), o.status.code()),
        (format!("error: no log yet at {}: the service has not written anything\n", file.display()), Some(1))
    );
    let o = logs(root.path(), &["app@c"]);
    assert_eq!(
        (err(&o), o.status.code()),
        (
            "error: `app@c` is not an installed instance (installed: a, b)\n  = help: did you mean `a`?\n".into(),
            Some(2)
        )
    );
    let o = logs(root.path(), &["app"]);
    assert_eq!(
        (err(&o), o.status.code()),
        (
            "error: `app` has several instances (a, b), each with its own log: name one, as `initkit logs app@a`\n"
                .into(),
            Some(2)
        )
    );
    let o = logs(root.path(), &["ap"]);
    assert_eq!(
        (err(&o), o.status.code()),
        (
            "error: nothing named `ap` is installed, and no recipe has that name\n  = help: did you mean `app`?\n"
                .into(),
            Some(5)
        )
    );
    // A service with one instance: that one.
    let one = installed(APP, &["@only"], "sysv");
    write(one.path(), "/var/log/initkit/app/only.log", "hello\n");
    assert_eq!(out(&logs(one.path(), &["app"])), "hello\n");
}

#[test]
fn since_filters_a_log_with_times_and_a_log_without_refuses() {
    let root = installed(ONE, &[""], "daemontools");
    // 08:44:44.5, 08:45:00, 08:46:00 UTC.
    write(
        root.path(),
        "/var/log/initkit/one/one/current",
        "@4000000065a4f0861dcd6500 first\n@4000000065a4f09600000000 second\n@4000000065a4f0d200000000 third\n",
    );
    let o = logs(root.path(), &["one", "--since", "2024-01-15 08:45:00"]);
    assert_eq!(out(&o), "2024-01-15 08:45:00.000 second\n2024-01-15 08:46:00.000 third\n");
    let o = logs(root.path(), &["one", "--since", "2024-01-15 08:45", "-n", "1"]);
    assert_eq!(out(&o), "2024-01-15 08:46:00.000 third\n");
    assert_eq!(out(&logs(root.path(), &["one", "--since", "-1h"])), "", "nothing that recent");
    let o = logs(root.path(), &["one", "--since", "whenever"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).starts_with("error: --since `whenever` is not a time: give `2024-01-15 10:00[:00]`"),
        "{}",
        err(&o)
    );
    // Local time is the time zone's: a POSIX TZ one hour east of UTC.
    let o = initkit()
        .args(["logs", "one", "-n", "1", "--root", root.path().to_str().unwrap()])
        .env("TZ", "CET-1")
        .output()
        .unwrap();
    assert_eq!(out(&o), "2024-01-15 09:46:00.000 third\n");

    let plain = installed(ONE, &[""], "supervisord");
    write(plain.path(), "/var/log/supervisor/initkit-one.log", "started\n");
    let o = logs(plain.path(), &["one", "--since", "today"]);
    let file = plain.path().join("var/log/supervisor/initkit-one.log");
    assert_eq!(
        (err(&o), o.status.code()),
        (
            format!(
                "error: the supervisord log of `one` has no times: {} holds each line as the daemon wrote it, so --since cannot pick lines from it; use -n N for the last N\n",
                file.display()
            ),
            Some(2)
        )
    );
}

#[test]
fn the_end_of_a_large_log_comes_back_without_reading_it_all() {
    let root = installed(ONE, &[""], "sysv");
    let path = root.path().join("var/log/initkit/one/one.log");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = BufWriter::new(fs::File::create(&path).unwrap());
    let pad = "x".repeat(90);
    let mut i = 0u64;
    while i < 520_000 {
        writeln!(f, "line {i:07} {pad}").unwrap();
        i += 1;
    }
    f.flush().unwrap();
    drop(f);
    assert!(fs::metadata(&path).unwrap().len() > 50_000_000);
    let o = logs(root.path(), &["one", "-n", "3"]);
    assert_eq!(out(&o), format!("line 0519997 {pad}\nline 0519998 {pad}\nline 0519999 {pad}\n"));
    let o = logs(root.path(), &["one", "-n", "2000"]);
    let shown = out(&o);
    assert_eq!(shown.lines().count(), 2000);
    assert!(shown.starts_with(&format!("line 0518000 {pad}\n")));
}

#[test]
fn json_gives_each_lines_time_and_text() {
    let root = installed(ONE, &[""], "runit");
    write(root.path(), "/var/log/initkit/one/one/current", "2024-01-15_08:44:44.50000 ready\nno stamp here\n");
    let o = logs(root.path(), &["one", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            {"time": "2024-01-15T08:44:44.500000+00:00", "text": "ready"},
            {"time": null, "text": "no stamp here"}
        ])
    );
    let o = logs(root.path(), &["one", "--json", "-f"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_journal_needs_journalctl() {
    let root = installed(ONE, &[""], "systemd");
    let o = initkit()
        .args(["logs", "one", "--root", root.path().to_str().unwrap()])
        .env("PATH", "/nonexistent-initkit-test")
        .output()
        .unwrap();
    assert_eq!(
        (err(&o), o.status.code()),
        (
            "error: journalctl is not installed: the log of one.service is in the journal, which it reads\n".into(),
            Some(1)
        )
    );
}

/// `initkit logs -f` running, its stdout read line by line; killed when dropped.
struct Following {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Following {
    fn start(root: &Path, spec: &str) -> Following {
        let mut child = initkit()
            .args(["logs", "-f", "-n", "2", spec, "--root", root.to_str().unwrap()])
            .env("TZ", "UTC")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Following { child, lines }
    }

    fn expect(&self, want: &str) {
        let got =
            self.lines.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|e| panic!("waiting for {want:?}: {e}"));
        assert_eq!(got, want);
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn append(path: &Path, text: &str) {
    fs::OpenOptions::new().append(true).open(path).unwrap().write_all(text.as_bytes()).unwrap();
}

#[test]
fn following_goes_on_through_rotation_and_truncation() {
    let root = installed(APP, &["@a", "@b"], "runit");
    let dir = root.path().join("var/log/initkit/app/a");
    let current = dir.join("current");
    write(
        root.path(),
        "/var/log/initkit/app/a/current",
        "2024-01-15_08:00:00.0 old\n2024-01-15_08:00:01.0 one\n2024-01-15_08:00:02.0 two\n",
    );
    write(root.path(), "/var/log/initkit/app/b/current", "2024-01-15_08:00:00.0 b's\n");
    let f = Following::start(root.path(), "app@a");
    f.expect("2024-01-15 08:00:01.000 one");
    f.expect("2024-01-15 08:00:02.000 two");
    append(&current, "2024-01-15_08:00:03.0 three\n");
    f.expect("2024-01-15 08:00:03.000 three");
    append(&root.path().join("var/log/initkit/app/b/current"), "2024-01-15_08:00:04.0 b's again\n");
    // svlogd's rotation: a last line, `current` renamed to an archive, a new `current`.
    append(&current, "2024-01-15_08:00:05.0 last of the old file\n");
    fs::rename(&current, dir.join("@4000000065a4f0861dcd6500.s")).unwrap();
    fs::write(&current, "2024-01-15_08:00:06.0 first of the new file\n").unwrap();
    f.expect("2024-01-15 08:00:05.000 last of the old file");
    f.expect("2024-01-15 08:00:06.000 first of the new file");
    // logrotate's copytruncate: the same file, emptied, then written again.
    fs::OpenOptions::new().write(true).open(&current).unwrap().set_len(0).unwrap();
    thread::sleep(Duration::from_millis(600));
    append(&current, "2024-01-15_08:00:07.0 after\n");
    f.expect("2024-01-15 08:00:07.000 after");
    assert!(f.lines.recv_timeout(Duration::from_millis(500)).is_err(), "nothing of app@b's");
}

#[test]
fn following_a_log_not_written_yet_waits_for_it() {
    let root = installed(ONE, &[""], "sysv");
    let f = Following::start(root.path(), "one");
    thread::sleep(Duration::from_millis(500));
    write(root.path(), "/var/log/initkit/one/one.log", "started\n");
    f.expect("started");
    append(&root.path().join("var/log/initkit/one/one.log"), "partial");
    thread::sleep(Duration::from_millis(500));
    append(&root.path().join("var/log/initkit/one/one.log"), " line\n");
    f.expect("partial line");
}
