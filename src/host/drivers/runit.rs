//! runit: `sv` acts (waiting on `./check` for readiness, `force-stop` for the
//! KILL after the budget) and reports; a link in the scan directory enables.

use crate::{
    host::config_test::reload_command,
    host::{
        action::{Action, State, Status},
        driver::{Ctx, Driver, Signs},
        logs::LogSource,
        manifest::{LinkRecord, Manifest},
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

    fn enable_links(&self, recipe: &Recipe, _: &Layout, _: Flavor, instance: Option<&str>) -> Vec<LinkRecord> {
        scan_link(DIRS, &recipe.name, instance)
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

/// A service directory is enabled by a link in the scan directory.
pub fn scan_link(dirs: (&str, &str), name: &str, instance: Option<&str>) -> Vec<LinkRecord> {
    let service = facts::service_name(name, instance);
    vec![LinkRecord {
        path: format!("{}/{service}", dirs.1),
        target: format!("{}/{service}", dirs.0),
        instance: instance.map(str::to_owned),
        backup: None,
    }]
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
