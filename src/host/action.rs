//! What the front-end asks of a service, and the state it reports back, with
//! the LSB code each state stands for (in this one place).

use serde::{Serialize, Serializer};

use crate::recipe::Recipe;

/// An action the native init system carries out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Restart,
    Reload,
}

impl Action {
    /// The verb most tools use for it.
    pub fn verb(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Restart => "restart",
            Action::Reload => "reload",
        }
    }
}

impl Action {
    /// What a long run of the action is waiting on, for its progress line:
    /// the steps before a stop, or the readiness after a start.
    pub fn waiting_on(self, name: &str, recipe: &Recipe) -> String {
        let steps: Vec<&str> = recipe.stop.before.iter().map(|h| h.description.as_str()).collect();
        let stopping = !steps.is_empty() && matches!(self, Action::Stop | Action::Restart);
        let readying = recipe.ready.is_some() && matches!(self, Action::Start | Action::Restart);
        let mut what = format!("{name}: {} still running", self.verb());
        match (stopping, readying) {
            (true, true) => what.push_str(&format!(": before stop: {}; then until ready", steps.join("; "))),
            (true, false) => what.push_str(&format!(": before stop: {}", steps.join("; "))),
            (false, true) => what.push_str(": waiting until it is ready"),
            (false, false) => {}
        }
        what
    }
}

/// The state of one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Running,
    /// Started, not yet up (supervisord's STARTING, systemd's activating).
    Starting,
    Stopped,
    /// Failed, or given up on by its supervisor.
    Failed,
    /// A pidfile without its process.
    Dead,
    Unknown,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Starting => "starting",
            State::Stopped => "stopped",
            State::Failed => "failed",
            State::Dead => "dead",
            State::Unknown => "unknown",
        }
    }

    /// The LSB `status` code: 0 running, 1 dead or failed, 3 not running, 4 unknown.
    pub fn lsb(self) -> i32 {
        match self {
            State::Running => 0,
            State::Failed | State::Dead => 1,
            State::Starting | State::Stopped => 3,
            State::Unknown => 4,
        }
    }
}

impl Serialize for State {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One row of `initkit status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub instance: Option<String>,
    pub unit: String,
    pub state: State,
    pub pid: Option<u32>,
    pub uptime_seconds: Option<u64>,
    /// How the daemon's last process ended (`exit 1`, `signal KILL`), where
    /// the init system keeps it: systemd while the unit is down, the
    /// supervisors' wrapper always; SysV and OpenRC have no process that waits.
    pub last_exit: Option<String>,
    /// The LSB status code this row stands for.
    pub code: i32,
}

impl Status {
    pub fn new(instance: Option<&str>, unit: String, state: State, pid: Option<u32>, uptime: Option<u64>) -> Status {
        let up = state == State::Running;
        Status {
            instance: instance.map(str::to_owned),
            unit,
            state,
            pid: pid.filter(|_| up),
            uptime_seconds: uptime.filter(|_| up),
            last_exit: None,
            code: state.lsb(),
        }
    }

    /// The same row, with how the last process ended.
    #[must_use]
    pub fn with_last_exit(mut self, last_exit: Option<String>) -> Status {
        self.last_exit = last_exit;
        self
    }
}

/// A wait status as a person reads it: `exit N`, or `signal NAME` (a shell
/// reports death by signal N as 128 + N).
pub fn describe_exit(status: u32) -> String {
    const NAMES: [&str; 16] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
        "TERM", "STKFLT",
    ];
    match status {
        0..=128 => format!("exit {status}"),
        n => NAMES.get((n - 129) as usize).map_or_else(|| format!("signal {}", n - 128), |s| format!("signal {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::parse_recipe;

    fn recipe(extra: &str) -> Recipe {
        let text = format!(
            "name = \"db\"\nsummary = \"s\"\n[run]\ncommand = [\"/bin/sleep\", \"9\"]\nuser = \"root\"\n{extra}"
        );
        parse_recipe(std::path::Path::new("db.toml"), &text).unwrap()
    }

    #[test]
    fn a_progress_line_names_what_the_action_waits_on() {
        let plain = recipe("");
        assert_eq!(Action::Stop.waiting_on("db", &plain), "db: stop still running");
        let flushed = recipe(
            "[ready]\ntcp = \"127.0.0.1:5\"\n[[stop.before]]\ndescription = \"flush\"\nrun = [\"/bin/true\"]\ntimeout = \"5s\"\n",
        );
        assert_eq!(Action::Stop.waiting_on("db@a", &flushed), "db@a: stop still running: before stop: flush");
        assert_eq!(Action::Start.waiting_on("db", &flushed), "db: start still running: waiting until it is ready");
        assert_eq!(
            Action::Restart.waiting_on("db", &flushed),
            "db: restart still running: before stop: flush; then until ready"
        );
        assert_eq!(Action::Reload.waiting_on("db", &flushed), "db: reload still running");
    }
}
