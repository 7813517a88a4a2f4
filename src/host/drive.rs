//! The front-end's hands: run a recipe's config test with an instance's real
//! values, and drive the native init system (systemctl or the init.d script).

use std::{
    collections::BTreeMap,
    fs,
    io::Read,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use super::{enable::unit_name, manifest::Manifest, settings};
use crate::{
    recipe::Recipe,
    render::{Target, seconds},
};

/// The primary group id of `user`, from /etc/passwd.
pub fn gid_of(user: &str) -> Option<String> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 3 && f[0] == user).then(|| f[3].to_owned())
    })
}

/// A command run as `user` with a clean environment, like the artifacts do.
fn as_user(user: &str, argv: &[String]) -> Command {
    let mut cmd = if user == "root" {
        Command::new(&argv[0])
    } else {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={user}"))
            .arg(format!("--regid={}", gid_of(user).unwrap_or_else(|| user.to_owned())))
            .arg("--init-groups")
            .arg("--")
            .arg(&argv[0]);
        c
    };
    cmd.args(&argv[1..]).env_clear().env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    cmd
}

/// The outcome of a config test.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Passed,
    Failed(String),
    /// The recipe has no config test.
    None,
}

/// Runs the recipe's config test for one instance, within its budget.
pub fn config_test(recipe: &Recipe, values: &BTreeMap<String, String>) -> Check {
    let Some(check) = &recipe.check else { return Check::None };
    let argv = settings::argv(&check.command, values);
    let user = check.user.as_deref().unwrap_or(&recipe.run.user);
    let child = as_user(user, &argv).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Check::Failed(format!("cannot run {}: {e}\n", argv[0])),
    };
    // Read both streams while waiting: a full pipe would stall the test (mariadbd prints a lot).
    let readers: Vec<_> = [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut stream| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stream.read_to_end(&mut buf);
            buf
        })
    })
    .collect();
    let deadline = Instant::now() + Duration::from_millis(check.timeout_ms);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let mut output = String::new();
    for reader in readers {
        output.push_str(&String::from_utf8_lossy(&reader.join().unwrap_or_default()));
    }
    match status {
        Some(s) if s.success() => Check::Passed,
        Some(s) if output.is_empty() => Check::Failed(format!("{} exited with {s}\n", argv[0])),
        Some(_) => Check::Failed(output),
        None => {
            Check::Failed(format!("{output}the config test did not finish within {}s\n", seconds(check.timeout_ms)))
        }
    }
}

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

/// The native command for `action` on the given instances (None: the service).
pub fn native_action(m: &Manifest, action: &str, instances: &[Option<String>]) -> Vec<(String, Vec<String>)> {
    match m.target {
        Target::Systemd => {
            let mut args = vec![action.to_owned()];
            args.extend(instances.iter().map(|i| unit_name(&m.recipe, i.as_deref())));
            vec![("systemctl".to_owned(), args)]
        }
        Target::Sysv => instances
            .iter()
            .map(|i| {
                let mut args = vec![action.to_owned()];
                args.extend(i.clone());
                (format!("/etc/init.d/{}", m.recipe), args)
            })
            .collect(),
    }
}

/// One row of `initkit status`.
#[derive(Debug, serde::Serialize)]
pub struct Status {
    pub instance: Option<String>,
    pub unit: String,
    /// `running`, `stopped`, `failed`, `dead` (a pidfile without its process) or `unknown`.
    pub state: String,
    pub pid: Option<u32>,
    pub uptime_seconds: Option<u64>,
    /// The LSB status code this row stands for.
    pub code: i32,
}

fn uptime_seconds_now() -> Option<f64> {
    fs::read_to_string("/proc/uptime").ok()?.split_whitespace().next()?.parse().ok()
}

/// Seconds since a process started, from /proc/PID/stat (field 22, in clock ticks).
fn process_uptime(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let started: f64 = after.split_whitespace().nth(19)?.parse().ok()?;
    // USER_HZ is 100 on every Linux architecture initkit targets.
    let now = uptime_seconds_now()?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((now - started / 100.0).max(0.0) as u64)
}

pub fn status(m: &Manifest, instance: Option<&str>) -> Status {
    let unit = unit_name(&m.recipe, instance);
    match m.target {
        Target::Systemd => {
            let out = Command::new("systemctl")
                .args(["show", &unit, "-p", "ActiveState", "-p", "MainPID", "-p", "ActiveEnterTimestampMonotonic"])
                .output();
            let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
            let get = |k: &str| text.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap_or("").to_owned();
            let pid = get("MainPID").parse::<u32>().ok().filter(|p| *p > 0);
            let (state, code) = match get("ActiveState").as_str() {
                "active" | "reloading" => ("running", 0),
                "failed" => ("failed", 1),
                "inactive" | "deactivating" | "activating" => ("stopped", 3),
                _ => ("unknown", 4),
            };
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let uptime = get("ActiveEnterTimestampMonotonic")
                .parse::<u64>()
                .ok()
                .filter(|t| *t > 0 && code == 0)
                .and_then(|t| uptime_seconds_now().map(|now| (now - t as f64 / 1e6).max(0.0) as u64));
            Status {
                instance: instance.map(str::to_owned),
                unit,
                state: state.to_owned(),
                pid,
                uptime_seconds: uptime,
                code,
            }
        }
        Target::Sysv => {
            let script = format!("/etc/init.d/{}", m.recipe);
            let mut cmd = Command::new(&script);
            cmd.arg("status").args(instance).stdout(Stdio::null()).stderr(Stdio::null());
            let code = cmd.status().ok().and_then(|s| s.code()).unwrap_or(4);
            let pidfile = format!("/run/initkit/{}/{}.pid", m.recipe, instance.unwrap_or(&m.recipe));
            let pid = (code == 0)
                .then(|| fs::read_to_string(Path::new(&pidfile)).ok())
                .flatten()
                .and_then(|t| t.trim().parse::<u32>().ok());
            let state = match code {
                0 => "running",
                1 | 2 => "dead",
                3 => "stopped",
                _ => "unknown",
            };
            Status {
                instance: instance.map(str::to_owned),
                unit: script,
                state: state.to_owned(),
                pid,
                uptime_seconds: pid.and_then(process_uptime),
                code,
            }
        }
    }
}
