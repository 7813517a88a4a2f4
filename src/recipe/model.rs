//! The validated recipe: what a service needs, with every value checked and parsed.

use super::{signal::Signal, template::Template};

/// A service recipe that passed validation. Renderers take only this.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    pub name: String,
    pub summary: String,
    pub description: Option<String>,
    pub documentation: Vec<String>,
    /// System facilities the service needs before it starts.
    pub needs: Vec<Facility>,
    /// Variables an instance may override (`--set port=6380`), with their defaults.
    pub vars: Vec<Var>,
    pub instances: Option<Instances>,
    pub run: Run,
    pub directories: Directories,
    pub check: Option<Check>,
    pub reload: Option<Reload>,
    pub stop: Stop,
    pub ready: Option<Ready>,
    pub systemd: Systemd,
}

/// A system facility a service may need up before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facility {
    /// The network is configured (LSB `$network`, systemd `network-online.target`).
    Network,
    /// Host names resolve (LSB `$named`, systemd `nss-lookup.target`): daemons
    /// whose configuration names hosts.
    Names,
    /// The clock is synchronised (LSB `$time`, systemd `time-sync.target`).
    Time,
    /// Remote file systems are mounted (LSB `$remote_fs`, systemd `remote-fs.target`).
    RemoteFs,
}

impl Facility {
    pub const ALL: [(Facility, &'static str); 4] = [
        (Facility::Network, "network"),
        (Facility::Names, "names"),
        (Facility::Time, "time"),
        (Facility::RemoteFs, "remote-fs"),
    ];

    pub fn name(self) -> &'static str {
        Facility::ALL.iter().find(|(f, _)| *f == self).map_or("network", |(_, n)| n)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    pub name: String,
    /// May refer to `{name}` and `{instance}` only.
    pub default: Template,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instances {
    /// The instance a bare `start` uses when none is configured.
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The foreground command, one template per argument.
    pub command: Vec<Template>,
    /// The executable the running process must show in `/proc/PID/exe`;
    /// the command's first word when not given.
    pub executable: Option<String>,
    pub user: String,
    pub group: Option<String>,
    pub working_directory: Option<Template>,
    pub environment: Vec<(String, Template)>,
    pub environment_file: Option<Template>,
    pub umask: Option<u32>,
    pub limits: Limits,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Limits {
    pub nofile: Option<u64>,
    pub nproc: Option<u64>,
    pub core: Option<u64>,
    pub memlock: Option<u64>,
}

impl Limits {
    /// Each set limit with its prlimit/systemd stem, in a fixed order.
    pub fn entries(&self) -> Vec<(&'static str, u64)> {
        [("nofile", self.nofile), ("nproc", self.nproc), ("core", self.core), ("memlock", self.memlock)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect()
    }
}

/// Directories the service needs, relative to `/run`, `/var/lib` and `/var/log`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Directories {
    pub runtime: Option<Template>,
    pub state: Option<Template>,
    pub logs: Option<Template>,
    pub mode: Option<u32>,
}

/// The gate before a restart or reload: how a new configuration is known good.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub test: Test,
    /// Who runs the test; the service user when not given.
    pub user: Option<String>,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// The daemon's own config-test mode.
    Command(Vec<Template>),
    /// No config-test mode: the new configuration is started for real, as
    /// the service's user, in a network namespace and directories of its own,
    /// and watched until it is ready or exits (a trial start).
    Trial,
}

impl Check {
    /// What the gate is, as `list` and the catalogue doc say it.
    pub fn describe(check: Option<&Self>) -> &'static str {
        match check.map(|c| &c.test) {
            None => "none",
            Some(Test::Command(_)) => "config test",
            Some(Test::Trial) => "trial start",
        }
    }

    /// The config-test command, when the gate is one.
    pub fn command(&self) -> Option<&[Template]> {
        match &self.test {
            Test::Command(c) => Some(c),
            Test::Trial => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reload {
    Signal(Signal),
    Command(Vec<Template>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    pub signal: Signal,
    /// How long to wait after the signal before escalating to KILL.
    pub timeout_ms: u64,
    pub before: Vec<Hook>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub description: String,
    pub action: HookAction,
    pub timeout_ms: u64,
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HookAction {
    /// Run once; its budget is a hard limit.
    Run(Vec<Template>),
    /// Run every `interval_ms` until it succeeds or the budget is spent.
    Poll { command: Vec<Template>, interval_ms: u64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    pub check: ReadyCheck,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReadyCheck {
    /// `host:port`; ready when something listens on the port.
    Tcp(Template),
    Command(Vec<Template>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Systemd {
    /// `systemd-analyze security` must score the unit at or below this.
    pub exposure_max: f64,
    /// Capabilities the service keeps (bounding set; ambient when it runs unprivileged).
    pub capabilities: Vec<String>,
    pub memory_deny_write_execute: bool,
    pub address_families: Vec<String>,
    /// Extra paths the service may write besides its own directories.
    pub write_paths: Vec<Template>,
    /// `Type=notify` for daemons that speak sd_notify.
    pub notify: bool,
}

/// Built-in variables every template may use.
pub const BUILTIN_VARS: [&str; 5] = ["name", "instance", "runtime_dir", "state_dir", "logs_dir"];

impl Recipe {
    /// The default of a recipe variable.
    pub fn var(&self, name: &str) -> Option<&Var> {
        self.vars.iter().find(|v| v.name == name)
    }

    /// Every template in the recipe, for checks that look at all of them.
    pub fn templates(&self) -> Vec<&Template> {
        let mut all: Vec<&Template> = self.vars.iter().map(|v| &v.default).collect();
        all.extend(&self.run.command);
        all.extend(&self.run.working_directory);
        all.extend(self.run.environment.iter().map(|(_, v)| v));
        all.extend(&self.run.environment_file);
        all.extend([&self.directories.runtime, &self.directories.state, &self.directories.logs].into_iter().flatten());
        all.extend(self.check.iter().filter_map(Check::command).flatten());
        if let Some(Reload::Command(c)) = &self.reload {
            all.extend(c);
        }
        for hook in &self.stop.before {
            match &hook.action {
                HookAction::Run(c) | HookAction::Poll { command: c, .. } => all.extend(c),
            }
        }
        match self.ready.as_ref().map(|r| &r.check) {
            Some(ReadyCheck::Tcp(t)) => all.push(t),
            Some(ReadyCheck::Command(c)) => all.extend(c),
            None => {}
        }
        all.extend(&self.systemd.write_paths);
        all
    }

    /// The executable `/proc/PID/exe` must point at (before resolving links).
    pub fn executable(&self) -> String {
        self.run.executable.clone().unwrap_or_else(|| self.run.command[0].as_literal().unwrap_or_default())
    }
}

/// User and group names as `useradd` accepts them.
pub fn is_account_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
        && name.len() <= 32
}
