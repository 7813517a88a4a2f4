//! runit: `sv` acts (waiting on `./check` for readiness, `force-stop` for the
//! KILL after the budget) and reports; every installed instance is linked
//! into the scan directory, and a `down` file keeps one that is not enabled
//! from starting with runsvdir. The scan-directory facts runit, s6 and
//! daemontools share are here too.

use std::{path::Path, thread, time::Duration, time::Instant};

use crate::{
    host::config_test::reload_command,
    host::{
        action::{Action, State, Status},
        driver::{Ctx, Driver, Signs},
        logs::LogSource,
        manifest::{LinkRecord, Manifest, under},
        run::{native, native_with_progress, number_after, recorded_exit, stdout_of},
    },
    recipe::{Recipe, Reload, signal::Signal},
    render::{
        Flavor, Layout, Target, facts,
        runit::{DIRS, LOGGER},
        service_dir::current_log,
    },
};

pub struct Runit;

/// The enabled service directory of an instance.
pub fn service_dir(name: &str, instance: Option<&str>) -> String {
    format!("{}/{}", DIRS.1, facts::service_name(name, instance))
}

/// What `sv status DIR` says: state, PID and seconds up.
pub fn parse_sv(text: &str) -> (State, Option<u64>, Option<u64>) {
    // The service's own part; a log service follows after `; `.
    let main = text.split("; ").next().unwrap_or("");
    let state = if main.starts_with("run:") {
        State::Running
    } else if main.starts_with("down:") && main.contains("want up") {
        // runsv restarts it and it keeps failing.
        State::Failed
    } else if main.starts_with("down:") || main.starts_with("finish:") {
        State::Stopped
    } else {
        State::Unknown
    };
    let pid = number_after(main, "(pid ");
    let uptime = main.split(')').nth(1).and_then(|t| t.trim_start().split('s').next()?.parse().ok());
    (state, pid, uptime)
}

/// The `sv` command that sends a signal, when sv can send it (not WINCH).
pub fn sv_signal(signal: Signal) -> Option<&'static str> {
    match signal {
        Signal::Hup => Some("hup"),
        Signal::Usr1 => Some("1"),
        Signal::Usr2 => Some("2"),
        Signal::Int => Some("interrupt"),
        Signal::Quit => Some("quit"),
        Signal::Term => Some("term"),
        Signal::Kill => Some("kill"),
        Signal::Winch => None,
    }
}

/// Reloads one instance the recipe's way: its signal through `sv` (or
/// `kill` to the PID runsv reports, for a signal sv cannot send), or its
/// command as the service's user.
fn reload(ctx: &Ctx<'_>, dir: String, instance: Option<&str>, wait: u64) -> i32 {
    match &ctx.recipe.reload {
        Some(Reload::Signal(signal)) => match sv_signal(*signal) {
            Some(cmd) => native("sv", &["-w".into(), wait.to_string(), cmd.into(), dir]),
            None => match parse_sv(&stdout_of("sv", &["status", &dir])).1 {
                Some(pid) => native("kill", &["-s".into(), signal.name().into(), pid.to_string()]),
                None => 7,
            },
        },
        Some(Reload::Command(_)) => reload_command(ctx.recipe, Target::Runit, ctx.flavor, instance),
        None => 3,
    }
}

impl Driver for Runit {
    fn act(&self, ctx: &Ctx<'_>, action: Action, instances: &[Option<String>]) -> i32 {
        let budget = facts::stop_budget_ms(ctx.recipe) / 1000 + 5;
        let ready = ctx.recipe.ready.as_ref().map_or(10_000, |r| r.timeout_ms) / 1000 + 5;
        let mut code = 0;
        for i in instances {
            let dir = service_dir(ctx.name, i.as_deref());
            wait_supervised(&dir, "supervise/ok");
            let (wait, cmd) = match action {
                Action::Start => (ready, "start"),
                // force-stop: down, and KILL once the wait runs out.
                Action::Stop => (budget, "force-stop"),
                Action::Restart => (budget + ready, "restart"),
                Action::Reload => {
                    let c = reload(ctx, dir, i.as_deref(), budget);
                    if code == 0 {
                        code = c;
                    }
                    continue;
                }
            };
            let what = ctx.waiting_on(action, i.as_deref());
            let c = native_with_progress("sv", &["-w".into(), wait.to_string(), cmd.into(), dir], &what);
            if code == 0 {
                code = c;
            }
        }
        code
    }

    fn status(&self, name: &str, instance: Option<&str>) -> Status {
        let dir = service_dir(name, instance);
        let (state, pid, uptime) = parse_sv(&stdout_of("sv", &["status", &dir]));
        Status::new(instance, dir, state, pid.and_then(|p| u32::try_from(p).ok()), uptime)
            .with_last_exit(recorded_exit(name, instance))
    }

    fn enable_links(&self, _: &Recipe, _: &Layout, _: Flavor, _: Option<&str>) -> Vec<LinkRecord> {
        Vec::new()
    }

    fn scan_dirs(&self) -> Option<(&'static str, &'static str)> {
        Some(DIRS)
    }

