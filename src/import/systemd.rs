//! systemd units (with their drop-in directories and templates) read into a
//! recipe: each directive carried, approximated or dropped, and said so.

use super::{
    Source,
    draft::{Draft, lit},
    ini::{self, Entry, Problem},
    report::{Outcome, Report},
    words::{self, Dialect},
};
use crate::recipe::{Dep, check_slice, duration::format_duration};

mod conditions;
mod deferred;

/// Directives of initkit's own hardening: the recipe's systemd section
/// renders its own set, scored against `exposure_max`.
const HARDENING: &[&str] = &[
    "ProtectSystem",
    "ProtectHome",
    "PrivateTmp",
    "PrivateDevices",
    "NoNewPrivileges",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "ProtectClock",
    "ProtectHostname",
    "RestrictNamespaces",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "LockPersonality",
    "MemoryDenyWriteExecute",
    "SystemCallArchitectures",
    "SystemCallFilter",
    "SystemCallErrorNumber",
    "RestrictAddressFamilies",
    "CapabilityBoundingSet",
    "AmbientCapabilities",
    "PrivateUsers",
    "ProtectProc",
    "ProcSubset",
    "ReadWritePaths",
    "ReadOnlyPaths",
    "InaccessiblePaths",
    "DevicePolicy",
    "DeviceAllow",
    "PrivateNetwork",
    "RemoveIPC",
    "KeyringMode",
    "NotifyAccess",
    "DynamicUser",
    "UMask",
    "IPAddressDeny",
    "IPAddressAllow",
    "PrivateIPC",
    "PrivateMounts",
    "ReadWriteDirectories",
    "ReadOnlyDirectories",
    "InaccessibleDirectories",
    "SecureBits",
    "NoExecPaths",
    "ExecPaths",
    "TemporaryFileSystem",
    "BindPaths",
    "BindReadOnlyPaths",
    "RestrictFileSystems",
    "SocketBindAllow",
    "SocketBindDeny",
    "ProtectKernelLogs",
    "RootDirectory",
    "MountFlags",
    "ProtectProc",
    "LimitNOFILESoft",
];

/// Directives that only describe the unit to systemd's own tools, or its
/// default behaviour; carried as nothing because nothing is lost.
const NEUTRAL: &[&str] = &[
    "DefaultDependencies",
    "SyslogIdentifier",
    "StandardOutput",
    "StandardError",
    "IgnoreSIGPIPE",
    "SendSIGKILL",
    "Delegate",
    "TimeoutSec",
    "GuessMainPID",
    "SourcePath",
];

/// The units of system facilities, and the recipe's name for each.
const FACILITIES: &[(&str, &str)] = &[
    ("network-online.target", "network"),
    ("nss-lookup.target", "names"),
    ("time-sync.target", "time"),
    ("remote-fs.target", "remote-fs"),
    ("local-fs.target", "local-fs"),
    ("syslog.target", "syslog"),
    ("syslog.socket", "syslog"),
    ("rpcbind.target", "portmap"),
];

/// Units every service is ordered against anyway.
const IMPLIED: &[&str] = &[
    "basic.target",
    "sysinit.target",
    "shutdown.target",
    "multi-user.target",
    "systemd-journald.socket",
    "network.target",
    "nss-lookup.target",
];

