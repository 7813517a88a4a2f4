//! The systemd unit: a template (`name@.service`) for recipes with instances, a plain unit otherwise.

use std::fmt::Write as _;

use super::{
    Artifact, Backend, Options, Practice, Support, facts, seconds, systemd_escape,
    systemd_escape::{Piece, environment, exec_literal, exec_word, path},
};
use crate::recipe::{Facility, HookAction, ReadyCheck, Recipe, Reload, Segment, Template};

pub struct Systemd;

impl Backend for Systemd {
    fn name(&self) -> &'static str {
        "systemd"
    }

    fn per_instance(&self) -> bool {
        false
    }

    fn render(&self, recipe: &Recipe, options: &Options, _: Option<&str>) -> Vec<Artifact> {
        vec![unit(recipe, options)]
    }

    #[allow(clippy::match_same_arms)] // a table: one row per practice
    fn support(&self, practice: Practice) -> Support {
        match practice {
            Practice::ConfigTestRestart => Support::Initkit("front-end; systemd stops before ExecStartPre"),
            Practice::ConfigTestReload => Support::Native("first ExecReload="),
            Practice::OwnReload => Support::Native("ExecReload="),
            Practice::LsbCodes => Support::Initkit("front-end maps states"),
            Practice::ProcessIdentity => Support::Native("cgroups, MainPID"),
            Practice::RuntimeDirs => Support::Native("RuntimeDirectory= etc."),
            Practice::StopEscalation => Support::Native("KillMode=mixed, TimeoutStopSec=, SIGKILL"),
            Practice::PreStopHooks => Support::Native("ExecStop= lines under timeout(1)"),
            Practice::Instances => Support::Native("`name@.service`, `%i`"),
            Practice::Hardening => Support::Native("gated by `systemd-analyze security`"),
            Practice::Quoting => Support::Initkit("Exec quoting, `${var}` is one argument"),
            Practice::Registration => Support::Native("`multi-user.target.wants` links"),
            Practice::Logs => Support::Native("journal"),
            Practice::Readiness => Support::Initkit("ExecStartPost= probe; gives up when the main process dies"),
        }
    }
}

/// The units a facility is ordered after, and whether it is pulled in too.
fn facility_units(f: Facility) -> (&'static str, bool) {
    match f {
        Facility::Network => ("network-online.target", true),
        // A passive target: the resolver pulls it in; users are only ordered after it.
        Facility::Names => ("nss-lookup.target", false),
        Facility::Time => ("time-sync.target", true),
        Facility::RemoteFs => ("remote-fs.target", false),
    }
}

/// How each variable appears in the unit.
fn piece(recipe: &Recipe, name: &str) -> Piece {
    let dir = |base: &str, t: &Option<Template>| {
        let rel = t.as_ref().map(|t| path(t, &|v| piece(recipe, v))).unwrap_or_default();
        Piece::Raw(format!("{base}/{rel}"))
    };
    match name {
        "name" => Piece::Text(recipe.name.clone()),
        // %i is the instance exactly as in the unit name: instance names need no
        // escaping, and unlike %I it can never contain `/` (%I turns `-` into `/`).
        "instance" => Piece::Raw("%i".to_owned()),
        "runtime_dir" => dir("/run", &recipe.directories.runtime),
        "state_dir" => dir("/var/lib", &recipe.directories.state),
        "logs_dir" => dir("/var/log", &recipe.directories.logs),
        other => Piece::Raw(format!("${{{other}}}")),
    }
}

fn exec(recipe: &Recipe, argv: &[Template]) -> String {
    argv.iter().map(|a| exec_word(a, &|v| piece(recipe, v))).collect::<Vec<_>>().join(" ")
}

/// A config test for an Exec line: stdout (often a long report) dropped, stderr
/// (the errors) kept for the journal.
fn quiet(recipe: &Recipe, argv: &[Template]) -> String {
    format!("/bin/sh -c {} initkit-check {}", exec_literal("exec \"$@\" >/dev/null"), exec(recipe, argv))
}

