//! The validated recipe: what a service needs, with every value checked and parsed.

use super::{
    condition::Conditions,
    relations::Depends,
    schedule::{Schedule, Socket},
    signal::Signal,
    template::Template,
};

/// A service recipe that passed validation. Renderers take only this.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    pub name: String,
    pub summary: String,
    pub description: Option<String>,
    pub documentation: Vec<String>,
    /// System facilities the service needs before it starts.
    pub needs: Vec<Facility>,
    /// Other names the service answers to (systemd `Alias=`, LSB `Provides:`).
    pub aliases: Vec<String>,
    /// The systemd targets that start it at boot; `multi-user.target` by default.
    pub wanted_by: Vec<String>,
    pub depends: Depends,
    pub conditions: Conditions,
    /// Variables an instance may override (`--set port=6380`), with their defaults.
    pub vars: Vec<Var>,
    pub instances: Option<Instances>,
    pub run: Run,
    pub directories: Directories,
    pub check: Option<Check>,
    pub reload: Option<Reload>,
    pub start: Start,
    pub stop: Stop,
    pub ready: Option<Ready>,
    pub restart: Restart,
    pub schedule: Option<Schedule>,
    pub socket: Option<Socket>,
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
    /// Local file systems are mounted (LSB `$local_fs`, systemd `local-fs.target`).
    LocalFs,
    /// The system logger runs (LSB `$syslog`, systemd `syslog.socket` when there is one).
    Syslog,
    /// The RPC port mapper runs (LSB `$portmap`, systemd `rpcbind.target`).
    Portmap,
}

impl Facility {
    pub const ALL: [(Facility, &'static str); 7] = [
        (Facility::Network, "network"),
        (Facility::Names, "names"),
        (Facility::Time, "time"),
        (Facility::RemoteFs, "remote-fs"),
        (Facility::LocalFs, "local-fs"),
        (Facility::Syslog, "syslog"),
        (Facility::Portmap, "portmap"),
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

/// How the command runs, and how its end is read.
#[derive(Debug, Clone, PartialEq)]
pub enum RunKind {
    /// It stays in the foreground: the process started is the service.
    Foreground,
    /// It stays in the foreground and says when it is ready over sd_notify
    /// (`Type=notify`; elsewhere it is a foreground daemon).
    Notify,
    /// It forks into the background and exits; the daemon writes its PID
    /// here. Read once, right after the start, and kept with its start time:
    /// a PID it names is taken only if that process started after the command.
    Forking { pidfile: Template },
    /// A task: it runs to its end, and a start succeeds when it exits 0.
    /// With `remain`, the service counts as running after that, until stopped.
    Oneshot { remain: bool },
}

impl RunKind {
    pub fn name(&self) -> &'static str {
        match self {
            RunKind::Foreground => "foreground",
            RunKind::Notify => "notify",
            RunKind::Forking { .. } => "forking",
            RunKind::Oneshot { .. } => "oneshot",
        }
    }

    pub fn is_oneshot(&self) -> bool {
        matches!(self, RunKind::Oneshot { .. })
    }
}

/// The kernel's I/O scheduling class for the service (ionice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoClass {
    Realtime,
    BestEffort,
    Idle,
}

impl IoClass {
    pub const ALL: [(IoClass, &'static str); 3] =
        [(IoClass::Realtime, "realtime"), (IoClass::BestEffort, "best-effort"), (IoClass::Idle, "idle")];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(c, _)| *c == self).map_or("best-effort", |(_, n)| n)
    }

