//! Running native tools and reading /proc: the few ways the front-end looks
//! at the running host.

use std::{
    ffi::OsStr,
    fs,
    io::{IsTerminal, Write},
    process::Command,
    time::{Duration, Instant},
};

/// Runs a native command, passing its output through; returns its exit code.
pub fn native(program: &str, args: &[String]) -> i32 {
    match Command::new(program).args(args).status() {
        Ok(s) => s.code().unwrap_or(1),
        Err(e) => {
            eprintln!("error: cannot run {program}: {e}");
            1
        }
    }
}

/// How long a native command runs before [`native_with_progress`] says so.
const PROGRESS_AFTER: Duration = Duration::from_secs(5);

/// As [`native`], for an action that can take minutes (a stop that waits on
/// a pre-stop step, a start that waits for readiness): from 5 s on, a line
/// on stderr says `what` and how long it has run, rewritten every second on
/// a terminal, every 10 s otherwise.
pub fn native_with_progress(program: &str, args: &[String], what: &str) -> i32 {
    let tty = std::io::stderr().is_terminal();
    match Command::new(program).args(args).spawn() {
        Ok(child) => watch(child, what, &mut std::io::stderr(), tty),
        Err(e) => {
            eprintln!("error: cannot run {program}: {e}");
            1
        }
    }
}

