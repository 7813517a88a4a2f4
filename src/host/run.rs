//! Running native tools and reading /proc: the few ways the front-end looks
//! at the running host.

use std::{ffi::OsStr, fs, process::Command};

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
    let needle = format!(":{port:04X}");
    let mut sockets = Vec::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = fs::read_to_string(net.join(table)) else { continue };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 9 && f[3] == "0A" && f[1].ends_with(&needle) {
                sockets.push(format!("socket:[{}]", f[9]));
            }
        }
    }
    sockets
}

/// How a supervised daemon last ended, as its wrapper recorded it.
pub fn recorded_exit(name: &str, instance: Option<&str>) -> Option<String> {
    let text = fs::read_to_string(crate::render::facts::exit_file(name, instance)).ok()?;
    text.trim().parse().ok().map(super::action::describe_exit)
}

/// The first number after `marker` in `text`.
pub fn number_after(text: &str, marker: &str) -> Option<u64> {
    let rest = &text[text.find(marker)? + marker.len()..];
    rest.trim_start().split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}