    /// ionice's class number.
    pub fn number(self) -> u8 {
        match self {
            IoClass::Realtime => 1,
            IoClass::BestEffort => 2,
            IoClass::Idle => 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The command, one template per argument.
    pub command: Vec<Template>,
    pub kind: RunKind,
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
    /// Exit codes (besides 0) that count as a clean end (143 for a JVM's SIGTERM).
    pub success_codes: Vec<u8>,
    /// Scheduling priority, -20 (first) to 19 (last).
    pub nice: Option<i8>,
    /// The kernel's out-of-memory score adjustment, -1000 (never killed) to 1000.
    pub oom_score_adjust: Option<i16>,
    /// I/O class and priority (0 first, 7 last; none for `idle`).
    pub io: Option<(IoClass, Option<u8>)>,
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

/// Steps of a start besides the gate: setup before the command, and steps
/// once it is ready.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Start {
    /// Before the command (systemd `ExecStartPre=`); a failing one fails the
    /// start unless it is `optional`.
    pub before: Vec<Hook>,
    /// Once the service is ready (systemd `ExecStartPost=`).
    pub after: Vec<Hook>,
}

/// Which processes the stop signal goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// The main process gets the signal and shuts its workers down; what is
    /// left of the service at the end gets SIGTERM, then SIGKILL.
    Mixed,
    /// Every process of the service gets the signal.
    Group,
    /// Only the main process, and nothing else is ended: what it started
    /// lives on (a session cron or sshd started is the user's, not the daemon's).
    Process,
}

impl StopMode {
    pub const ALL: [(StopMode, &'static str); 3] =
        [(StopMode::Mixed, "mixed"), (StopMode::Group, "group"), (StopMode::Process, "process")];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(m, _)| *m == self).map_or("mixed", |(_, n)| n)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    pub signal: Signal,
    /// How long to wait after the signal before escalating to KILL.
    pub timeout_ms: u64,
    pub before: Vec<Hook>,
    /// The daemon's own stop command, run instead of sending the signal
    /// first (systemd `ExecStop=`); what is still running after it gets the signal.
    pub command: Option<Vec<Template>>,
    pub mode: StopMode,
    /// Cleanup once the service is gone, after a stop or a failed start
    /// (systemd `ExecStopPost=`).
    pub after: Vec<Hook>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub description: String,
    pub action: HookAction,
    pub timeout_ms: u64,
    pub user: Option<String>,
    /// A failure is reported and ignored (steps before a start; steps of a
    /// stop are never fatal).
    pub optional: bool,
}

/// When a supervising init system starts the service again after it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    /// After a failure: a non-zero exit (not a success code), a signal, a timeout.
    OnFailure,
    /// After any end but a stop.
    Always,
    /// After a signal or a timeout, not after an exit of its own.
    OnAbnormal,
    /// After an uncaught signal only (a crash).
    OnAbort,
    /// Never.
    No,
}

impl RestartPolicy {
    pub const ALL: [(RestartPolicy, &'static str); 5] = [
        (RestartPolicy::OnFailure, "on-failure"),
        (RestartPolicy::Always, "always"),
        (RestartPolicy::OnAbnormal, "on-abnormal"),
        (RestartPolicy::OnAbort, "on-abort"),
        (RestartPolicy::No, "no"),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(p, _)| *p == self).map_or("on-failure", |(_, n)| n)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Restart {
    pub policy: RestartPolicy,
    pub delay_ms: u64,
    /// At most `burst` starts within `interval_ms`; then it stays down.
    pub burst: Option<u32>,
    pub interval_ms: Option<u64>,
    /// Exit codes after which it is never restarted (a bad configuration).
    pub prevent_codes: Vec<u8>,
    /// How the daemon restarts with no window, where it can (`initkit restart`).
    pub handover: Option<Handover>,
}

/// A restart with no moment where nothing listens: the daemon hands its
/// listening sockets to a new main process, or to new workers, itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Handover {
    /// What the main process gets to begin it (nginx and haproxy: USR2).
    pub signal: Signal,
    pub main: HandoverMain,
    /// How long the new main process (or worker) has to appear and start its
    /// own workers; past it, the handover failed and a plain restart follows.
    pub timeout_ms: u64,
}

/// Where the main process is after a handover, and how its success is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoverMain {
    /// The old main starts a new main process as its child, holding the same
    /// sockets (nginx's binary upgrade). Once that one has started workers of
    /// its own, `finish` goes to the old one, and the new one is the service.
    Child { finish: Signal },
    /// The main process executes itself again and starts new workers on the
    /// sockets it keeps (haproxy's master-worker mode): its PID stays; a new
    /// worker of it is the sign of success.
    Same,
}

impl HandoverMain {
    pub const NAMES: [&'static str; 2] = ["child", "same"];

    pub fn name(self) -> &'static str {
        match self {
            HandoverMain::Child { .. } => "child",
            HandoverMain::Same => "same",
        }
    }
}

impl Restart {
    /// The default of a task (never restarted) or of a daemon (after a failure).
    pub fn default_for(task: bool) -> Restart {
        Restart { policy: if task { RestartPolicy::No } else { RestartPolicy::OnFailure }, ..Restart::default() }
    }
}

impl Default for Restart {
    fn default() -> Self {
        Restart {
            policy: RestartPolicy::OnFailure,
            delay_ms: 1_000,
            burst: None,
            interval_ms: None,
            prevent_codes: Vec::new(),
            handover: None,
        }
    }
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
    /// How long the process must stay up, as the same process, once the
    /// probe passes (a daemon that listens, then fails on the rest of its
    /// config: nginx keeps its first port while it retries a taken one).
    pub settle_ms: u64,
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
    /// Parts of the sandbox the service needs lifted.
    pub allow: Vec<Relax>,
    /// `TasksMax=`: at most this many processes and threads.
    pub tasks_max: Option<u64>,
    /// `WatchdogSec=`: the daemon pings systemd (sd_notify `WATCHDOG=1`)
    /// at least this often, in milliseconds, or is restarted as hung.
    pub watchdog_ms: Option<u64>,
    /// `FileDescriptorStoreMax=`: systemd keeps up to this many descriptors
    /// the daemon hands it (sd_notify `FDSTORE=1`) across its restarts.
    pub fd_store_max: Option<u64>,
    /// `IgnoreOnIsolate=`: `systemctl isolate` (a switch to another target,
    /// `rescue.target` say) leaves the service running. Only systemd
    /// isolates; elsewhere a change of runlevel stops what the new one lacks.
    pub ignore_on_isolate: bool,
    /// `Slice=`: the control-group slice (`system-db.slice`) the service's
    /// processes are placed in, so a slice's limits cover them. Only
    /// systemd has slices.
    pub slice: Option<String>,
}

/// A part of initkit's sandbox a service may need lifted, still capped by
/// `exposure_max`. Each names what the service does that the sandbox forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relax {
    /// Real devices in /dev (smartd, cups, UPS daemons).
    Devices,
    /// Setting the clock (chrony, ntpd); its capability comes with it.
    Clock,
    /// Reading the kernel log, /dev/kmsg (rsyslog).
    KernelLogs,
    /// Reading and writing /home, /root and /run/user.
    Home,
    /// The host's /tmp rather than a private one.
    Tmp,
    /// Tuning the kernel through /proc/sys and /sys.
    KernelTunables,
    /// Every process is visible in /proc, with its details.
    Proc,
    /// Making namespaces (containers, browsers' sandboxes).
    Namespaces,
    /// Real-time scheduling.
    Realtime,
    /// Privileged system calls.
    Privileged,
    /// Setting set-user-ID and set-group-ID bits on files.
    Suid,
    /// Writing anywhere under /var and /run, as a daemon without a sandbox
    /// may (imported ones): /usr, /boot and /etc stay read-only.
    Writes,
    /// The service starts login sessions (sshd, cron, atd): what it starts
    /// is a user's, so none of the sandbox may reach it; the unit keeps
    /// only what a session cannot notice.
    Sessions,
}

impl Relax {
    pub const ALL: [(Relax, &'static str); 13] = [
        (Relax::Devices, "devices"),
        (Relax::Clock, "clock"),
        (Relax::KernelLogs, "kernel-logs"),
        (Relax::Home, "home"),
        (Relax::Tmp, "tmp"),
        (Relax::KernelTunables, "kernel-tunables"),
        (Relax::Proc, "proc"),
        (Relax::Namespaces, "namespaces"),
        (Relax::Realtime, "realtime"),
        (Relax::Privileged, "privileged"),
        (Relax::Suid, "suid"),
        (Relax::Writes, "writes"),
        (Relax::Sessions, "sessions"),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(r, _)| *r == self).map_or("", |(_, n)| n)
    }
}

impl Systemd {
    pub fn allows(&self, relax: Relax) -> bool {
        self.allow.contains(&relax)
    }
}

/// Built-in variables every template may use.
/// `{instance_path}` is the instance with each `-` as `/` (systemd's `%I`):
/// `15-main` names `/etc/postgresql/15/main`.
pub const BUILTIN_VARS: [&str; 6] = ["name", "instance", "instance_path", "runtime_dir", "state_dir", "logs_dir"];

/// The instance as a path: each `-` a `/`, as systemd's `%I` unescapes an
/// instance name (initkit's names hold no `\`, so nothing else changes).
pub fn instance_path(instance: &str) -> String {
    instance.replace('-', "/")
}

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
        for hook in self.hooks() {
            match &hook.action {
                HookAction::Run(c) | HookAction::Poll { command: c, .. } => all.extend(c),
            }
        }
        all.extend(self.stop.command.iter().flatten());
        if let RunKind::Forking { pidfile } = &self.run.kind {
            all.push(pidfile);
        }
        match self.ready.as_ref().map(|r| &r.check) {
            Some(ReadyCheck::Tcp(t)) => all.push(t),
            Some(ReadyCheck::Command(c)) => all.extend(c),
            None => {}
        }
        all.extend(&self.systemd.write_paths);
        all.extend(self.conditions.iter().filter_map(|c| match &c.probe {
            super::condition::Probe::Path(_, p) => Some(p),
            super::condition::Probe::Virtualization(_)
            | super::condition::Probe::Capability(_)
            | super::condition::Probe::KernelCommandLine(_)
            | super::condition::Probe::AcPower
            | super::condition::Probe::Security(_) => None,
        }));
        all
    }

    /// Whether any template of the recipe refers to the variable.
    pub fn uses_var(&self, name: &str) -> bool {
        self.templates().iter().any(|t| t.vars().any(|v| v == name))
    }

    /// Every hook: before and after start, before and after stop.
    pub fn hooks(&self) -> impl Iterator<Item = &Hook> {
        self.start.before.iter().chain(&self.start.after).chain(&self.stop.before).chain(&self.stop.after)
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

/// Whether `name` is a slice unit's name systemd accepts: unit-name
/// characters only (so nothing in it is a specifier, an escape or a second
/// directive), ending in `.slice`, nested by `-` with no empty part.
pub fn check_slice(name: &str) -> Result<(), &'static str> {
    let Some(stem) = name.strip_suffix(".slice") else {
        return Err("is not a slice: its name must end in `.slice`");
    };
    if stem.is_empty() {
        return Err("has no name before `.slice`");
    }
    if name.len() > 255 {
        return Err("is longer than the 255 bytes a unit name may have");
    }
    if !stem.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '.' | '-')) {
        return Err("has a character a unit name may not have (only letters, digits and `:_.-`)");
    }
    if stem != "-" && (stem.starts_with('-') || stem.ends_with('-') || stem.contains("--")) {
        return Err("has an empty part between its `-`s");
    }
    Ok(())
}