/// Whether a template refers to a recipe variable (which only Exec lines can expand).
fn uses_recipe_var(t: &Template) -> bool {
    t.segments.iter().any(|s| matches!(s, Segment::Var(v) if !crate::recipe::BUILTIN_VARS.contains(&v.as_str())))
}

/// A prefix that runs a command as `user` when that is not the service's user.
fn as_user(recipe: &Recipe, user: Option<&str>) -> String {
    match user {
        Some(u) if u != recipe.run.user && u == "root" => "+".to_owned(),
        Some(u) if u != recipe.run.user => {
            format!("+/usr/bin/setpriv --reuid={u} --regid={u} --init-groups -- ")
        }
        _ => String::new(),
    }
}

fn unit(recipe: &Recipe, options: &Options) -> Artifact {
    let name = &recipe.name;
    let template = recipe.instances.is_some();
    let unit = if template { format!("{name}@.service") } else { format!("{name}.service") };
    let mut s = String::new();
    let _ = writeln!(s, "# Rendered by initkit from the recipe \"{name}\"; change the recipe and render again.");
    let summary = systemd_escape::text(&recipe.summary);
    let _ = writeln!(s, "[Unit]\nDescription={summary}{}", if template { " (%i)" } else { "" });
    for doc in &recipe.documentation {
        let _ = writeln!(s, "Documentation={}", systemd_escape::text(doc));
    }
    let after: Vec<&str> = recipe.needs.iter().map(|f| facility_units(*f).0).collect();
    let wants: Vec<&str> = recipe.needs.iter().map(|f| facility_units(*f)).filter(|u| u.1).map(|u| u.0).collect();
    if !after.is_empty() {
        let _ = writeln!(s, "After={}", after.join(" "));
    }
    if !wants.is_empty() {
        let _ = writeln!(s, "Wants={}", wants.join(" "));
    }
    s.push_str("\n[Service]\n");
    let _ = writeln!(s, "Type={}", if recipe.systemd.notify { "notify" } else { "exec" });
    let _ = writeln!(s, "User={}", recipe.run.user);
    if let Some(group) = &recipe.run.group {
        let _ = writeln!(s, "Group={group}");
    }
    for var in &recipe.vars {
        let _ = writeln!(s, "Environment={}", environment(&var.name, &var.default, &|v| piece(recipe, v)));
    }
    // Literal values are in the root-only environment file (they may be
    // secrets; a unit is world-readable). Environment= cannot refer to other
    // variables; those go through env(1) on ExecStart.
    let mut via_env = Vec::new();
    for (key, value) in &recipe.run.environment {
        if !facts::env_is_templated(value) {
            continue;
        }
        if uses_recipe_var(value) {
            via_env.push(
                exec_word(&Template::literal(&format!("{key}=")), &|_| Piece::Text(String::new()))
                    + &exec_word(value, &|v| piece(recipe, v)),
            );
        } else {
            let _ = writeln!(s, "Environment={}", environment(key, value, &|v| piece(recipe, v)));
        }
    }
    let settings = Systemd.settings(name, &options.layout, options.flavor);
    let _ = writeln!(s, "EnvironmentFile=-{}", settings.service);
    if template {
        let _ = writeln!(s, "EnvironmentFile=-{}%i", settings.instance_prefix);
    }
    if facts::has_env_file(recipe) {
        let _ = writeln!(s, "EnvironmentFile={}", facts::env_file(recipe, &options.layout));
    }
    if let Some(file) = &recipe.run.environment_file {
        let _ = writeln!(s, "EnvironmentFile=-{}", path(file, &|v| piece(recipe, v)));
    }
    if let Some(dir) = &recipe.run.working_directory {
        let _ = writeln!(s, "WorkingDirectory={}", path(dir, &|v| piece(recipe, v)));
    }
    if let Some(umask) = recipe.run.umask {
        let _ = writeln!(s, "UMask={umask:04o}");
    }
    for (key, value) in recipe.run.limits.entries() {
        let _ = writeln!(s, "Limit{}={value}", key.to_ascii_uppercase());
    }
    let mode = recipe.directories.mode.map(|m| format!("{m:04o}"));
    for (directive, dir) in [
        ("RuntimeDirectory", &recipe.directories.runtime),
        ("StateDirectory", &recipe.directories.state),
        ("LogsDirectory", &recipe.directories.logs),
    ] {
        if let Some(dir) = dir {
            let _ = writeln!(s, "{directive}={}", path(dir, &|v| piece(recipe, v)));
            if let Some(mode) = &mode {
                let _ = writeln!(s, "{directive}Mode={mode}");
            }
        }
    }
    if recipe.directories.runtime.is_some() {
        // Keep the runtime directory across restarts, so a socket path stays valid.
        s.push_str("RuntimeDirectoryPreserve=restart\n");
    }

    // A trial start has no line here: the start itself is the trial, and a
    // restart is tested by the front-end before systemd stops anything.
    if let Some((check, command)) = recipe.check.as_ref().and_then(|c| Some((c, c.command()?))) {
        let _ = writeln!(s, "ExecStartPre={}{}", as_user(recipe, check.user.as_deref()), quiet(recipe, command));
    }
    let env_prefix = if via_env.is_empty() { String::new() } else { format!("/usr/bin/env {} ", via_env.join(" ")) };
    let _ = writeln!(s, "ExecStart={env_prefix}{}", exec(recipe, &recipe.run.command));
    if let Some(ready) = &recipe.ready {
        // Active only once ready: later units and `systemctl start` wait for it. The
        // probe gives up as soon as the main process is gone, not at the end of its budget.
        let wait = match &ready.check {
            ReadyCheck::Tcp(addr) => format!(
                "/bin/sh -c {} initkit-ready $MAINPID {}",
                exec_literal(READY_TCP_SCRIPT),
                exec_word(addr, &|v| piece(recipe, v))
            ),
            ReadyCheck::Command(c) => format!(
                "/bin/sh -c {} initkit-ready $MAINPID {}",
                exec_literal("m=$1; shift; until \"$@\" >/dev/null 2>&1; do kill -0 \"$m\" || exit 1; sleep 0.1; done"),
                exec(recipe, c)
            ),
        };
        let _ = writeln!(s, "ExecStartPost=/usr/bin/timeout {} {wait}", seconds(ready.timeout_ms));
    }
    if let Some(reload) = &recipe.reload {
        if let Some((check, command)) = recipe.check.as_ref().and_then(|c| Some((c, c.command()?))) {
            // The test runs first: a failing config fails the reload and the daemon keeps its old one.
            let _ = writeln!(s, "ExecReload={}{}", as_user(recipe, check.user.as_deref()), quiet(recipe, command));
        }
        match reload {
            Reload::Signal(signal) => {
                let _ = writeln!(s, "ExecReload=/bin/kill -s {signal} $MAINPID");
            }
            Reload::Command(c) => {
                let _ = writeln!(s, "ExecReload={}", exec(recipe, c));
            }
        }
    }
    for hook in &recipe.stop.before {
        // `-`: a failed hook must not prevent the stop; timeout(1) keeps it within its budget.
        let prefix = format!("-{}", as_user(recipe, hook.user.as_deref()));
        let line = match &hook.action {
            HookAction::Run(c) => format!("/usr/bin/timeout -k 2 {} {}", seconds(hook.timeout_ms), exec(recipe, c)),
            HookAction::Poll { command, interval_ms } => format!(
                "/usr/bin/timeout -k 2 {} /bin/sh -c {} initkit-poll {} {}",
                seconds(hook.timeout_ms),
                exec_literal("i=$1; shift; until \"$@\"; do sleep \"$i\"; done"),
                seconds(*interval_ms),
                exec(recipe, command)
            ),
        };
        // The echo puts the hook in the journal, so a person can see it ran.
        let _ = writeln!(
            s,
            "ExecStop=/bin/echo {}\nExecStop={prefix}{line}",
            exec_literal(&format!("initkit: before stop: {}", hook.description))
        );
    }
    let stop_budget = facts::stop_budget_ms(recipe);
    let _ = writeln!(s, "KillSignal=SIG{}", recipe.stop.signal);
    // mixed: the stop signal goes to the main process, which shuts its workers down; KILL goes to all.
    s.push_str("KillMode=mixed\n");
    let _ = writeln!(s, "TimeoutStopSec={}", seconds(stop_budget));
    let start_budget =
        recipe.ready.as_ref().map_or(0, |r| r.timeout_ms) + recipe.check.as_ref().map_or(0, |c| c.timeout_ms) + 30_000;
    let _ = writeln!(s, "TimeoutStartSec={}", seconds(start_budget));
    s.push_str("Restart=on-failure\nRestartSec=1s\n\n");
    s.push_str(&hardening(recipe));
    let _ = writeln!(s, "\n[Install]\nWantedBy=multi-user.target");
    if let Some(default) = recipe.instances.as_ref().and_then(|i| i.default.as_ref()) {
        let _ = writeln!(s, "DefaultInstance={default}");
    }
    Artifact::new(format!("{}/systemd/system/{unit}", options.layout.etc()), 0o644, s)
}

