//! The trial start, run for real (as root): a daemon's new configuration is
//! started aside and watched; what it writes never reaches the host, the
//! port the running service holds is free for it, and a failing start is
//! reported with its own words.

mod common;

use std::{fs, net::TcpListener, path::Path};

use initkit::{
    host::{config_test::Check, trial::trial},
    recipe::{Recipe, parse_recipe},
    render::{Layout, values::defaults},
};

fn recipe(dir: &Path, body: &str) -> Recipe {
    let path = dir.join("t.toml");
    let text = format!("name = \"trialtest\"\nsummary = \"a trial\"\n{body}\n[check]\ntrial = true\n");
    fs::write(&path, &text).unwrap();
    parse_recipe(&path, &text).unwrap_or_else(|e| panic!("{e}"))
}

fn run(recipe: &Recipe) -> Check {
    trial(recipe, &defaults(recipe, &Layout::default(), None))
}

/// One trial at a time in this process: each checks what its own left.
static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// As root, one trial at a time; `None` (the test skips, loudly) otherwise.
fn one_trial_at_a_time() -> Option<std::sync::MutexGuard<'static, ()>> {
    common::require_root("a trial start makes namespaces and mounts")
        .then(|| ONE.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
}

/// Fails when a process whose command line matches `pattern` still runs.
fn assert_none_running(pattern: &str, what: &str) {
    let left = std::process::Command::new("pgrep").args(["-f", pattern]).output().unwrap();
    assert!(left.stdout.is_empty(), "{what}: {}", String::from_utf8_lossy(&left.stdout));
}

/// The trial directories this process left (they are named after its PID).
fn leftovers() -> usize {
    let mine = format!("initkit-trial.{}.", std::process::id());
    ["/tmp", "/dev/shm"]
        .iter()
        .flat_map(|d| fs::read_dir(d).into_iter().flatten().flatten())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&mine))
        .count()
}

#[test]
fn what_a_trial_writes_never_reaches_the_host() {
    let Some(_one) = one_trial_at_a_time() else { return };
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("initkit-trial-test-{}", std::process::id());
    // As root, the strongest writer: it appends to a real file, makes files in
    // /etc, /var and /tmp, starts a process in a session of its own, then
    // stays up (ready once it has stayed up a second).
    let real = dir.path().join("real.txt");
    fs::write(&real, "as it was\n").unwrap();
    let r = recipe(
        dir.path(),
        &format!(
            "[run]\ncommand = [\"/bin/sh\", \"-c\", \"echo trial >>\\\"$1\\\" && touch /etc/{marker} /var/tmp/{marker} /tmp/{marker} && (setsid sleep 4243 &) && exec sleep 30\", \"t\", \"{}\"]\nuser = \"root\"\n",
            real.display()
        ),
    );
    assert_eq!(run(&r), Check::Passed);
    assert_eq!(fs::read_to_string(&real).unwrap(), "as it was\n", "the trial's append reached the real file");
    for d in ["/etc", "/var/tmp", "/tmp"] {
        assert!(!Path::new(d).join(&marker).exists(), "the trial's file reached {d}");
    }
    assert_eq!(leftovers(), 0, "a trial directory was left behind");
    // What it started in a session of its own ended with it (its PID namespace did).
    assert_none_running("sleep 4243", "a process the trial started outlived it");
}

#[test]
fn the_running_services_port_is_free_in_the_trial_and_a_failure_speaks() {
    let Some(_one) = one_trial_at_a_time() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The running service, here a listener of this test's, holds the port.
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let listen =
        format!("import socket,time; s=socket.socket(); s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(30)");
    let r = recipe(
        dir.path(),
        &format!(
            "[run]\ncommand = [\"/usr/bin/python3\", \"-c\", \"{listen}\"]\nuser = \"nobody\"\n[ready]\ntcp = \"127.0.0.1:{port}\"\ntimeout = \"10s\"\n"
        ),
    );
    assert_eq!(run(&r), Check::Passed, "the trial could not bind the port the host's listener holds");
    assert!(held.set_nonblocking(true).is_ok() && held.local_addr().is_ok(), "the host's listener was disturbed");

    // A configuration that does not start: its own words are the report.
    let r = recipe(
        dir.path(),
        "[run]\ncommand = [\"/bin/sh\", \"-c\", \"echo 'bad directive at line 7' >&2; exit 3\"]\nuser = \"nobody\"\n",
    );
    match run(&r) {
        Check::Failed(report) => {
            assert!(report.contains("a trial start of the new configuration exited"), "{report}");
            assert!(report.contains("bad directive at line 7"), "{report}");
        }
        other => panic!("a start that exits passed the trial: {other:?}"),
    }

    // One that listens, then fails (beanstalkd's order): ready for a moment is not enough.
    let die = format!(
        "import socket,sys,time; s=socket.socket(); s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(0.1); sys.exit('cannot lock the binlog')"
    );
    let r = recipe(
        dir.path(),
        &format!(
            "[run]\ncommand = [\"/usr/bin/python3\", \"-c\", \"{die}\"]\nuser = \"nobody\"\n[ready]\ntcp = \"127.0.0.1:{port}\"\ntimeout = \"10s\"\n"
        ),
    );
    match run(&r) {
        Check::Failed(report) => assert!(report.contains("cannot lock the binlog"), "{report}"),
        other => panic!("a start that dies right after listening passed the trial: {other:?}"),
    }

    // One that never becomes ready within its budget is refused too, and killed.
    let r = recipe(
        dir.path(),
        "[run]\ncommand = [\"/bin/sleep\", \"4242\"]\nuser = \"nobody\"\n[ready]\ntcp = \"127.0.0.1:9\"\ntimeout = \"1s\"\n",
    );
    match run(&r) {
        Check::Failed(report) => assert!(report.contains("was not ready within 1000ms"), "{report}"),
        other => panic!("a start that is never ready passed the trial: {other:?}"),
    }
    assert_none_running("sleep 4242", "the unready trial was left running");
    assert_eq!(leftovers(), 0, "a trial directory was left behind");
}