    /// `sv exit`: runsv ends once the service is down, then its `supervise`
    /// directories go.
    fn release(&self, name: &str, instance: Option<&str>) {
        let dir = format!("{}/{}", DIRS.0, facts::service_name(name, instance));
        release_supervise(&dir, &SUPERVISE, || {
            native("sv", &["exit".to_owned(), dir.clone()]);
        });
    }

    /// svlogd's `current` in the instance's log directory.
    fn log_source(&self, m: &Manifest, instance: Option<&str>) -> LogSource {
        LogSource::File { path: current_log(&Layout::default(), &m.recipe, instance), stamp: LOGGER.stamp }
    }

    fn signs(&self) -> Signs {
        Signs {
            running_file: None,
            pid1: &["runit", "runit-init"],
            process: Some("runsvdir"),
            image_init: &["runit"],
            installed: &[],
            fallback: false,
        }
    }
}

/// The link in the scan directory that has the supervisor run a service directory.
pub fn scan_link(dirs: (&str, &str), name: &str, instance: Option<&str>) -> Vec<LinkRecord> {
    let service = facts::service_name(name, instance);
    vec![LinkRecord {
        path: format!("{}/{service}", dirs.1),
        target: format!("{}/{service}", dirs.0),
        instance: instance.map(str::to_owned),
        backup: None,
    }]
}

/// The file that keeps a linked service directory down when its supervisor
/// comes up (runit, s6 and daemontools all read `down`).
pub fn down_file(dirs: (&str, &str), name: &str, instance: Option<&str>) -> String {
    format!("{}/{}/down", dirs.0, facts::service_name(name, instance))
}

/// Whether an instance starts with its supervisor (at boot): its service
/// directory is linked into the scan directory and holds no `down` file.
pub fn starts_with_supervisor(root: &Path, m: &Manifest, dirs: (&str, &str), instance: Option<&str>) -> bool {
    let linked = scan_link(dirs, &m.recipe, instance).iter().all(|l| m.links.iter().any(|r| r.path == l.path));
    linked && !under(root, &down_file(dirs, &m.recipe, instance)).exists()
}

/// Whether a supervise process (runsv, daemontools' supervise) runs for a
/// service directory: it holds `supervise/ok` open for reading, so that a
/// non-blocking open for writing succeeds (what `sv` and `svok` check).
pub fn supervised(dir: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(dir.join("supervise/ok")).is_ok()
}

/// How a supervisor keeps its state in a service directory.
pub struct Supervise {
    /// Whether its supervise process runs for a directory.
    pub running: fn(&Path) -> bool,
    /// The directories it makes there (its state, never a file initkit or an operator wrote).
    pub state: &'static [&'static str],
}

/// runsv's and daemontools' supervise.
pub const SUPERVISE: Supervise = Supervise { running: supervised, state: &["supervise"] };

/// Asks the supervise processes of `dir` (and of its `log`) to exit with
/// `ask`, waits for them (the service is already stopped), then removes the
/// state directories they made.
pub fn release_supervise(dir: &str, how: &Supervise, ask: impl Fn()) {
    let dir = Path::new(dir);
    let log = dir.join("log");
    let running = || (how.running)(dir) || (how.running)(&log);
    if running() {
        ask();
        let since = Instant::now();
        while running() && since.elapsed() < PICKUP * 2 {
            thread::sleep(Duration::from_millis(25));
        }
    }
    for d in [dir, log.as_path()] {
        if !(how.running)(d) {
            for state in how.state {
                let _ = std::fs::remove_dir_all(d.join(state));
            }
        }
    }
}

/// How long a supervisor may take to notice a new link: runsvdir and svscan
/// look at their scan directory every five seconds.
const PICKUP: Duration = Duration::from_secs(7);

/// Waits until the supervisor runs for a service directory just linked:
/// `probe` (a file its supervise process makes, relative to `dir`) exists.
/// After the wait, the native tool says what is wrong.
pub fn wait_supervised(dir: &str, probe: &str) {
    let file = Path::new(dir).join(probe);
    let since = Instant::now();
    while !file.exists() && Path::new(dir).exists() && since.elapsed() < PICKUP {
        thread::sleep(Duration::from_millis(25));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::drivers::fixture;

    #[test]
    fn parses_recorded_outputs() {
        assert_eq!(parse_sv(&fixture("runit-sv-status-running.txt")), (State::Running, Some(26), Some(9)));
        assert_eq!(parse_sv(&fixture("runit-sv-status-running-with-log.txt")), (State::Running, Some(25), Some(9)));
        assert_eq!(parse_sv(&fixture("runit-sv-status-stopped.txt")).0, State::Stopped);
        assert_eq!(parse_sv(&fixture("runit-sv-status-normally-down.txt")).0, State::Stopped);
        assert_eq!(parse_sv(&fixture("runit-sv-status-crash-loop.txt")).0, State::Failed);
        assert_eq!(parse_sv(&fixture("runit-sv-status-finish.txt")).0, State::Stopped);
        assert_eq!(parse_sv(&fixture("runit-sv-status-no-such-service.txt")).0, State::Unknown);
        assert_eq!(parse_sv(&fixture("runit-sv-status-not-supervised.txt")).0, State::Unknown);
    }
}