/// The readiness probe: poll /proc for a listener on the port (no nc, no bash).
const READY_TCP_SCRIPT: &str = "m=$1; h=$(printf %04X \"${2##*:}\"); \
until grep -Eqs \"^ *[0-9]+: [0-9A-F]+:$h [0-9A-F]+:[0-9A-F]+ 0A \" /proc/self/net/tcp /proc/self/net/tcp6; \
do kill -0 \"$m\" || exit 1; sleep 0.05; done";

fn hardening(recipe: &Recipe) -> String {
    let sd = &recipe.systemd;
    let root = recipe.run.user == "root";
    let mut s = String::from("# Hardening: systemd-analyze security scores this unit; the recipe caps it at ");
    let _ = writeln!(s, "{:.1}.", sd.exposure_max);
    s.push_str(
        "NoNewPrivileges=yes\nProtectSystem=strict\nProtectHome=yes\nPrivateTmp=yes\nPrivateDevices=yes\n\
         ProtectKernelTunables=yes\nProtectKernelModules=yes\nProtectKernelLogs=yes\nProtectControlGroups=yes\n\
         ProtectClock=yes\nProtectHostname=yes\nProtectProc=invisible\nRestrictNamespaces=yes\n\
         RestrictRealtime=yes\nRestrictSUIDSGID=yes\nLockPersonality=yes\nRemoveIPC=yes\n\
         DevicePolicy=closed\nKeyringMode=private\nSystemCallArchitectures=native\n\
         SystemCallFilter=@system-service\nSystemCallErrorNumber=EPERM\n",
    );
    if !root {
        s.push_str("SystemCallFilter=~@privileged\n");
        // A private user namespace makes every capability useless on the host
        // (binding port 53 or 80 among them): only without any.
        if sd.capabilities.is_empty() {
            s.push_str("PrivateUsers=yes\n");
        }
    }
    if sd.memory_deny_write_execute {
        s.push_str("MemoryDenyWriteExecute=yes\n");
    }
    let _ = writeln!(
        s,
        "RestrictAddressFamilies={}",
        if sd.address_families.is_empty() { "none".to_owned() } else { sd.address_families.join(" ") }
    );
    let _ = writeln!(s, "CapabilityBoundingSet={}", sd.capabilities.join(" "));
    if !root && !sd.capabilities.is_empty() {
        let _ = writeln!(s, "AmbientCapabilities={}", sd.capabilities.join(" "));
    }
    for p in &sd.write_paths {
        // `-`: a path that does not exist yet is skipped rather than failing the start.
        let _ = writeln!(s, "ReadWritePaths=-{}", path(p, &|v| piece(recipe, v)));
    }
    s
}