pub fn import(src: &Source) -> Result<(String, Draft, Report), Vec<Problem>> {
    let (mut entries, mut problems) = ini::parse(&src.file, &src.text, &['#', ';']);
    for extra in &src.extra {
        let (e, p) = ini::parse(&extra.file, &extra.text, &['#', ';']);
        // A companion .timer or .socket gives its [Timer] or [Socket] only:
        // its own [Unit] and [Install] are about the companion.
        let companion = [(".timer", "Timer"), (".socket", "Socket")].iter().find(|(s, _)| extra.file.ends_with(s));
        entries.extend(e.into_iter().filter(|e| companion.is_none_or(|(_, section)| e.section == *section)));
        problems.extend(p);
    }
    if entries.is_empty() {
        problems.push(Problem { file: src.file.clone(), line: 1, message: "no directives: not a systemd unit".into() });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let stem = src.stem();
    let template = stem.ends_with('@');
    let name = super::recipe_name(stem.trim_end_matches('@'));
    let mut m = Mapper {
        d: Draft::new(&name, &name),
        r: Report::default(),
        name: name.clone(),
        template,
        vars: Vec::new(),
        forking: false,
        oneshot: false,
        idle_io: false,
        pidfile: None,
        before: Vec::new(),
        triggering: [0, 0],
        any: Vec::new(),
        deferred: deferred::Deferred::default(),
        start_line: None,
        earlier_starts: Vec::new(),
    };
    // A later assignment replaces an earlier one (drop-ins); empty resets a list.
    let mut merged: Vec<Entry> = Vec::new();
    for e in entries {
        if e.value.is_empty() {
            merged.retain(|x| !(x.section == e.section && x.key == e.key));
            continue;
        }
        if !is_list(&e.key) {
            merged.retain(|x| !(x.section == e.section && x.key == e.key));
        }
        merged.push(e);
    }
    m.triggering = conditions::triggering(&merged);
    // The source says which facilities it needs; none unless it does.
    m.d.set_list::<&str>(&[], "needs", &[]);
    for e in &merged {
        m.entry(e);
    }
    m.lone_trigger();
    // Without ProtectSystem=strict the unit let its daemon write under /var and /run.
    if !merged.iter().any(|e| e.section == "Service" && e.key == "ProtectSystem" && e.value == "strict") {
        super::sandbox::open_for_unsandboxed(&mut m.d, &mut m.r, &src.file, 1);
    }
    // A pidfile is a forking daemon's; of any other, initkit knows the PID itself.
    if let Some((f, l, key, p)) = m.pidfile.take() {
        if m.forking {
            m.d.set(&["run"], "pidfile", p);
            m.r.carried(&f, l, &key);
        } else {
            m.r.approximated(&f, l, &key, "initkit knows the PID of a daemon it starts in the foreground");
        }
    }
    if m.forking && !m.d.has(&["run"], "pidfile") {
        return Err(vec![Problem {
            file: src.file.clone(),
            line: 1,
            message: "Type=forking without PIDFile=: initkit cannot tell which process is the daemon".into(),
        }]);
    }
    // A socket a recipe can listen on, or none: its settings go with it.
    if m.d.has(&[], "socket") && !m.d.has(&["socket"], "stream") && !m.d.has(&["socket"], "datagram") {
        m.d.remove(&[], "socket");
        for e in m.r.entries.iter_mut().filter(|e| e.setting.starts_with("[Socket]")) {
            if matches!(e.outcome, Outcome::Carried) {
                e.outcome = Outcome::Dropped(
                    "the socket has no address a recipe listens on (`ListenStream=`, `ListenDatagram=`)".into(),
                );
            }
        }
    }
    // A schedule starts a task; a socket or a schedule, not both.
    if m.d.has(&[], "schedule") && (!m.oneshot || m.d.has(&[], "socket")) {
        m.d.remove(&[], "schedule");
        for e in m.r.entries.iter_mut().filter(|e| e.setting.starts_with("[Timer]")) {
            e.outcome = Outcome::Dropped("the timer starts a service that is not a task (`Type=oneshot`)".into());
        }
    }
    let mut check = m.d.get_list(&["check"], "command");
    let program = m.d.get_list(&["run"], "command").and_then(|c| c.first().cloned());
    for (f, l, key, words, optional) in std::mem::take(&mut m.before) {
        // The daemon itself in a test mode (`nginx -t -q`) is its config test.
        if !optional
            && check.is_none()
            && words.first() == program.as_ref()
            && words.iter().any(|w| TEST_FLAGS.contains(&w.as_str()))
        {
            m.d.set_list(&["check"], "command", &words);
            m.r.approximated(
                &f,
                l,
                &key,
                "the daemon's config test: the recipe's `[check]`, the gate before start, reload and restart",
            );
            check = Some(words);
            continue;
        }
        if !optional && check.as_ref() == Some(&words) {
            m.r.approximated(
                &f,
                l,
                &key,
                "the config test (`[check]`): the gate runs it before start, reload and restart",
            );
            continue;
        }
        m.d.push_step(
            "start",
            "before",
            format!("ExecStartPre from {}", super::base_name(&f)),
            &words,
            "90s",
            Some(optional),
        );
        m.r.carried(&f, l, &key);
    }
    for (f, l, key, words) in std::mem::take(&mut m.earlier_starts) {
        let why = if m.oneshot {
            "a command of the task before its last: a step before it (`start.before`), within 1h; a failure fails the start, as it did"
        } else {
            "a second command of a daemon, which systemd refuses: run as a step before the last one (`start.before`), within 1h"
        };
        m.d.push_step("start", "before", format!("ExecStart from {}", super::base_name(&f)), &words, "1h", Some(false));
        if let Some(e) = m.r.entries.iter_mut().find(|e| e.file == f && e.line == l && e.setting == key) {
            e.outcome = Outcome::Approximated(why.into());
        }
    }
    fix_up(&mut m);
    if m.oneshot && m.d.has(&[], "reload") {
        // `ExecReload=/bin/true` on an umbrella task only lets a reload pass
        // on to the units that propagate it; it does nothing itself.
        let noop = m.d.get_list(&["reload"], "command").is_some_and(|c| c.len() == 1 && NOOPS.contains(&c[0].as_str()));
        m.d.remove(&[], "reload");
        if let Some(e) = m.r.entries.iter_mut().rfind(|e| e.setting == "[Service] ExecReload") {
            e.outcome = if noop {
                Outcome::Approximated(
                    "a reload that does nothing: a task (`Type=oneshot`) has no reload in a recipe".into(),
                )
            } else {
                Outcome::Dropped("a task (`Type=oneshot`) has no reload in a recipe".into())
            };
        }
    }
    m.settle();
    if !m.d.has(&["run"], "command") {
        return Err(vec![Problem { file: src.file.clone(), line: 1, message: "no ExecStart=: nothing to run".into() }]);
    }
    if !m.d.has(&["run"], "user") {
        m.d.set(&["run"], "user", "root");
    }
    if template {
        m.d.set(&["instances"], "default", "main");
    }
    // A setting the command names takes the unit's `Environment=` value as
    // its default; the recipe reads settings from its own file, so values an
    // `EnvironmentFile=` gives them belong there.
    for v in m.vars.clone() {
        if !m.d.has(&["vars"], &v) {
            let value = m.d.get_str(&["run", "environment"], &v).unwrap_or_default();
            m.d.set(&["vars"], &v, value);
        }
    }
    if !m.vars.is_empty() {
        for e in m.r.entries.iter_mut().filter(|e| e.setting == "[Service] EnvironmentFile") {
            e.outcome = Outcome::Approximated(format!(
                "kept for the process's environment; the command's settings ({}) are initkit settings (`--set`, /etc/default/NAME): move their values there",
                m.vars.join(", ")
            ));
        }
    }
    Ok((name, m.d, m.r))
}

/// Commands that do nothing and succeed.
const NOOPS: [&str; 4] = ["/bin/true", "/usr/bin/true", "/bin/:", "/usr/bin/:"];

/// Arguments that put a daemon in its config-test mode.
const TEST_FLAGS: [&str; 9] =
    ["-t", "-tt", "-T", "--test", "--check", "configtest", "--config-test", "--test-config", "--check-config"];

/// Pairs a recipe takes together, filled in as systemd defaults them.
fn fix_up(m: &mut Mapper) {
    if m.d.has(&["restart"], "burst") != m.d.has(&["restart"], "interval") {
        if m.d.has(&["restart"], "burst") {
            m.d.set(&["restart"], "interval", "10s");
        } else {
            m.d.set(&["restart"], "burst", 5);
        }
    }
    if !m.oneshot {
        m.d.remove(&["run"], "remain");
    }
    if m.idle_io {
        m.d.remove(&["run"], "io_priority");
    }
    // Without a random delay there is nothing to keep fixed (systemd ignores it).
    if m.d.has(&["schedule"], "fixed_random_delay") && !m.d.has(&["schedule"], "random_delay") {
        m.d.remove(&["schedule"], "fixed_random_delay");
        if let Some(e) = m.r.entries.iter_mut().rfind(|e| e.setting == "[Timer] FixedRandomDelay") {
            e.outcome = Outcome::Approximated("no `RandomizedDelaySec=`: there is no delay to keep fixed".into());
        }
    }
}

fn is_list(key: &str) -> bool {
    matches!(
        key,
        "After"
            | "Before"
            | "Wants"
            | "Requires"
            | "BindsTo"
            | "PartOf"
            | "Conflicts"
            | "ReloadPropagatedFrom"
            | "WantedBy"
            | "Alias"
            | "Documentation"
            | "Environment"
            | "ExecStart"
            | "ExecStartPre"
            | "ExecStartPost"
            | "ExecStopPost"
            | "ExecStop"
            | "ExecReload"
            | "RequiresMountsFor"
            | "ListenStream"
            | "ListenDatagram"
            | "OnCalendar"
            | "SuccessExitStatus"
            | "RestartPreventExitStatus"
    ) || key.starts_with("Condition")
        || key.starts_with("Assert")
        || HARDENING.contains(&key)
}

// The mapping reads (file, line, key, value) in every arm: one-letter names keep the table readable.
#[allow(clippy::struct_excessive_bools)]
struct Mapper {
    d: Draft,
    r: Report,
    name: String,
    template: bool,
    vars: Vec<String>,
    forking: bool,
    oneshot: bool,
    idle_io: bool,
    pidfile: Option<(String, usize, String, String)>,
    /// `ExecStartPre=` steps, written once the config test is known (a step
    /// that is the config test is the gate's, not a second run of it).
    before: Vec<(String, usize, String, Vec<String>, bool)>,
    /// How many `|` (triggering) conditions and assertions the unit has:
    /// one alone is a plain one.
    triggering: [usize; 2],
    /// The triggering conditions carried into `[conditions.any]`.
    any: Vec<crate::recipe::Condition>,
    /// Settings whose meaning depends on the rest of the unit, read at its end.
    deferred: deferred::Deferred,
    /// Where the `ExecStart=` that is the command now was read.
    start_line: Option<(String, usize)>,
    /// A task's `ExecStart=` commands before its last, which run in turn before it.
    earlier_starts: Vec<(String, usize, String, Vec<String>)>,
}

#[allow(clippy::many_single_char_names)]
impl Mapper {
    fn entry(&mut self, e: &Entry) {
        let (f, l, k, v) = (e.file.as_str(), e.line, e.key.as_str(), e.value.as_str());
        let key = format!("[{}] {k}", e.section);
        match (e.section.as_str(), k) {
            ("Timer", "OnCalendar") => {
                if self.d.has(&["schedule"], "calendar") {
                    return self.r.dropped(f, l, &key, "a second calendar time; a recipe's schedule has one");
                }
                match crate::recipe::schedule::check_calendar(v) {
                    Ok(()) => {
                        self.d.set(&["schedule"], "calendar", v);
                        self.r.carried(f, l, &key);
                    }
                    Err(e) => self.r.dropped(f, l, &key, e),
                }
            }
            ("Timer", "OnUnitActiveSec" | "OnUnitInactiveSec") => {
                self.duration(f, l, &key, &["schedule"], "every", v);
            }
            ("Timer", "Persistent") => self.boolean(f, l, &key, &["schedule"], "persistent", v),
            ("Unit", "IgnoreOnIsolate") => self.boolean(f, l, &key, &["systemd"], "ignore_on_isolate", v),
            ("Timer", "FixedRandomDelay") => self.boolean(f, l, &key, &["schedule"], "fixed_random_delay", v),
            ("Timer", "RandomizedDelaySec") => self.duration(f, l, &key, &["schedule"], "random_delay", v),
            ("Timer", "AccuracySec") => {
                self.r.approximated(f, l, &key, "systemd's default accuracy (one minute)");
            }
            ("Socket", "ListenStream" | "ListenDatagram") => {
                let list = if k == "ListenStream" { "stream" } else { "datagram" };
                match crate::recipe::schedule::check_listen(v) {
                    Ok(()) => {
                        self.d.push(&["socket"], list, v);
                        self.r.carried(f, l, &key);
                    }
                    Err(e) => self.r.dropped(f, l, &key, e),
                }
            }
            ("Socket", "Accept") => self.boolean(f, l, &key, &["socket"], "accept", v),
            ("Socket", "SocketMode") => match crate::recipe::schedule::check_mode(v) {
                Ok(()) => {
                    self.d.set(&["socket"], "mode", v);
                    self.r.carried(f, l, &key);
                }
                Err(e) => self.r.dropped(f, l, &key, e),
            },
            ("Socket", "SocketUser" | "SocketGroup") => {
                let field = if k == "SocketUser" { "user" } else { "group" };
                if crate::recipe::is_account_name(v) {
                    self.d.set(&["socket"], field, v);
                    self.r.carried(f, l, &key);
                } else {
                    self.r.dropped(f, l, &key, format!("`{v}` is not a {field} name a recipe takes"));
                }
            }
            ("Socket", "BindIPv6Only") if crate::recipe::schedule::IPV6_ONLY.contains(&v) => {
                self.d.set(&["socket"], "ipv6_only", v);
                self.r.carried(f, l, &key);
            }
            ("Unit", "Description") => {
                // A template's unit says its instance itself: ` (%i)` after the summary.
                let bare = v.split_whitespace().filter(|w| !matches!(*w, "%i" | "%I")).collect::<Vec<_>>().join(" ");
                let v = if self.template && !bare.is_empty() { bare } else { v.to_owned() };
                self.d.set(&[], "summary", v.as_str());
                self.r.carried(f, l, &key);
            }
            ("Unit", "Documentation") => {
                for doc in v.split_whitespace() {
                    self.d.push(&[], "documentation", doc);
                }
                self.r.carried(f, l, &key);
            }
            (
                "Unit",
                "After" | "Wants" | "Requires" | "Before" | "BindsTo" | "PartOf" | "Conflicts" | "ReloadPropagatedFrom",
            ) => {
                self.relation(f, l, &key, k, v);
            }
            ("Unit", "RequiresMountsFor") => {
                let mut paths = Vec::new();
                for p in v.split_whitespace() {
                    match self.specifiers(f, l, &key, &lit(p)) {
                        Some(p) => paths.push(p),
                        None => return,
                    }
                }
                for p in paths {
                    self.d.push(&["depends"], "mounts", &p);
                }
                self.r.carried(f, l, &key);
            }
            // systemd still reads the older names in [Service].
            ("Unit" | "Service", "StartLimitBurst") => self.number(f, l, &key, &["restart"], "burst", v),
            ("Unit", "StartLimitIntervalSec" | "StartLimitInterval") | ("Service", "StartLimitInterval") => {
                self.duration(f, l, &key, &["restart"], "interval", v);
            }
            ("Unit", c) if c.starts_with("Condition") || c.starts_with("Assert") => self.condition(f, l, &key, c, v),
            ("Service", "Type") => self.kind(f, l, &key, v),
            ("Service", "ExecStart") => {
                if let Some(words) = self.command(f, l, &key, v) {
                    // A task's commands run in turn: each but the last is a step before it.
                    if let Some(earlier) = self.d.get_list(&["run"], "command") {
                        let (ef, el) = self.start_line.clone().unwrap_or_default();
                        self.earlier_starts.push((ef, el, key.clone(), earlier));
                    }
                    self.d.set_list(&["run"], "command", &words);
                    self.start_line = Some((f.to_owned(), l));
                    self.r.carried(f, l, &key);
                }
            }
            ("Service", "ExecReload") => {
                // `ExecReload=` lines run in turn: a command before the last
                // one is a check (haproxy's `-c`, then `kill -USR2`): it
                // becomes the recipe's config test, run before reload and restart.
                if self.d.has(&[], "reload") {
                    match self.d.get_list(&["reload"], "command") {
                        Some(first) if !self.d.has(&[], "check") => {
                            self.d.remove(&[], "reload");
                            self.d.set_list(&["check"], "command", &first);
                            // The report says so at the line that became the check.
                            if let Some(e) = self.r.entries.iter_mut().rfind(|e| e.setting == key) {
                                e.outcome = Outcome::Approximated(
                                    "a check before the reload: the config test (`[check]`), run before reload and restart"
                                        .into(),
                                );
                            }
                        }
                        _ => {
                            return self.r.dropped(
                                f,
                                l,
                                &key,
                                "a third reload command; a recipe's reload is a check and one command or signal",
                            );
                        }
                    }
                }
                if let Some(signal) = kill_main(v) {
                    self.d.set(&["reload"], "signal", signal);
                    self.r.carried(f, l, &key);
                } else if let Some(words) = self.command(f, l, &key, v) {
                    self.d.set_list(&["reload"], "command", &words);
                    self.r.carried(f, l, &key);
                }
            }
            ("Service", "ExecStop") => {
                // `kill -INT $MAINPID` is a stop signal; systemd signals what
                // is left right after it, a recipe waits on the daemon first.
                if let Some(signal) = kill_main(v) {
                    self.d.set(&["stop"], "signal", signal);
                    return self.r.approximated(
                        f,
                        l,
                        &key,
                        "the stop signal (`stop.signal`), then the wait for the daemon to exit: systemd sent \
                         KillSignal= to what was left as soon as kill(1) returned",
                    );
                }
                if let Some(words) = self.command(f, l, &key, v) {
                    self.d.set_list(&["stop"], "command", &words);
                    self.r.carried(f, l, &key);
                }
            }
            ("Service", "ExecStartPre" | "ExecStartPost" | "ExecStopPost") => {
                let (table, list) = match k {
                    "ExecStartPre" => ("start", "before"),
                    "ExecStartPost" => ("start", "after"),
                    _ => ("stop", "after"),
                };
                let optional = v.trim_start_matches(['@', '+', '!', ':']).starts_with('-');
                if k == "ExecStartPre" {
                    if let Some(words) = self.command(f, l, &key, v) {
                        self.before.push((f.to_owned(), l, key.clone(), words, optional));
                    }
                    return;
                }
                if let Some(words) = self.command(f, l, &key, v) {
                    // A stop step has no `optional`: a failed one never stops the stop.
                    let optional = (k != "ExecStopPost").then_some(optional);
                    self.d.push_step(table, list, format!("{k} from {}", super::base_name(f)), &words, "90s", optional);
                    self.r.carried(f, l, &key);
                }
            }
            ("Service", "User") => self.line(f, l, &key, &["run"], "user", v),
            ("Service", "Group") => self.line(f, l, &key, &["run"], "group", v),
            ("Service", "WorkingDirectory") => {
                let path = v.trim_start_matches('-');
                if path == "~" {
                    self.r.dropped(f, l, &key, "the user's home directory (`~`) has no recipe equivalent");
                } else if let Some(p) = self.specifiers(f, l, &key, path) {
                    self.d.set(&["run"], "working_directory", p);
                    self.r.carried(f, l, &key);
                }
            }
            ("Service", "Environment") => self.environment(f, l, &key, v),
            ("Service", "EnvironmentFile") => {
                let path = v.trim_start_matches('-');
                self.d.set(&["run"], "environment_file", lit(path));
                self.r.carried(f, l, &key);
            }
            ("Service", "PIDFile") => {
                if let Some(p) = self.specifiers(f, l, &key, v) {
                    self.pidfile = Some((f.to_owned(), l, key.clone(), p));
                }
            }
            ("Service", "RemainAfterExit") => {
                self.d.set(&["run"], "remain", yes(v));
                self.r.carried(f, l, &key);
            }
            ("Service", "Restart") => {
                let policy = match v {
                    "no" | "always" | "on-failure" | "on-abnormal" | "on-abort" => v,
                    "on-success" | "on-watchdog" => {
                        self.r.approximated(f, l, &key, format!("`{v}` becomes `on-failure`"));
                        self.d.set(&["restart"], "policy", "on-failure");
                        return;
                    }
                    _ => return self.r.dropped(f, l, &key, format!("`{v}` is not a restart policy")),
                };
                self.d.set(&["restart"], "policy", policy);
                self.r.carried(f, l, &key);
            }
            ("Service", "RestartSec") => self.duration(f, l, &key, &["restart"], "delay", v),
            ("Service", "TimeoutStopSec") if matches!(v, "0" | "infinity") => {
                self.d.set(&["stop"], "timeout", "10m");
                self.r.approximated(f, l, &key, "no limit becomes 10 minutes: initkit's stop always ends");
            }
            ("Service", "TimeoutStopSec") => self.duration(f, l, &key, &["stop"], "timeout", v),
            ("Service", "TimeoutStartSec") => {
                self.r.approximated(
                    f,
                    l,
                    &key,
                    "initkit's start waits on readiness with its own limit (`ready.timeout`)",
                );
            }
            ("Service", "KillSignal") => {
                self.d.set(&["stop"], "signal", v.trim_start_matches("SIG"));
                self.r.carried(f, l, &key);
            }
            ("Service", "KillMode") => match v {
                "process" | "mixed" | "control-group" => {
                    self.d.set(&["stop"], "mode", if v == "control-group" { "group" } else { v });
                    self.r.carried(f, l, &key);
                }
                _ => self.r.dropped(f, l, &key, format!("`KillMode={v}` leaves processes behind; initkit will not")),
            },
            ("Service", "SuccessExitStatus" | "RestartPreventExitStatus") => {
                let codes: Vec<i64> =
                    v.split_whitespace().filter_map(|c| c.parse().ok()).filter(|c| (1..=255).contains(c)).collect();
                let signals = v.split_whitespace().filter(|c| c.parse::<i64>().is_err()).count();
                let (path, key2) =
                    if k == "SuccessExitStatus" { (["run"], "success_codes") } else { (["restart"], "prevent_codes") };
                self.d.set_numbers(&path, key2, &codes);
                if signals > 0 {
                    self.r.approximated(f, l, &key, "exit codes kept; signal names dropped");
                } else {
                    self.r.carried(f, l, &key);
                }
            }
            ("Service", "Nice") => self.number(f, l, &key, &["run"], "nice", v),
            ("Service", "OOMScoreAdjust") => self.number(f, l, &key, &["run"], "oom_score_adjust", v),
            ("Service", "IOSchedulingClass") => {
                let class = match v {
                    "realtime" | "1" => "realtime",
                    "idle" | "3" => "idle",
                    _ => "best-effort",
                };
                self.idle_io = class == "idle";
                self.d.set(&["run"], "io_class", class);
                self.r.carried(f, l, &key);
            }
            ("Service", "IOSchedulingPriority") => self.number(f, l, &key, &["run"], "io_priority", v),
            ("Service", "FileDescriptorStoreMax") => self.number(f, l, &key, &["systemd"], "fd_store_max", v),
            ("Service", "TasksMax") => self.number(f, l, &key, &["systemd"], "tasks_max", v),
            ("Service", "Slice") => match check_slice(v) {
                Ok(()) => self.line(f, l, &key, &["systemd"], "slice", v),
                Err(why) => self.r.dropped(f, l, &key, format!("`{v}` {why}")),
            },
            ("Service", "LimitNOFILE" | "LimitNPROC" | "LimitCORE" | "LimitMEMLOCK") => {
                let stem = k.trim_start_matches("Limit").to_lowercase();
                let value = v.split(':').next_back().unwrap_or(v);
                match value.parse::<i64>() {
                    Ok(n) => {
                        self.d.set(&["run", "limits"], &stem, n);
                        if v.contains(':') {
                            self.r.approximated(f, l, &key, "one value for the soft and hard limit (the hard one)");
                        } else {
                            self.r.carried(f, l, &key);
                        }
                    }
                    Err(_) => self.r.dropped(f, l, &key, format!("`{v}`: only a number of a limit is kept")),
                }
            }
            ("Service", "RuntimeDirectory" | "StateDirectory" | "LogsDirectory") => {
                let key2 = match k {
                    "RuntimeDirectory" => "runtime",
                    "StateDirectory" => "state",
                    _ => "logs",
                };
                let mut dirs = v.split_whitespace();
                if let Some(first) = dirs.next() {
                    self.d.set(&["directories"], key2, lit(first));
                }
                if dirs.next().is_some() {
                    self.r.approximated(f, l, &key, "the first directory kept; a recipe has one of each");
                } else {
                    self.r.carried(f, l, &key);
                }
            }
            ("Service", "RuntimeDirectoryMode" | "StateDirectoryMode" | "LogsDirectoryMode") => {
                match u32::from_str_radix(v, 8) {
                    Ok(mode) => {
                        self.d.set(&["directories"], "mode", lit(&format!("{mode:04o}")));
                        self.r.approximated(f, l, &key, "one mode for all the service's directories");
                    }
                    Err(_) => self.r.dropped(f, l, &key, format!("`{v}` is not an octal mode")),
                }
            }
            ("Service", "UMask") => {
                self.d.set(&["run"], "umask", lit(v));
                self.r.carried(f, l, &key);
            }
            ("Service", "RuntimeDirectoryPreserve") => {
                self.r.approximated(f, l, &key, "initkit keeps the runtime directory between restarts (and one that all instances of a template share, until reboot)");
            }
            ("Service", "CapabilityBoundingSet")
                if !v.starts_with('~') && v.split_whitespace().all(|c| c.starts_with("CAP_")) =>
            {
                for c in v.split_whitespace() {
                    self.d.push(&["systemd"], "capabilities", c);
                }
                self.r.carried(f, l, &key);
            }
            ("Service", "ReadWritePaths")
                if v.split_whitespace()
                    .all(|p| p.trim_start_matches(['-', '+']).starts_with('/') && !p.contains('%')) =>
            {
                for p in v.split_whitespace() {
                    self.d.push(&["systemd"], "write_paths", &lit(p.trim_start_matches(['-', '+'])));
                }
                self.r.carried(f, l, &key);
            }
            ("Service" | "Unit", h) if HARDENING.contains(&h) => {
                self.r.approximated(
                    f,
                    l,
                    &key,
                    "initkit renders its own hardening, scored against systemd.exposure_max",
                );
            }
            ("Service" | "Unit", n) if NEUTRAL.contains(&n) => self.r.carried(f, l, &key),
            ("Install", "WantedBy" | "RequiredBy") => {
                for t in v.split_whitespace() {
                    if t.ends_with(".target") {
                        self.d.push(&[], "wanted_by", t);
                    }
                }
                if k == "RequiredBy" {
                    self.r.approximated(f, l, &key, "a wanting target, not a requiring one (`wanted_by`)");
                } else {
                    self.r.carried(f, l, &key);
                }
            }
            ("Install", "Alias") => {
                for a in v.split_whitespace() {
                    let stem = a.strip_suffix(".service").unwrap_or(a);
                    if crate::recipe::is_recipe_name(stem) {
                        self.d.push(&[], "aliases", stem);
                    }
                }
                self.r.carried(f, l, &key);
            }
            ("Service", "BusName") => self.r.approximated(
                f,
                l,
                &key,
                "the D-Bus name is not awaited; the service counts as started when it runs",
            ),
            ("Service", "WatchdogSec") if matches!(v, "0" | "infinity" | "") => {
                self.r.carried(f, l, &key);
            }
            ("Service", "WatchdogSec") => self.duration(f, l, &key, &["systemd"], "watchdog", v),
            ("Service", "PermissionsStartOnly" | "NonBlocking") => self.defer(f, l, &key, k, v),
            // The default: the service reads nothing.
            ("Service", "StandardInput") if v == "null" => self.r.carried(f, l, &key),
            ("Service", "StandardInput") => self.r.dropped(
                f,
                l,
                &key,
                format!("`StandardInput={v}`: a recipe's service reads nothing on its standard input (`null`)"),
            ),
            ("Install", "Also") => {
                self.r.approximated(f, l, &key, "installing the service installs its timer or socket with it");
            }
            _ => self.r.dropped(f, l, &key, "initkit has no equivalent"),
        }
    }

    fn kind(&mut self, f: &str, l: usize, key: &str, v: &str) {
        let kind = match v {
            "simple" | "exec" => "foreground",
            "notify" | "notify-reload" => "notify",
            "forking" => "forking",
            "oneshot" => "oneshot",
            "dbus" | "idle" => {
                self.d.set(&["run"], "type", "foreground");
                return self.r.approximated(f, l, key, format!("`Type={v}` runs as a foreground daemon"));
            }
            _ => return self.r.dropped(f, l, key, format!("`{v}` is not a service type")),
        };
        self.forking = kind == "forking";
        self.oneshot = kind == "oneshot";
        self.d.set(&["run"], "type", kind);
        self.r.carried(f, l, key);
    }

    fn relation(&mut self, f: &str, l: usize, key: &str, k: &str, v: &str) {
        let list = match k {
            "After" => "after",
            "Wants" => "wants",
            "Requires" => "requires",
            "Before" => "before",
            "BindsTo" => "binds_to",
            "PartOf" => "part_of",
            "ReloadPropagatedFrom" => "reload_from",
            _ => "conflicts",
        };
        let mut approximated = Vec::new();
        // A template's relation to the plain unit of its name (postgresql@'s
        // to postgresql.service, the umbrella of all clusters).
        let mut own = false;
        for unit in v.split_whitespace() {
            if let Some((_, facility)) = FACILITIES.iter().find(|(u, _)| *u == unit)
                && matches!(k, "After" | "Wants" | "Requires")
            {
                self.d.push(&[], "needs", facility);
                continue;
            }
            if IMPLIED.contains(&unit) && matches!(k, "After" | "Wants" | "Requires") {
                if unit == "network.target" {
                    approximated.push(unit);
                }
                continue;
            }
            if unit.strip_suffix(".service").is_some_and(|u| u.trim_end_matches('@') == self.name) {
                own = own || self.template && !unit.contains('@');
                continue;
            }
            // The same instance of another template (`postgresql@%i.service`).
            let same = self
                .template
                .then(|| unit.strip_suffix(".service").unwrap_or(unit).strip_suffix("@%i"))
                .flatten()
                .map(|name| format!("{name}{}", crate::recipe::relations::SAME_INSTANCE));
            match Dep::parse(same.as_deref().unwrap_or(unit)) {
                Ok(_) => self.d.push(&["depends"], list, same.as_deref().unwrap_or(unit)),
                Err(_) => approximated.push(unit),
            }
        }
        if approximated.is_empty() && own {
            self.r.approximated(
                f,
                l,
                key,
                format!(
                    "{}.service is this recipe's own name: the recipe is the service of every instance, as one SysV script is",
                    self.name
                ),
            );
        } else if approximated.is_empty() {
            self.r.carried(f, l, key);
        } else if approximated == ["network.target"] {
            self.r.approximated(f, l, key, "network.target is implied: initkit orders every service after the network is configured only when it `needs` it");
        } else {
            approximated.retain(|u| *u != "network.target");
            self.r.dropped(f, l, key, format!("not unit names initkit takes: {}", approximated.join(" ")));
        }
    }

    /// An Exec line's words as templates: prefixes read, specifiers mapped,
    /// `$VAR` kept as a setting.
    fn command(&mut self, f: &str, l: usize, key: &str, v: &str) -> Option<Vec<String>> {
        let prefixes: String = v.chars().take_while(|c| matches!(c, '-' | '@' | '+' | '!' | ':' | '|')).collect();
        let line = &v[prefixes.len()..];
        if prefixes.contains('@') || prefixes.contains('|') {
            self.r.dropped(f, l, key, format!("the `{prefixes}` prefix has no recipe equivalent"));
            return None;
        }
        if prefixes.contains(['+', '!']) {
            self.r.approximated(f, l, key, "runs as the service's user, not with full privileges (`+`/`!`)");
        }
        let words = match words::split(line, Dialect::Systemd) {
            Ok(w) if !w.is_empty() => w,
            Ok(_) => {
                self.r.dropped(f, l, key, "an empty command");
                return None;
            }
            Err(e) => {
                self.r.dropped(f, l, key, e);
                return None;
            }
        };
        let mut out = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let t = words::template(w);
            let t = self.specifiers(f, l, key, &t)?;
            if i == 0 && !t.starts_with('/') {
                self.r.dropped(
                    f,
                    l,
                    key,
                    format!("`{t}` is not an absolute path; systemd looks it up, a recipe names it"),
                );
                return None;
            }
            out.push(t);
        }
        // A config test initkit rendered (`/bin/sh -c … initkit-check CMD…`) is CMD.
        let quiet = crate::render::systemd::QUIET_CHECK;
        if out.len() > quiet.len() && out.iter().zip(quiet).all(|(w, q)| *w == lit(q)) {
            out.drain(..quiet.len());
        }
        let names = words::vars(&words);
        if names.iter().any(|n| n == "MAINPID") {
            self.r.dropped(f, l, key, "a command that names the main PID (`$MAINPID`)");
            return None;
        }
        if let Some(bad) = names
            .iter()
            .find(|n| !crate::recipe::template::is_var_name(n) || crate::recipe::template::reserved_var(n).is_some())
        {
            self.r.dropped(f, l, key, format!("`${bad}` is an environment variable, not a setting a recipe can name"));
            return None;
        }
        for name in names {
            if !self.vars.contains(&name) {
                self.vars.push(name);
            }
        }
        Some(out)
    }

    /// systemd specifiers (`%i`, `%t`…) as recipe placeholders; `None` (and
    /// the setting dropped) for one a recipe cannot say.
    fn specifiers(&mut self, f: &str, l: usize, key: &str, text: &str) -> Option<String> {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('%') | None => out.push('%'),
                Some('i') if self.template => out.push_str("{instance}"),
                // The instance unescaped: initkit's names differ only in `-` as `/`.
                Some('I') if self.template => out.push_str("{instance_path}"),
                Some('n') => {
                    out.push_str(&format!("{{name}}{}.service", if self.template { "@{instance}" } else { "" }));
                }
                Some('N' | 'p' | 'P') => out.push_str("{name}"),
                Some('t') => out.push_str("/run"),
                Some('S') => out.push_str("/var/lib"),
                Some('L') => out.push_str("/var/log"),
                Some('C') => out.push_str("/var/cache"),
                Some('E') => out.push_str("/etc"),
                Some(other) => {
                    self.r.dropped(f, l, key, format!("the specifier `%{other}` has no recipe equivalent"));
                    return None;
                }
            }
        }
        Some(out)
    }

    fn environment(&mut self, f: &str, l: usize, key: &str, v: &str) {
        let Ok(assignments) = words::split(v, Dialect::Systemd) else {
            return self.r.dropped(f, l, key, "a quote is not closed");
        };
        for a in &assignments {
            let text: String = a
                .iter()
                .map(|p| match p {
                    words::Piece::Lit(s) => s.clone(),
                    words::Piece::Var { name, .. } => format!("${name}"),
                })
                .collect();
            match text.split_once('=') {
                Some((name, value))
                    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                {
                    match self.specifiers(f, l, key, &lit(value)) {
                        Some(value) => self.d.set(&["run", "environment"], name, value),
                        None => return,
                    }
                }
                _ => return self.r.dropped(f, l, key, format!("`{text}` is not NAME=value")),
            }
        }
        self.r.carried(f, l, key);
    }

    fn line(&mut self, f: &str, l: usize, key: &str, path: &[&str], k: &str, v: &str) {
        if v.contains('%') {
            return self.r.dropped(f, l, key, "a specifier in a name has no recipe equivalent");
        }
        self.d.set(path, k, v);
        self.r.carried(f, l, key);
    }

    fn number(&mut self, f: &str, l: usize, key: &str, path: &[&str], k: &str, v: &str) {
        match v.parse::<i64>() {
            Ok(n) => {
                self.d.set(path, k, n);
                self.r.carried(f, l, key);
            }
            Err(_) => self.r.dropped(f, l, key, format!("`{v}` is not a number")),
        }
    }

    fn boolean(&mut self, f: &str, l: usize, key: &str, path: &[&str], k: &str, v: &str) {
        if yes(v) {
            self.d.set(path, k, true);
        } else if matches!(v.to_ascii_lowercase().as_str(), "no" | "false" | "off" | "0") {
            self.d.set(path, k, false);
        } else {
            return self.r.dropped(f, l, key, format!("`{v}` is not a boolean"));
        }
        self.r.carried(f, l, key);
    }

    fn duration(&mut self, f: &str, l: usize, key: &str, path: &[&str], k: &str, v: &str) {
        match span_ms(v) {
            Some(ms) => {
                self.d.set(path, k, format_duration(ms));
                self.r.carried(f, l, key);
            }
            None => self.r.dropped(f, l, key, format!("`{v}` is not a finite time span")),
        }
    }
}