/// Waits for `child`, writing its progress lines to `out`; its exit code.
fn watch(mut child: std::process::Child, what: &str, out: &mut dyn Write, tty: bool) -> i32 {
    let started = Instant::now();
    let mut next = PROGRESS_AFTER;
    let mut shown = false;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                if shown && tty {
                    let _ = writeln!(out);
                }
                return status.code().unwrap_or(1);
            }
            Ok(None) => {}
            Err(e) => {
                let _ = writeln!(out, "error: waiting for {what}: {e}");
                return 1;
            }
        }
        let waited = started.elapsed();
        if waited >= next {
            let line = format!("{what} ({} s)", waited.as_secs());
            // A full disk or a closed terminal costs the line, never the action.
            let _ = if tty { write!(out, "\r{line}") } else { writeln!(out, "{line}") };
            next = waited + Duration::from_secs(if tty { 1 } else { 10 });
            shown = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What a status tool prints on stdout; empty when it cannot run.
pub fn stdout_of<S: AsRef<OsStr>>(program: &str, args: &[S]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Whether `program` is on PATH.
pub fn which(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// Seconds since boot.
pub fn uptime_seconds_now() -> Option<f64> {
    fs::read_to_string("/proc/uptime").ok()?.split_whitespace().next()?.parse().ok()
}

/// Seconds since a process started, from /proc/PID/stat (field 22, in clock ticks).
pub fn process_uptime(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let started: f64 = after.split_whitespace().nth(19)?.parse().ok()?;
    // USER_HZ is 100 on every Linux architecture initkit targets.
    let now = uptime_seconds_now()?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((now - started / 100.0).max(0.0) as u64)
}

/// The PID a pidfile names (its first word; the start time follows it).
pub fn pidfile_pid(path: &str) -> Option<u32> {
    fs::read_to_string(path).ok()?.split_whitespace().next()?.parse().ok()
}

/// The sockets listening on TCP `port` (any address) in the network
/// namespace whose `/proc/.../net` is `net`, as `socket:[INODE]` link texts.
pub fn listening_sockets(net: &std::path::Path, port: u16) -> Vec<String> {
    listeners(net).remove(&port).unwrap_or_default()
}

/// Every listening TCP socket in the namespace whose `/proc/.../net` is
/// `net`, by port: the kernel writes the whole table at each read (on a busy
/// host, a read costs tens of milliseconds), so ports to check are looked up
/// in one reading, not one reading each.
pub fn listeners(net: &std::path::Path) -> std::collections::HashMap<u16, Vec<String>> {
    let mut by_port: std::collections::HashMap<u16, Vec<String>> = std::collections::HashMap::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = fs::read_to_string(net.join(table)) else { continue };
        for line in text.lines().skip(1) {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            let mut f = line.split_whitespace();
            let (Some(local), Some(state), Some(inode)) = (f.nth(1), f.nth(1), f.nth(5)) else { continue };
            let port = local.rsplit_once(':').and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if let (Some(port), "0A") = (port, state) {
                by_port.entry(port).or_default().push(format!("socket:[{inode}]"));
            }
        }
    }
    by_port
}

/// How a supervised daemon last ended, as its wrapper recorded it (on the
/// running host, under `layout`'s runtime directory).
pub fn recorded_exit(layout: &crate::render::Layout, name: &str, instance: Option<&str>) -> Option<String> {
    let text = fs::read_to_string(crate::render::facts::exit_file(layout, name, instance)).ok()?;
    text.trim().parse().ok().map(super::action::describe_exit)
}

/// The status of an instance the shared stop wrapper runs (s6, daemontools,
/// supervisord) from its supervisor's `state` and `uptime`: the supervisor's
/// PID is the wrapper's, never the daemon's, so only the pidfile the wrapper
/// writes (root's, or the user's in `layout`) names the daemon, and the
/// wrapper's record beside it says how the daemon last ended.
pub fn wrapped_status(
    layout: &crate::render::Layout,
    name: &str,
    instance: Option<&str>,
    unit: String,
    state: super::action::State,
    uptime: Option<u64>,
) -> super::action::Status {
    let daemon = pidfile_pid(&crate::render::facts::pidfile_in(layout, name, instance));
    super::action::Status::new(instance, unit, state, daemon, uptime)
        .with_last_exit(recorded_exit(layout, name, instance))
}

/// The first number after `marker` in `text`.
pub fn number_after(text: &str, marker: &str) -> Option<u64> {
    let rest = &text[text.find(marker)? + marker.len()..];
    rest.trim_start().split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_are_read_by_port_from_both_tables() {
        let net = tempfile::tempdir().unwrap();
        let head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
        let tcp = format!(
            "{head}   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000   0        0 111 1 0 100 0 0 10 0\n   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000   0        0 222 1 0 100 0 0 10 0\n   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000   0        0 333 1 0 100 0 0 10 0\n"
        );
        let tcp6 = format!(
            "{head}   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   0        0 444 1 0 100 0 0 10 0\n"
        );
        std::fs::write(net.path().join("tcp"), tcp).unwrap();
        std::fs::write(net.path().join("tcp6"), tcp6).unwrap();
        let all = listeners(net.path());
        assert_eq!(all[&8080], ["socket:[111]", "socket:[444]"]);
        assert_eq!(all[&80], ["socket:[333]"]);
        assert_eq!(all.len(), 2);
        assert_eq!(listening_sockets(net.path(), 8080), ["socket:[111]", "socket:[444]"]);
        assert!(listening_sockets(net.path(), 53).is_empty());
    }

    fn watched(seconds: &str, tty: bool) -> (i32, String) {
        let child = Command::new("sh").args(["-c", &format!("sleep {seconds}; exit 3")]).spawn().unwrap();
        let mut out = Vec::new();
        let code = watch(child, "db: stop still running", &mut out, tty);
        (code, String::from_utf8(out).unwrap())
    }

    #[test]
    fn a_long_action_says_what_it_waits_on_and_a_short_one_nothing() {
        assert_eq!(watched("0.1", false), (3, String::new()));
        let (code, out) = watched("6", false);
        assert_eq!(code, 3);
        assert_eq!(out, "db: stop still running (5 s)\n");
        // On a terminal, one line rewritten every second, ended when the action ends.
        let (_, out) = watched("6.5", true);
        assert!(out.starts_with("\rdb: stop still running (5 s)") && out.ends_with(" s)\n"), "{out:?}");
    }
}
