//! daemontools: `svc` acts (the front-end polls `svstat` for the result and
//! sends KILL after the budget), `svstat` reports; the daemon's PID is in the
//! wrapper's pidfile.

use std::time::{Duration, Instant};

use crate::{
    host::{
        action::{Action, State, Status},
        driver::{Ctx, Driver, Signs},
        logs::LogSource,
        manifest::{LinkRecord, Manifest},
        run::{native, number_after, stdout_of, wrapped_status},
    },
    recipe::Recipe,
    render::{
        Flavor, Layout,
        daemontools::{DIRS, LOGGER},
        facts,
        service_dir::current_log,
    },
};

use super::runit::{SUPERVISE, release_supervise, wait_supervised};

pub struct Daemontools;

fn service_dir(name: &str, instance: Option<&str>) -> String {
    format!("{}/{}", DIRS.1, facts::service_name(name, instance))
}

/// What `svstat DIR` says: state, PID and seconds.
pub fn parse_svstat(text: &str) -> (State, Option<u64>, Option<u64>) {
    let state = if text.contains(": up ") {
        State::Running
    } else if text.contains(": down ") {
        State::Stopped
    } else {
        State::Unknown
    };
    let seconds = text.split(')').nth(1).and_then(|t| t.split_whitespace().next()?.parse().ok());
    (state, number_after(text, "(pid "), seconds)
}

fn svc(dir: &str, flag: &str) -> bool {
    native("svc", &[flag.to_owned(), dir.to_owned()]) == 0
}

/// Polls `svstat` until the service is up (or down), for at most `secs`.
fn wait_svstat(dir: &str, up: bool, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let is_up = parse_svstat(&stdout_of("svstat", &[dir])).0 == State::Running;
        if is_up == up {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// svc -d (TERM to the run script, which runs the pre-stop steps), then KILL once the budget is spent.
fn stop(dir: &str, budget: u64) -> bool {
    svc(dir, "-d") && (wait_svstat(dir, false, budget) || (svc(dir, "-k") && wait_svstat(dir, false, 10)))
}

impl Driver for Daemontools {
    fn act(&self, ctx: &Ctx<'_>, action: Action, instances: &[Option<String>]) -> i32 {
        let budget = facts::stop_budget_ms(ctx.recipe) / 1000 + 5;
        let ready = ctx.recipe.ready.as_ref().map_or(10_000, |r| r.timeout_ms) / 1000 + 5;
        let mut code = 0;
        for i in instances {
            let dir = service_dir(ctx.name, i.as_deref());
            wait_supervised(&dir, "supervise/ok");
            let ok = match action {
                Action::Start => svc(&dir, "-u") && wait_svstat(&dir, true, ready),
                Action::Stop => stop(&dir, budget),
                Action::Restart => stop(&dir, budget) && svc(&dir, "-u") && wait_svstat(&dir, true, ready),
                Action::Reload => svc(&dir, "-h"),
            };
            if !ok && code == 0 {
                code = 1;
            }
        }
        code
    }

    fn status(&self, name: &str, instance: Option<&str>) -> Status {
        let dir = service_dir(name, instance);
        let (state, _, uptime) = parse_svstat(&stdout_of("svstat", &[&dir]));
        wrapped_status(&Layout::default(), name, instance, dir, state, uptime)
    }

    fn enable_links(&self, _: &Recipe, _: &Layout, _: Flavor, _: Option<&str>) -> Vec<LinkRecord> {
        Vec::new()
    }

    fn scan_dirs(&self) -> Option<(String, String)> {
        Some((DIRS.0.to_owned(), DIRS.1.to_owned()))
    }

    /// `svc -dx` to the service's supervise and its logger's, then their
    /// `supervise` directories go.
    fn release(&self, name: &str, instance: Option<&str>) {
        let dir = format!("{}/{}", DIRS.0, facts::service_name(name, instance));
        release_supervise(&dir, &SUPERVISE, || {
            svc(&dir, "-dx");
            svc(&format!("{dir}/log"), "-dx");
        });
    }

    /// multilog's `current` in the instance's log directory.
    fn log_source(&self, m: &Manifest, instance: Option<&str>) -> LogSource {
        LogSource::File { path: current_log(&Layout::default(), &m.recipe, instance), stamp: LOGGER.stamp }
    }

    fn signs(&self) -> Signs {
        Signs {
            running_file: None,
            pid1: &[],
            process: Some("svscan"),
            image_init: &[],
            installed: &[],
            fallback: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::drivers::fixture;

    #[test]
    fn parses_recorded_outputs() {
        assert_eq!(parse_svstat(&fixture("daemontools-svstat-running.txt")), (State::Running, Some(15), Some(58)));
        assert_eq!(parse_svstat(&fixture("daemontools-svstat-stopped.txt")).0, State::Stopped);
        assert_eq!(parse_svstat(&fixture("daemontools-svstat-normally-down.txt")).0, State::Stopped);
        assert_eq!(parse_svstat(&fixture("daemontools-svstat-crash-loop.txt")).0, State::Running);
        assert_eq!(parse_svstat(&fixture("daemontools-svstat-no-such-service.txt")).0, State::Unknown);
        assert_eq!(parse_svstat(&fixture("daemontools-svstat-not-supervised.txt")).0, State::Unknown);
    }
}
