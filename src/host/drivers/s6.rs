//! s6: `s6-svc` acts (waiting for readiness on the notification fd), and
//! `s6-svstat` reports; the daemon's PID is in the wrapper's pidfile. A
//! user's services (`--user`) are driven the same way, as the user, in the
//! scan directory of an s6-svscan of the user's own.

use std::path::Path;

use crate::{
    host::{
        action::{Action, State, Status},
        driver::{Ctx, Driver, Signs},
        error::Result,
        logs::LogSource,
        manifest::{LinkRecord, Manifest},
        run::{native, native_with_progress, stdout_of, wrapped_status},
        scope::running_layout,
    },
    recipe::Recipe,
    render::{
        Flavor, Layout, facts,
        s6::{LOGGER, dirs},
        service_dir::current_log,
    },
};

use super::runit::{Supervise, release_supervise, wait_supervised};

/// The system's s6, or (`user`) the calling user's own s6-svscan.
pub struct S6 {
    user: bool,
}

pub static SYSTEM: S6 = S6 { user: false };
pub static USER: S6 = S6 { user: true };

impl S6 {
    /// Where its services are on the running host: the system's, or the
    /// calling user's (`None` when the user's directories are unknown).
    fn layout(&self) -> Option<Layout> {
        running_layout(self.user)
    }
}

/// s6-supervise: `s6-svok` says whether it runs; it keeps `supervise` and `event`.
const S6_SUPERVISE: Supervise = Supervise { running: s6_supervised, state: &["supervise", "event"] };

fn s6_supervised(dir: &Path) -> bool {
    dir.is_dir() && native("s6-svok", &[dir.to_string_lossy().into_owned()]) == 0
}

fn service_dir(layout: &Layout, name: &str, instance: Option<&str>) -> String {
    format!("{}/{}", dirs(layout).1, facts::service_name(name, instance))
}

/// What `s6-svstat -o up,pid,updownfor,wantedup DIR` says: state, PID, seconds.
pub fn parse_svstat(text: &str) -> (State, Option<u64>, Option<u64>) {
    let f: Vec<&str> = text.split_whitespace().collect();
    let state = match (f.first().copied(), f.get(3).copied()) {
        (Some("true"), _) => State::Running,
        // Wanted up and down: s6-supervise is restarting a failing service.
        (Some("false"), Some("true")) => State::Failed,
        (Some("false"), _) => State::Stopped,
        _ => State::Unknown,
    };
    (state, f.get(1).and_then(|p| p.parse().ok()), f.get(2).and_then(|p| p.parse().ok()))
}

impl Driver for S6 {
    fn act(&self, ctx: &Ctx<'_>, action: Action, instances: &[Option<String>]) -> i32 {
        let Some(layout) = self.layout() else { return 1 };
        let scan = dirs(&layout).1;
        let budget = facts::stop_budget_ms(ctx.recipe) / 1000 + 5;
        let ready = ctx.recipe.ready.as_ref().map_or(10_000, |r| r.timeout_ms) / 1000 + 5;
        let notified = ctx.recipe.ready.is_some();
        let mut code = 0;
        for i in instances {
            let flags: &[&str] = match action {
                Action::Start => &[if notified { "-wU" } else { "-wu" }, "-u"],
                Action::Stop => &["-wD", "-d"],
                Action::Restart => &[if notified { "-wR" } else { "-wr" }, "-r"],
                // The run script turns SIGHUP into the daemon's own reload.
                Action::Reload => &["-h"],
            };
            let mut args = vec!["-T".to_owned(), ((budget + ready) * 1000).to_string()];
            args.extend(flags.iter().map(|f| (*f).to_owned()));
            let dir = service_dir(&layout, ctx.name, i.as_deref());
            if !Path::new(&dir).join("supervise/control").exists() {
                // A directory just linked: s6-svscan looks at once when told to.
                native("s6-svscanctl", &["-a".to_owned(), scan.clone()]);
                wait_supervised(&dir, "supervise/control");
            }
            args.push(dir);
            let c = native_with_progress("s6-svc", &args, &ctx.waiting_on(action, i.as_deref()));
            if code == 0 {
                code = c;
            }
        }
        code
    }

    fn status(&self, name: &str, instance: Option<&str>) -> Status {
        let layout = self.layout().unwrap_or_default();
        let dir = service_dir(&layout, name, instance);
        let (state, _, uptime) = match self.layout() {
            Some(_) => parse_svstat(&stdout_of("s6-svstat", &["-o", "up,pid,updownfor,wantedup", &dir])),
            None => (State::Unknown, None, None),
        };
        wrapped_status(&layout, name, instance, dir, state, uptime)
    }

    fn enable_links(&self, _: &Recipe, _: &Layout, _: Flavor, _: Option<&str>) -> Vec<LinkRecord> {
        Vec::new()
    }

    /// The system's `/etc/s6/sv` and `/etc/s6/service`, or the user's own.
    fn scan_dirs(&self) -> Option<(String, String)> {
        self.layout().map(|l| dirs(&l))
    }

    /// A link just made or removed, noticed at once: s6-svscan rescans only
    /// when told (s6 2.11 scans no more by itself, unless run with `-t`), so
    /// an install with `--enable` starts the service as it does under runit.
    fn after_change(&self, _: &mut Manifest, _: bool) -> Result<bool> {
        if let Some((_, scan)) = self.scan_dirs()
            && Path::new(&scan).join(".s6-svscan/control").exists()
        {
            stdout_of("s6-svscanctl", &["-a", &scan]);
        }
        Ok(false)
    }

    /// `s6-svscanctl -an`: s6-svscan ends the supervisors of directories no
    /// longer linked, then their `supervise` and `event` directories go.
    fn release(&self, name: &str, instance: Option<&str>) {
        let Some((defs, scan)) = self.scan_dirs() else { return };
        let dir = format!("{defs}/{}", facts::service_name(name, instance));
        release_supervise(&dir, &S6_SUPERVISE, || {
            native("s6-svscanctl", &["-an".to_owned(), scan.clone()]);
        });
    }

    /// s6-log's `current` in the instance's log directory.
    fn log_source(&self, m: &Manifest, instance: Option<&str>) -> LogSource {
        LogSource::File {
            path: current_log(&self.layout().unwrap_or_default(), &m.recipe, instance),
            stamp: LOGGER.stamp,
        }
    }

    fn signs(&self) -> Signs {
        Signs {
            running_file: None,
            pid1: &["s6-svscan"],
            process: Some("s6-svscan"),
            image_init: &["s6-linux-init", "s6-svscan"],
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
        assert_eq!(parse_svstat(&fixture("s6-svstat-o-running.txt")), (State::Running, Some(14), Some(33)));
        assert_eq!(parse_svstat(&fixture("s6-svstat-o-running-ready.txt")).0, State::Running);
        assert_eq!(parse_svstat(&fixture("s6-svstat-o-stopped.txt")).0, State::Stopped);
        assert_eq!(parse_svstat(&fixture("s6-svstat-o-normally-down.txt")).0, State::Stopped);
        assert_eq!(parse_svstat(&fixture("s6-svstat-o-crash-loop.txt")).0, State::Failed);
        assert_eq!(parse_svstat(&fixture("s6-svstat-o-no-such-service.txt")).0, State::Unknown);
    }
}
