//! The shell library's long waits say how far they are: a pre-stop poll
//! prints a progress line from 5 s on (every 10 s when not on a terminal),
//! with what it waits for printed as data, and nothing for a short wait.

use std::{
    fs,
    process::Command,
    time::{Duration, Instant},
};

use initkit::render::shell;

/// Runs the poll loop of `ik_poll_loop` with `what` as its description and
/// a probe that succeeds once `after` has passed; fd 3 is what it printed.
fn poll(what: &str, after: Duration) -> String {
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("done");
    let lib: String =
        shell::library().into_iter().filter(|(name, _)| name == "ik_poll_loop").map(|(_, body)| body + "\n").collect();
    assert!(lib.contains("ik_poll_loop()"), "the library has ik_poll_loop");
    let script = format!(
        "{lib}\nik_poll_loop\n( sleep {} && : >\"$1\" ) &\nsh -c \"$ik_poll_code\" initkit-poll 0.2 \"$2\" 30 '' test -e \"$1\" 3>&1 >/dev/null 2>&1\n",
        after.as_secs_f64()
    );
    let o = Command::new("sh").arg("-c").arg(script).arg("sh").arg(&flag).arg(what).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(fs::metadata(&flag).is_ok());
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn a_long_poll_says_what_it_waits_for_and_how_long_it_has_waited() {
    let what = "db: before stop: still waiting: flush $(touch /tmp/x) `id` %s";
    let out = poll(what, Duration::from_millis(6500));
    let lines: Vec<&str> = out.lines().collect();
    // One line at 5 or 6 s (the next is 10 s later): the text as given, the seconds, the budget.
    assert_eq!(lines.len(), 1, "{out:?}");
    let rest = lines[0].strip_prefix(what).unwrap_or_else(|| panic!("the text as data: {out:?}"));
    assert!(rest == " (5s of at most 30s)" || rest == " (6s of at most 30s)", "{out:?}");
}

#[test]
fn a_short_poll_prints_nothing() {
    assert_eq!(poll("quick", Duration::from_millis(300)), "");
}

/// A supervisor runs the pre-stop steps before it reaps: a daemon that exits
/// meanwhile stays a zombie, and a poll waiting for it to go would run out
/// its whole budget. The loop ends once the daemon it is given has exited.
#[test]
fn a_poll_ends_once_the_daemon_has_exited_even_unreaped() {
    let lib: String =
        shell::library().into_iter().filter(|(name, _)| name == "ik_poll_loop").map(|(_, body)| body + "\n").collect();
    // Not waited for: a zombie once it exits, as the daemon is under runsv running control/t.
    let mut daemon = Command::new("sleep").arg("0.3").spawn().unwrap();
    let script =
        format!("{lib}\nik_poll_loop\nsh -c \"$ik_poll_code\" initkit-poll 0.1 waiting 30 \"$1\" false 3>/dev/null\n");
    let t0 = Instant::now();
    let o = Command::new("sh").arg("-c").arg(&script).arg("sh").arg(daemon.id().to_string()).output().unwrap();
    let took = t0.elapsed();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(took < Duration::from_secs(10), "the poll waited {took:?} for a daemon that had exited");
    daemon.wait().unwrap();
    // Without a daemon to watch, the same probe runs until its budget (here cut by timeout).
    let script = format!(
        "{lib}\nik_poll_loop\ntimeout 2 sh -c \"$ik_poll_code\" initkit-poll 0.1 waiting 30 '' false 3>/dev/null\n"
    );
    let o = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    assert_eq!(o.status.code(), Some(124), "no daemon given: it waits for the probe");
}
