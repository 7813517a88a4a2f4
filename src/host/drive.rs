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

use super::{
    enable::{openrc_service, unit_name},
    manifest::Manifest,
    settings,
};
use crate::{
    recipe::{Recipe, Reload},
    render::{Target, daemontools, facts, launchd, runit, s6, seconds, supervisord},
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

/// Runs `action` (start, stop, restart, reload) on the given instances (None:
/// the service) through the native tool; returns the first non-zero exit code.
pub fn act(m: &Manifest, recipe: &Recipe, action: &str, instances: &[Option<String>]) -> i32 {
    let budget = facts::stop_budget_ms(recipe) / 1000 + 5;
    let ready = recipe.ready.as_ref().map_or(10_000, |r| r.timeout_ms) / 1000 + 5;
    let mut code = 0;
    let mut run = |program: &str, args: Vec<String>| {
        let c = native(program, &args);
        if code == 0 {
            code = c;
        }
    };
    match m.target {
        Target::Systemd => {
            let mut args = vec![action.to_owned()];
            args.extend(instances.iter().map(|i| unit_name(&m.recipe, i.as_deref())));
            run("systemctl", args);
        }
        Target::Sysv => {
            for i in instances {
                let mut args = vec![action.to_owned()];
                args.extend(i.clone());
                run(&format!("/etc/init.d/{}", m.recipe), args);
            }
        }
        Target::Openrc => {
            for i in instances {
                run("rc-service", vec![openrc_service(&m.recipe, i.as_deref()), action.to_owned()]);
            }
        }
        // Not runnable on these machines: validated statically only (docs/targets.md).
        Target::Upstart => {
            for i in instances {
                let mut args = vec![action.to_owned(), m.recipe.clone()];
                args.extend(i.as_ref().map(|i| format!("INSTANCE={i}")));
                run("initctl", args);
            }
        }
        Target::Launchd => {
            for i in instances {
                let service = format!("system/{}", launchd::label(&m.recipe, i.as_deref()));
                let args: Vec<String> = match action {
                    "start" => vec!["kickstart".into(), service],
                    "stop" => vec!["kill".into(), "TERM".into(), service],
                    "restart" => vec!["kickstart".into(), "-k".into(), service],
                    _ => vec!["kill".into(), "HUP".into(), service],
                };
                run("launchctl", args);
            }
        }
        Target::Runit => {
            for i in instances {
                let dir = service_dir(m.target, &m.recipe, i.as_deref());
                let (wait, cmd) = match action {
                    "start" => (ready, "start".to_owned()),
                    // force-stop: down, and KILL once the wait runs out.
                    "stop" => (budget, "force-stop".to_owned()),
                    "restart" => (budget + ready, "restart".to_owned()),
                    _ => (budget, runit_signal(recipe).to_owned()),
                };
                run("sv", vec!["-w".into(), wait.to_string(), cmd, dir]);
            }
        }
        Target::S6 => {
            for i in instances {
                let dir = service_dir(m.target, &m.recipe, i.as_deref());
                let up = if recipe.ready.is_some() { "-wU" } else { "-wu" };
                let args: Vec<&str> = match action {
                    "start" => vec![up, "-u"],
                    "stop" => vec!["-wD", "-d"],
                    "restart" => vec![if recipe.ready.is_some() { "-wR" } else { "-wr" }, "-r"],
                    // The run script turns SIGHUP into the daemon's own reload.
                    _ => vec!["-h"],
                };
                let mut a: Vec<String> = args.into_iter().map(str::to_owned).collect();
                a.splice(0..0, ["-T".to_owned(), ((budget + ready) * 1000).to_string()]);
                a.push(dir);
                run("s6-svc", a);
            }
        }
        Target::Daemontools => {
            for i in instances {
                let dir = service_dir(m.target, &m.recipe, i.as_deref());
                let ok = match action {
                    "start" => svc(&dir, "-u") && wait_svstat(&dir, true, ready),
                    "stop" => daemontools_stop(&dir, budget),
                    "restart" => daemontools_stop(&dir, budget) && svc(&dir, "-u") && wait_svstat(&dir, true, ready),
                    _ => svc(&dir, "-h"),
                };
                if !ok && code == 0 {
                    code = 1;
                }
            }
        }
        Target::Supervisord => {
            for i in instances {
                let program = facts::service_name(&m.recipe, i.as_deref());
                let mut args = vec!["-c".to_owned(), SUPERVISORD_CONF.to_owned()];
                if action == "reload" {
                    args.extend(["signal".to_owned(), "HUP".to_owned()]);
                } else {
                    args.push(action.to_owned());
                }
                args.push(program);
                run("supervisorctl", args);
            }
        }
    }
    code
}

pub const SUPERVISORD_CONF: &str = supervisord::CONF;

/// The enabled service directory of an instance, in the scan directory.
pub fn service_dir(target: Target, name: &str, instance: Option<&str>) -> String {
    let scan = match target {
        Target::S6 => s6::DIRS.1,
        Target::Daemontools => daemontools::DIRS.1,
        _ => runit::DIRS.1,
    };
    format!("{scan}/{}", facts::service_name(name, instance))
}

/// The `sv` command that sends the recipe's reload signal.
fn runit_signal(recipe: &Recipe) -> &'static str {
    match &recipe.reload {
        Some(Reload::Signal(signal)) => match signal.name() {
            "USR1" => "1",
            "USR2" => "2",
            "INT" => "interrupt",
            "QUIT" => "quit",
            "TERM" => "term",
            // HUP, and WINCH which sv cannot send.
            _ => "hup",
        },
        _ => "hup",
    }
}