/// The signal of `kill -HUP $MAINPID` (or `-s HUP`, `-SIGHUP`), the
/// commonest reload line: a recipe's `reload.signal`.
fn kill_main(v: &str) -> Option<String> {
    let t: Vec<&str> = v.trim_start_matches('-').split_whitespace().collect();
    let (first, last) = (t.first()?, t.last()?);
    if !(first.ends_with("/kill") && matches!(*last, "$MAINPID" | "${MAINPID}")) {
        return None;
    }
    let signal = match &t[1..t.len() - 1] {
        [s] => s.strip_prefix('-')?,
        ["-s" | "--signal", s] => s,
        _ => return None,
    };
    let signal = signal.trim_start_matches("SIG");
    crate::recipe::signal::Signal::parse(signal).ok()?;
    Some(signal.to_owned())
}

fn yes(v: &str) -> bool {
    crate::recipe::YES.contains(&v.to_ascii_lowercase().as_str())
}

/// A systemd time span (`90`, `1min 30s`, `500ms`) in milliseconds.
pub fn span_ms(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return secs.checked_mul(1000);
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = rest[digits..].trim_start();
        let unit_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
        let factor = match &rest[..unit_len] {
            "ms" | "msec" => 1,
            "" | "s" | "sec" | "second" | "seconds" => 1000,
            "m" | "min" | "minute" | "minutes" => 60_000,
            "h" | "hr" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(factor)?)?;
        rest = &rest[unit_len..];
    }
    (total > 0 || text == "0").then_some(total)
}
