//! supervisord: `supervisorctl` acts and reports; a program in conf.d is
//! enabled by being there; `reread` and `update` follow a change on a
//! running host.

use std::path::Path;

use crate::{
    host::{
        action::{Action, State, Status},
        driver::{Ctx, Driver, Signs},
        error::Result,
        logs::LogSource,
        manifest::{LinkRecord, Manifest},
        run::{native, native_with_progress, number_after, stdout_of, which, wrapped_status},
    },
    recipe::Recipe,
    render::{
        Flavor, Layout,
        facts::{self, Stamp},
        supervisord::{CONF, stdout_logfile},
    },
};

pub struct Supervisord;

/// What `supervisorctl status PROGRAM` says: state, PID and seconds up.
pub fn parse_status(text: &str) -> (State, Option<u64>, Option<u64>) {
    let word = text.split_whitespace().nth(1).unwrap_or("");
    let state = match word {
        "RUNNING" => State::Running,
        "STARTING" => State::Starting,
        "FATAL" | "BACKOFF" => State::Failed,
        "STOPPED" | "STOPPING" | "EXITED" => State::Stopped,
        _ => State::Unknown,
    };
    let uptime = text.split("uptime ").nth(1).map(|t| {
        let parts: Vec<u64> = t.trim().split([':', ' ']).filter_map(|p| p.parse().ok()).collect();
        // h:mm:ss, possibly after "N days,"; the last three numbers are h, m, s.
        parts.iter().rev().take(3).zip([1, 60, 3600]).map(|(v, f)| v * f).sum::<u64>()
    });
    (state, number_after(text, "pid "), uptime)
}

fn ctl(args: &[&str]) -> Vec<String> {
    let mut a = vec!["-c".to_owned(), CONF.to_owned()];
    a.extend(args.iter().map(|s| (*s).to_owned()));
    a
}

/// A running supervisord reads new and removed programs on reread + update.
fn update() {
    if Path::new(CONF).exists() && which("supervisorctl") {
        for step in ["reread", "update"] {
            native("supervisorctl", &ctl(&[step]));
        }
    }
}

impl Driver for Supervisord {
    fn act(&self, ctx: &Ctx<'_>, action: Action, instances: &[Option<String>]) -> i32 {
        let mut code = 0;
        for i in instances {
            let program = facts::service_name(ctx.name, i.as_deref());
            let args = match action {
                // The run script turns SIGHUP into the daemon's own reload.
                Action::Reload => ctl(&["signal", "HUP", &program]),
                other => ctl(&[other.verb(), &program]),
            };
            let c = native_with_progress("supervisorctl", &args, &ctx.waiting_on(action, i.as_deref()));
            if code == 0 {
                code = c;
            }
        }
        code
    }

    fn status(&self, name: &str, instance: Option<&str>) -> Status {
        let program = facts::service_name(name, instance);
        let (state, _, uptime) = parse_status(&stdout_of("supervisorctl", &ctl(&["status", &program])));
        wrapped_status(&Layout::default(), name, instance, program, state, uptime)
    }

    fn enable_links(&self, _: &Recipe, _: &Layout, _: Flavor, _: Option<&str>) -> Vec<LinkRecord> {
        // A program in conf.d is enabled by being there.
        Vec::new()
    }

    fn after_change(&self, _: &mut Manifest, _: bool) -> Result<bool> {
        update();
        Ok(false)
    }

    /// Always: supervisord starts every program in conf.d.
    fn enabled(&self, _: &std::path::Path, _: &Manifest, _: Option<&str>) -> bool {
        true
    }

    /// The program's `stdout_logfile` (stderr is redirected into it);
    /// supervisord stamps nothing.
    fn log_source(&self, m: &Manifest, instance: Option<&str>) -> LogSource {
        LogSource::File { path: stdout_logfile(&Layout::default(), &m.recipe, instance), stamp: Stamp::None }
    }

    fn signs(&self) -> Signs {
        Signs {
            running_file: None,
            pid1: &[],
            process: Some("supervisord"),
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
        assert_eq!(parse_status(&fixture("supervisorctl-status-running.txt")), (State::Running, Some(33), Some(76)));
        assert_eq!(parse_status(&fixture("supervisorctl-status-starting.txt")).0, State::Starting);
        assert_eq!(parse_status(&fixture("supervisorctl-status-backoff.txt")).0, State::Failed);
        assert_eq!(parse_status(&fixture("supervisorctl-status-fatal.txt")).0, State::Failed);
        assert_eq!(parse_status(&fixture("supervisorctl-status-stopped.txt")).0, State::Stopped);
        assert_eq!(parse_status(&fixture("supervisorctl-status-exited.txt")).0, State::Stopped);
        assert_eq!(parse_status(&fixture("supervisorctl-status-no-such-program.txt")).0, State::Unknown);
        assert_eq!(parse_status(&fixture("supervisorctl-status-supervisord-not-running.txt")).0, State::Unknown);
    }
}