fn svc(dir: &str, flag: &str) -> bool {
    native("svc", &[flag.to_owned(), dir.to_owned()]) == 0
}

/// What a status tool prints on stdout; empty when it cannot run.
fn stdout_of<S: AsRef<std::ffi::OsStr>>(program: &str, args: &[S]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Polls `svstat` until the service is up (or down), for at most `secs`.
fn wait_svstat(dir: &str, up: bool, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let is_up = stdout_of("svstat", &[dir]).contains(": up ");
        if is_up == up {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// svc -d (TERM to the run script, which runs the hooks), then KILL once the budget is spent.
fn daemontools_stop(dir: &str, budget: u64) -> bool {
    svc(dir, "-d") && (wait_svstat(dir, false, budget) || (svc(dir, "-k") && wait_svstat(dir, false, 10)))
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

/// The PID a pidfile names (its first word; the start time follows it).
fn pidfile_pid(path: &str) -> Option<u32> {
    fs::read_to_string(path).ok()?.split_whitespace().next()?.parse().ok()
}

/// The daemon's PID behind a stop wrapper, from its pidfile, when that process lives.
fn wrapped_pid(name: &str, instance: Option<&str>) -> Option<u64> {
    let pid: u64 = pidfile_pid(&facts::pidfile(name, instance))?.into();
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

/// The state of a supervised instance, from the supervisor's own status tool.
fn supervised_status(m: &Manifest, instance: Option<&str>) -> Status {
    let dir = service_dir(m.target, &m.recipe, instance);
    let output = |program: &str, args: &[&str]| stdout_of(program, args);
    let number_after = |text: &str, marker: &str| -> Option<u64> {
        let rest = &text[text.find(marker)? + marker.len()..];
        rest.trim_start().split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    };
    let (unit, up, pid, uptime) = match m.target {
        Target::Runit => {
            // run: /etc/service/x: (pid 123) 45s; run: log: ...
            let text = output("sv", &["status", &dir]);
            let up = text.starts_with("run:");
            let pid = number_after(&text, "(pid ");
            let uptime = text.split(')').nth(1).and_then(|t| t.trim_start().split('s').next()?.parse().ok());
            (dir, up, pid, uptime)
        }
        Target::S6 => {
            let text = output("s6-svstat", &["-o", "up,pid,updownfor", &dir]);
            let f: Vec<&str> = text.split_whitespace().collect();
            let up = f.first() == Some(&"true");
            (dir, up, f.get(1).and_then(|p| p.parse().ok()), f.get(2).and_then(|p| p.parse().ok()))
        }
        Target::Daemontools => {
            // /etc/service/x: up (pid 123) 45 seconds
            let text = output("svstat", &[&dir]);
            let up = text.contains(": up ");
            let uptime = text.split(')').nth(1).and_then(|t| t.split_whitespace().next()?.parse().ok());
            (dir, up, number_after(&text, "(pid "), uptime)
        }
        _ => {
            // redis@a  RUNNING   pid 123, uptime 0:00:45
            let program = facts::service_name(&m.recipe, instance);
            let text = output("supervisorctl", &["-c", SUPERVISORD_CONF, "status", &program]);
            let up = text.contains(" RUNNING ");
            let uptime = text.split("uptime ").nth(1).map(|t| {
                let parts: Vec<u64> = t.trim().split([':', ' ']).filter_map(|p| p.parse().ok()).collect();
                // h:mm:ss, possibly after "N days,"; the last three numbers are h, m, s.
                parts.iter().rev().take(3).zip([1, 60, 3600]).map(|(v, f)| v * f).sum::<u64>()
            });
            let state = if up {
                "running"
            } else if text.contains("FATAL") || text.contains("BACKOFF") {
                "failed"
            } else if text.contains(" STARTING ") {
                "starting"
            } else {
                "stopped"
            };
            let code = match state {
                "running" => 0,
                "failed" => 1,
                _ => 3,
            };
            return Status {
                instance: instance.map(str::to_owned),
                unit: program,
                state: state.to_owned(),
                pid: wrapped_pid(&m.recipe, instance)
                    .or_else(|| number_after(&text, "pid "))
                    .and_then(|p| u32::try_from(p).ok())
                    .filter(|_| up),
                uptime_seconds: uptime.filter(|_| up),
                code,
            };
        }
    };
    // Behind the stop wrapper (s6, daemontools) the supervisor's PID is the
    // wrapper's; the daemon's is in the root-owned pidfile the wrapper writes.
    let pid = if m.target == Target::Runit { pid } else { wrapped_pid(&m.recipe, instance).or(pid) };
    Status {
        instance: instance.map(str::to_owned),
        unit,
        state: if up { "running" } else { "stopped" }.to_owned(),
        pid: pid.and_then(|p| u32::try_from(p).ok()).filter(|_| up),
        uptime_seconds: uptime.filter(|_| up),
        code: if up { 0 } else { 3 },
    }
}

/// The state of one instance; needs only the manifest (no recipe), so a user
/// who cannot read the installed recipe still sees it.
pub fn status(m: &Manifest, instance: Option<&str>) -> Status {
    let unit = unit_name(&m.recipe, instance);
    match m.target {
        Target::Systemd => {
            let text = stdout_of(
                "systemctl",
                &["show", &unit, "-p", "ActiveState", "-p", "MainPID", "-p", "ActiveEnterTimestampMonotonic"],
            );
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
        Target::Runit | Target::S6 | Target::Daemontools | Target::Supervisord => supervised_status(m, instance),
        Target::Upstart | Target::Launchd => {
            // `name (i) start/running, process 123` or launchd's `state = running` / `pid = 123`.
            let (program, args): (&str, Vec<String>) = if m.target == Target::Upstart {
                let mut a = vec!["status".to_owned(), m.recipe.clone()];
                a.extend(instance.map(|i| format!("INSTANCE={i}")));
                ("initctl", a)
            } else {
                ("launchctl", vec!["print".to_owned(), format!("system/{}", launchd::label(&m.recipe, instance))])
            };
            let text = stdout_of(program, &args);
            let up = text.contains("start/running") || text.contains("state = running");
            let pid = ["process ", "pid = "]
                .iter()
                .find_map(|m| text.split(m).nth(1))
                .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok());
            Status {
                instance: instance.map(str::to_owned),
                unit: program.to_owned(),
                state: if up { "running" } else { "stopped" }.to_owned(),
                pid: pid.filter(|_| up),
                uptime_seconds: None,
                code: if up { 0 } else { 3 },
            }
        }
        Target::Sysv | Target::Openrc => {
            let (script, args): (String, Vec<&str>) = if m.target == Target::Openrc {
                ("rc-service".to_owned(), vec![])
            } else {
                (format!("/etc/init.d/{}", m.recipe), instance.into_iter().collect())
            };
            let mut cmd = Command::new(&script);
            if m.target == Target::Openrc {
                cmd.arg(openrc_service(&m.recipe, instance));
            }
            cmd.arg("status").args(args).stdout(Stdio::null()).stderr(Stdio::null());
            let code = cmd.status().ok().and_then(|s| s.code()).unwrap_or(4);
            let pid = (code == 0).then(|| pidfile_pid(&facts::pidfile(&m.recipe, instance))).flatten();
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
