//! The systemd unit: a template (`name@.service`) for recipes with instances, a plain unit otherwise.

use std::fmt::Write as _;

use super::{
    Artifact, Backend, Feature, Options, Practice, Support, facts, seconds, systemd_escape,
    systemd_escape::{Piece, environment, exec_literal, exec_word, path},
};
use crate::recipe::{
    Dep, Facility, Hook, HookAction, Probe, ReadyCheck, Recipe, Relax, Reload, RestartPolicy, RunKind, Segment,
    StopMode, Template, YES,
};

pub struct Systemd;

impl Backend for Systemd {
    fn name(&self) -> &'static str {
        "systemd"
    }

    fn per_instance(&self) -> bool {
        false
    }

    fn per_user(&self) -> bool {
        true
    }

    fn render(&self, recipe: &Recipe, options: &Options, _: Option<&str>) -> Vec<Artifact> {
        let mut out = vec![unit(recipe, options)];
        out.extend(timer(recipe, options));
        out.extend(socket(recipe, options));
        out
    }

    #[allow(clippy::match_same_arms)] // a table: one row per field
    fn feature(&self, feature: Feature) -> Support {
        match feature {
            Feature::Ordering => Support::Native("After= / Before="),
            Feature::Requirements => Support::Native("Wants= / Requires= / BindsTo="),
            Feature::StopPropagation => Support::Native("BindsTo= / PartOf="),
            Feature::Conflicts => Support::Native("Conflicts="),
            Feature::SystemdUnits => Support::Native("as written"),
            Feature::Mounts => Support::Native("RequiresMountsFor="),
            Feature::Aliases => Support::Native("Alias="),
            Feature::WantedBy => Support::Native("WantedBy="),
            Feature::PathConditions => Support::Native("Condition…="),
            Feature::AnyConditions => Support::Native("triggering `|` Condition…="),
            Feature::Virtualization => Support::Native("ConditionVirtualization="),
            Feature::Capability => Support::Native("ConditionCapability="),
            Feature::KernelCommandLine => Support::Native("ConditionKernelCommandLine="),
            Feature::AcPower => Support::Native("ConditionACPower="),
            Feature::Security => Support::Native("ConditionSecurity="),
            Feature::SettingSwitch => Support::Native("ExecCondition="),
            Feature::Oneshot => Support::Native("Type=oneshot"),
            Feature::RemainAfterExit => Support::Native("RemainAfterExit=yes"),
            Feature::Forking => Support::Native("Type=forking, PIDFile="),
            Feature::Notify => Support::Native("Type=notify"),
            Feature::Schedule => Support::Native("a .timer"),
            Feature::StartSteps => Support::Native("ExecStartPre= / ExecStartPost="),
            Feature::StopSteps => Support::Native("ExecStopPost="),
            Feature::StopCommand => Support::Native("ExecStop="),
            Feature::SplitArguments => Support::Native("`$var`, split at blanks"),
            Feature::RestartAlways => Support::Native("Restart=always"),
            Feature::RestartPolicy => Support::Native("Restart="),
            Feature::RestartDelay => Support::Native("RestartSec="),
            Feature::RestartLimit => Support::Native("StartLimitBurst= / StartLimitIntervalSec="),
            Feature::RestartPrevent => Support::Native("RestartPreventExitStatus="),
            Feature::SuccessCodes => Support::Native("SuccessExitStatus="),
            Feature::StopMode => Support::Native("KillMode="),
            Feature::Nice => Support::Native("Nice="),
            Feature::OomScore => Support::Native("OOMScoreAdjust="),
            Feature::IoClass => Support::Native("IOSchedulingClass= / IOSchedulingPriority="),
            Feature::Socket => Support::Native("a .socket"),
            Feature::SocketAccept => Support::Native("Accept=yes, one service per connection"),
            Feature::Relax => Support::Native("the sandbox lines it names are left out"),
            Feature::TasksMax => Support::Native("TasksMax="),
            Feature::Slice => Support::Native("Slice="),
            Feature::Watchdog => Support::Native("WatchdogSec="),
            Feature::FdStore => Support::Native("FileDescriptorStoreMax="),
            Feature::ReloadFrom => Support::Native("ReloadPropagatedFrom="),
            // nginx ignores USR2 while its parent is the one that started it
            // (`ngx_parent`, read once at start: PID 1 for a unit's main
            // process, for good), and a unit whose main process exits is
            // over. Debian's forking nginx.service does it through PIDFile=,
            // re-read when the main process exits; the foreground unit cannot.
            Feature::HandoverChild => Support::Approx(
                "a plain restart: a unit's foreground main process cannot hand over to a child (nginx ignores USR2 while PID 1 is still its parent, and the unit ends with the old main process)",
            ),
            Feature::HandoverSame => Support::Initkit(
                "`initkit restart` signals the main process (`systemctl kill --kill-whom=main`) and waits for its new worker; `systemctl restart` restarts plainly",
            ),
        }
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
        Facility::LocalFs => ("local-fs.target", false),
        Facility::Syslog => ("syslog.target", false),
        Facility::Portmap => ("rpcbind.target", true),
    }
}

/// How each variable appears in the unit. A user manager's directories are
/// where its specifiers say (`%t`, `%S`, `%L`), which differ between systemd versions.
fn piece(recipe: &Recipe, user: bool, name: &str) -> Piece {
    let dir = |system: &str, specifier: &str, t: &Option<Template>| {
        let rel = t.as_ref().map(|t| path(t, &|v| piece(recipe, user, v))).unwrap_or_default();
        Piece::Raw(format!("{}/{rel}", if user { specifier } else { system }))
    };
    match name {
        "name" => Piece::Text(recipe.name.clone()),
        // %i is the instance exactly as in the unit name: instance names need no
        // escaping, and unlike %I it can never contain `/` (%I turns `-` into `/`).
        "instance" => Piece::Raw("%i".to_owned()),
        // %I: the instance unescaped, which for initkit's names is `-` as `/`.
        "instance_path" => Piece::Raw("%I".to_owned()),
        "runtime_dir" => dir("/run", "%t", &recipe.directories.runtime),
        "state_dir" => dir("/var/lib", "%S", &recipe.directories.state),
        "logs_dir" => dir("/var/log", "%L", &recipe.directories.logs),
        other => Piece::Raw(format!("${{{other}}}")),
    }
}

fn exec(recipe: &Recipe, user: bool, argv: &[Template]) -> String {
    argv.iter().map(|a| exec_word(a, &|v| piece(recipe, user, v))).collect::<Vec<_>>().join(" ")
}

/// The shell and its name that run a config test quietly: `/bin/sh -c
/// QUIET_CHECK initkit-check CMD…` (an import takes CMD back out).
/// What `ProtectHome=yes` hides from a service: a working directory in one
/// of these needs `systemd.allow = ["home"]`.
const PROTECTED_HOMES: [&str; 3] = ["/home", "/root", "/run/user"];

/// Whether `path` is in a tree `ProtectHome=yes` hides.
pub fn hidden_by_protect_home(path: &str) -> bool {
    PROTECTED_HOMES.iter().any(|h| path.strip_prefix(h).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

pub const QUIET_CHECK: [&str; 4] = ["/bin/sh", "-c", "exec \"$@\" >/dev/null", "initkit-check"];

/// A config test for an Exec line: stdout (often a long report) dropped, stderr
/// (the errors) kept for the journal.
fn quiet(recipe: &Recipe, user: bool, argv: &[Template]) -> String {
    let [sh, c, script, name] = QUIET_CHECK;
    format!("{sh} {c} {} {name} {}", exec_literal(script), exec(recipe, user, argv))
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

/// The unit's file name: a template for recipes with instances (and for
/// `Accept=yes` sockets, one instance per connection).
fn unit_file(recipe: &Recipe, suffix: &str) -> String {
    let accept = recipe.socket.as_ref().is_some_and(|s| s.accept);
    if recipe.instances.is_some() || (accept && suffix == "service") {
        format!("{}@.{suffix}", recipe.name)
    } else {
        format!("{}.{suffix}", recipe.name)
    }
}

/// One step before start, after start or after stop, as an Exec line: within
/// its budget, as its user, `-` when its failure does not matter.
fn step(recipe: &Recipe, user: bool, hook: &Hook, may_fail: bool) -> String {
    let ignore = if may_fail || hook.optional { "-" } else { "" };
    let line = match &hook.action {
        HookAction::Run(c) => format!("/usr/bin/timeout -k 2 {} {}", seconds(hook.timeout_ms), exec(recipe, user, c)),
        HookAction::Poll { command, interval_ms } => format!(
            "/usr/bin/timeout -k 2 {} /bin/sh -c {} initkit-poll {} {}",
            seconds(hook.timeout_ms),
            exec_literal("i=$1; shift; until \"$@\"; do sleep \"$i\"; done"),
            seconds(*interval_ms),
            exec(recipe, user, command)
        ),
    };
    format!("{ignore}{}{line}", as_user(recipe, hook.user.as_deref()))
}

fn unit_section(recipe: &Recipe, user: bool, s: &mut String) {
    let template = recipe.instances.is_some();
    let summary = systemd_escape::text(&recipe.summary);
    let _ = writeln!(s, "[Unit]\nDescription={summary}{}", if template { " (%i)" } else { "" });
    for doc in &recipe.documentation {
        let _ = writeln!(s, "Documentation={}", systemd_escape::text(doc));
    }
    let d = &recipe.depends;
    // A user manager cannot see the system's targets (network-online.target and the rest).
    let needs = if user { &[][..] } else { &recipe.needs[..] };
    let mut after: Vec<String> = needs.iter().map(|f| facility_units(*f).0.to_owned()).collect();
    let mut wants: Vec<String> =
        needs.iter().map(|f| facility_units(*f)).filter(|u| u.1).map(|u| u.0.to_owned()).collect();
    let units = |list: &[Dep]| list.iter().map(Dep::unit).collect::<Vec<_>>();
    for u in units(&d.after) {
        if !after.contains(&u) {
            after.push(u);
        }
    }
    for u in units(&d.wants) {
        if !wants.contains(&u) {
            wants.push(u);
        }
    }
    if recipe.socket.is_some() {
        // The socket is there first; the service takes it over.
        let u = format!("{}.socket", recipe.name);
        after.push(u.clone());
        if !recipe.socket.as_ref().is_some_and(|s| s.accept) {
            let _ = writeln!(s, "Requires={u}");
        }
    }
    for (key, list) in [
        ("After", after),
        ("Before", units(&d.before)),
        ("Wants", wants),
        ("Requires", units(&d.requires)),
        ("BindsTo", units(&d.binds_to)),
        ("PartOf", units(&d.part_of)),
        ("Conflicts", units(&d.conflicts)),
        ("ReloadPropagatedFrom", units(&d.reload_from)),
    ] {
        if !list.is_empty() {
            let _ = writeln!(s, "{key}={}", list.join(" "));
        }
    }
    if !d.mounts.is_empty() {
        let paths: Vec<String> = d.mounts.iter().map(|m| path(m, &|v| piece(recipe, user, v))).collect();
        let _ = writeln!(s, "RequiresMountsFor={}", paths.join(" "));
    }
    // `|`: of the triggering conditions, one holding is enough (systemd has one such group).
    let conditions = &recipe.conditions;
    for (trigger, c) in conditions.all.iter().map(|c| ("", c)).chain(conditions.any.iter().map(|c| ("|", c))) {
        // A path's `{instance}` is `%i`; every other value is literal text.
        let value = match &c.probe {
            Probe::Path(_, p) => {
                format!("{}{}", if c.negate { "!" } else { "" }, path(p, &|v| piece(recipe, user, v)))
            }
            Probe::Virtualization(_)
            | Probe::Capability(_)
            | Probe::KernelCommandLine(_)
            | Probe::AcPower
            | Probe::Security(_) => systemd_escape::text(&c.value()),
        };
        let _ = writeln!(s, "{}={trigger}{value}", c.probe.key().systemd());
    }
    if recipe.systemd.ignore_on_isolate {
        s.push_str("IgnoreOnIsolate=yes\n");
    }
    if let (Some(burst), Some(interval)) = (recipe.restart.burst, recipe.restart.interval_ms) {
        let _ = writeln!(s, "StartLimitBurst={burst}\nStartLimitIntervalSec={}", seconds(interval));
    }
}

fn unit(recipe: &Recipe, options: &Options) -> Artifact {
    let name = &recipe.name;
    // A user manager runs everything as its user, and has no system targets.
    let user = options.layout.user.is_some();
    let template = recipe.instances.is_some();
    let mut s = String::new();
    let _ = writeln!(s, "# Rendered by initkit from the recipe \"{name}\"; change the recipe and render again.");
    unit_section(recipe, user, &mut s);
    s.push_str("\n[Service]\n");
    match &recipe.run.kind {
        RunKind::Foreground => s.push_str("Type=exec\n"),
        RunKind::Notify => s.push_str("Type=notify\n"),
        RunKind::Forking { pidfile } => {
            let _ = writeln!(s, "Type=forking\nPIDFile={}", path(pidfile, &|v| piece(recipe, user, v)));
        }
        RunKind::Oneshot { remain } => {
            s.push_str("Type=oneshot\n");
            if *remain {
                s.push_str("RemainAfterExit=yes\n");
            }
        }
    }
    if recipe.socket.as_ref().is_some_and(|k| k.accept) {
        // inetd style: the connection is the service's stdin and stdout.
        s.push_str("StandardInput=socket\nStandardError=journal\n");
    }
    if !user {
        let _ = writeln!(s, "User={}", recipe.run.user);
        if let Some(group) = &recipe.run.group {
            let _ = writeln!(s, "Group={group}");
        }
    }
    for var in &recipe.vars {
        let _ = writeln!(s, "Environment={}", environment(&var.name, &var.default, &|v| piece(recipe, user, v)));
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
                    + &exec_word(value, &|v| piece(recipe, user, v)),
            );
        } else {
            let _ = writeln!(s, "Environment={}", environment(key, value, &|v| piece(recipe, user, v)));
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
        let _ = writeln!(s, "EnvironmentFile=-{}", path(file, &|v| piece(recipe, user, v)));
    }
    if let Some(dir) = &recipe.run.working_directory {
        let _ = writeln!(s, "WorkingDirectory={}", path(dir, &|v| piece(recipe, user, v)));
    }
    if let Some(umask) = recipe.run.umask {
        let _ = writeln!(s, "UMask={umask:04o}");
    }
    for (key, value) in recipe.run.limits.entries() {
        let _ = writeln!(s, "Limit{}={value}", key.to_ascii_uppercase());
    }
    if let Some(nice) = recipe.run.nice {
        let _ = writeln!(s, "Nice={nice}");
    }
    if let Some(oom) = recipe.run.oom_score_adjust {
        let _ = writeln!(s, "OOMScoreAdjust={oom}");
    }
    if let Some((class, priority)) = recipe.run.io {
        let _ = writeln!(s, "IOSchedulingClass={}", class.name());
        if let Some(p) = priority {
            let _ = writeln!(s, "IOSchedulingPriority={p}");
        }
    }
    let mode = recipe.directories.mode.map(|m| format!("{m:04o}"));
    for (directive, dir) in [
        ("RuntimeDirectory", &recipe.directories.runtime),
        ("StateDirectory", &recipe.directories.state),
        ("LogsDirectory", &recipe.directories.logs),
    ] {
        if let Some(dir) = dir {
            let _ = writeln!(s, "{directive}={}", path(dir, &|v| piece(recipe, user, v)));
            if let Some(mode) = &mode {
                let _ = writeln!(s, "{directive}Mode={mode}");
            }
        }
    }
    if let Some(runtime) = &recipe.directories.runtime {
        if template && !runtime.vars().any(|v| v == "instance") {
            // One directory for every instance: systemd removes a unit's
            // runtime directory when it stops, with the sockets of the
            // instances still running in it. It stays until reboot.
            s.push_str("# Every instance's runtime directory: one instance's stop must not remove it.\n");
            s.push_str("RuntimeDirectoryPreserve=yes\n");
        } else {
            // Keep the runtime directory across restarts, so a socket path stays valid.
            s.push_str("RuntimeDirectoryPreserve=restart\n");
        }
    }

    if let Some(var) = &recipe.conditions.setting {
        // A switch in the settings (ENABLED=yes): off, the start is skipped, not failed.
        let script = format!(
            "case $1 in {}) exit 0 ;; esac; echo \"initkit: {var} is not one of {}: not started\"; exit 1",
            facts::yes_pattern(),
            YES.join(", ")
        );
        let _ = writeln!(s, "ExecCondition=/bin/sh -c {} initkit-enabled ${{{var}}}", exec_literal(&script));
    }
    for hook in &recipe.start.before {
        let _ = writeln!(s, "ExecStartPre={}", step(recipe, user, hook, false));
    }
    // A trial start has no line here: the start itself is the trial, and a
    // restart is tested by the front-end before systemd stops anything.
    if let Some((check, command)) = recipe.check.as_ref().and_then(|c| Some((c, c.command()?))) {
        let _ = writeln!(s, "ExecStartPre={}{}", as_user(recipe, check.user.as_deref()), quiet(recipe, user, command));
    }
    let env_prefix = if via_env.is_empty() { String::new() } else { format!("/usr/bin/env {} ", via_env.join(" ")) };
    let _ = writeln!(s, "ExecStart={env_prefix}{}", exec(recipe, user, &recipe.run.command));
    if let Some(ready) = &recipe.ready {
        // Active only once ready: later units and `systemctl start` wait for it. The
        // probe gives up as soon as the main process is gone, not at the end of its budget.
        // Then, with a settle time, it must still run that much later.
        let settle = match ready.settle_ms {
            0 => String::new(),
            ms => format!("; sleep {}; kill -0 \"$m\"", seconds(ms)),
        };
        let wait = match &ready.check {
            ReadyCheck::Tcp(addr) => format!(
                "/bin/sh -c {} initkit-ready $MAINPID {}",
                exec_literal(&format!("{READY_TCP_SCRIPT}{settle}")),
                exec_word(addr, &|v| piece(recipe, user, v))
            ),
            ReadyCheck::Command(c) => format!(
                "/bin/sh -c {} initkit-ready $MAINPID {}",
                exec_literal(&format!(
                    "m=$1; shift; until \"$@\" >/dev/null 2>&1; do kill -0 \"$m\" || exit 1; sleep 0.1; done{settle}"
                )),
                exec(recipe, user, c)
            ),
        };
        let _ = writeln!(s, "ExecStartPost=/usr/bin/timeout {} {wait}", seconds(ready.timeout_ms + ready.settle_ms));
    }
    for hook in &recipe.start.after {
        let _ = writeln!(s, "ExecStartPost={}", step(recipe, user, hook, false));
    }
    if let Some(reload) = &recipe.reload {
        if let Some((check, command)) = recipe.check.as_ref().and_then(|c| Some((c, c.command()?))) {
            // The test runs first: a failing config fails the reload and the daemon keeps its old one.
            let _ =
                writeln!(s, "ExecReload={}{}", as_user(recipe, check.user.as_deref()), quiet(recipe, user, command));
        }
        match reload {
            Reload::Signal(signal) => {
                let _ = writeln!(s, "ExecReload=/bin/kill -s {signal} $MAINPID");
            }
            Reload::Command(c) => {
                let _ = writeln!(s, "ExecReload={}", exec(recipe, user, c));
            }
        }
    }
    for hook in &recipe.stop.before {
        // `-`: a failed hook must not prevent the stop; timeout(1) keeps it within its budget.
        // The echo puts the hook in the journal, so a person can see it ran.
        let _ = writeln!(
            s,
            "ExecStop=/bin/echo {}\nExecStop={}",
            exec_literal(&format!("initkit: before stop: {}", hook.description)),
            step(recipe, user, hook, true)
        );
    }
    if let Some(command) = &recipe.stop.command {
        // The daemon's own shutdown tool; what is left then gets the stop signal.
        let _ = writeln!(s, "ExecStop=-{}", exec(recipe, user, command));
    }
    for hook in &recipe.stop.after {
        let _ = writeln!(s, "ExecStopPost={}", step(recipe, user, hook, true));
    }
    let stop_budget = facts::stop_budget_ms(recipe);
    let _ = writeln!(s, "KillSignal=SIG{}", recipe.stop.signal);
    let _ = writeln!(
        s,
        "{}",
        match recipe.stop.mode {
            // The stop signal goes to the main process, which shuts its workers down; KILL goes to all.
            StopMode::Mixed => "KillMode=mixed",
            StopMode::Group => "KillMode=control-group",
            // What it started (sessions, jobs) outlives it: cron, sshd.
            StopMode::Process => "KillMode=process",
        }
    );
    let _ = writeln!(s, "TimeoutStopSec={}", seconds(stop_budget));
    if recipe.run.kind.is_oneshot() {
        // A task takes as long as it takes.
        s.push_str("TimeoutStartSec=infinity\n");
    } else {
        let start_budget = recipe.ready.as_ref().map_or(0, |r| r.timeout_ms)
            + recipe.check.as_ref().map_or(0, |c| c.timeout_ms)
            + recipe.start.before.iter().chain(&recipe.start.after).map(|h| h.timeout_ms).sum::<u64>()
            + 30_000;
        let _ = writeln!(s, "TimeoutStartSec={}", seconds(start_budget));
    }
    if !recipe.run.success_codes.is_empty() {
        let codes: Vec<String> = recipe.run.success_codes.iter().map(u8::to_string).collect();
        let _ = writeln!(s, "SuccessExitStatus={}", codes.join(" "));
    }
    let _ = writeln!(s, "Restart={}", recipe.restart.policy.name());
    if recipe.restart.policy != RestartPolicy::No {
        let _ = writeln!(s, "RestartSec={}", seconds_unit(recipe.restart.delay_ms));
    }
    if !recipe.restart.prevent_codes.is_empty() {
        let codes: Vec<String> = recipe.restart.prevent_codes.iter().map(u8::to_string).collect();
        let _ = writeln!(s, "RestartPreventExitStatus={}", codes.join(" "));
    }
    if let Some(max) = recipe.systemd.fd_store_max.filter(|n| *n > 0) {
        let _ = writeln!(s, "FileDescriptorStoreMax={max}");
    }
    if let Some(max) = recipe.systemd.tasks_max {
        let _ = writeln!(s, "TasksMax={max}");
    }
    // check_slice let only unit-name characters through: no specifier, no escape.
    if let Some(slice) = &recipe.systemd.slice {
        let _ = writeln!(s, "Slice={slice}");
    }
    if let Some(ms) = recipe.systemd.watchdog_ms {
        let _ = writeln!(s, "WatchdogSec={}", seconds_unit(ms));
        // Type=notify opens the notify socket to the main process already.
        if recipe.run.kind != RunKind::Notify {
            let _ = writeln!(s, "NotifyAccess=main");
        }
    }
    s.push('\n');
    s.push_str(&if user { user_hardening(recipe) } else { hardening(recipe) });
    // A task on a schedule and a socket-activated service are started by
    // their timer and socket, which are the ones enabled.
    if recipe.schedule.is_none() && recipe.socket.is_none() {
        let wanted_by = if user { USER_WANTED_BY.to_owned() } else { recipe.wanted_by.join(" ") };
        let _ = writeln!(s, "\n[Install]\nWantedBy={wanted_by}");
        for alias in &recipe.aliases {
            let _ = writeln!(s, "Alias={alias}{}.service", if template { "@" } else { "" });
        }
        if let Some(default) = recipe.instances.as_ref().and_then(|i| i.default.as_ref()) {
            let _ = writeln!(s, "DefaultInstance={default}");
        }
    }
    Artifact::new(format!("{}/{}", options.layout.systemd_units(), unit_file(recipe, "service")), 0o644, s)
}

/// `RestartSec=` as systemd writes a time span: whole seconds as `1s`.
fn seconds_unit(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}

/// The `.timer` of a task on a schedule.
fn timer(recipe: &Recipe, options: &Options) -> Option<Artifact> {
    let schedule = recipe.schedule.as_ref()?;
    let mut s = format!(
        "# Rendered by initkit from the recipe \"{}\"; change the recipe and render again.\n\
         [Unit]\nDescription={} (schedule)\n\n[Timer]\n",
        recipe.name,
        systemd_escape::text(&recipe.summary)
    );
    if let Some(calendar) = &schedule.calendar {
        let _ = writeln!(s, "OnCalendar={}", calendar.replace('%', "%%"));
    }
    if let Some(every) = schedule.every_ms {
        let _ = writeln!(s, "OnBootSec={0}\nOnUnitActiveSec={0}", seconds_unit(every));
        // systemd fires a timer within a minute of its time unless told
        // otherwise: a short interval gets a tenth of itself.
        let accuracy = (every / 10).max(1);
        if accuracy < 60_000 {
            let _ = writeln!(s, "AccuracySec={}", seconds_unit(accuracy));
        }
    }
    if schedule.persistent {
        s.push_str("Persistent=yes\n");
    }
    if let Some(delay) = schedule.random_delay_ms {
        let _ = writeln!(s, "RandomizedDelaySec={}", seconds_unit(delay));
        if schedule.fixed_random_delay {
            s.push_str("FixedRandomDelay=yes\n");
        }
    }
    s.push_str("\n[Install]\nWantedBy=timers.target\n");
    Some(Artifact::new(format!("{}/{}", options.layout.systemd_units(), unit_file(recipe, "timer")), 0o644, s))
}

/// The `.socket` of a socket-activated service.
fn socket(recipe: &Recipe, options: &Options) -> Option<Artifact> {
    let socket = recipe.socket.as_ref()?;
    let mut s = format!(
        "# Rendered by initkit from the recipe \"{}\"; change the recipe and render again.\n\
         [Unit]\nDescription={} (socket)\n\n[Socket]\n",
        recipe.name,
        systemd_escape::text(&recipe.summary)
    );
    for l in &socket.stream {
        let _ = writeln!(s, "ListenStream={}", l.replace('%', "%%"));
    }
    for l in &socket.datagram {
        let _ = writeln!(s, "ListenDatagram={}", l.replace('%', "%%"));
    }
    if socket.accept {
        s.push_str("Accept=yes\n");
    }
    // Validated: octal digits, account names, one of three words.
    for (key, value) in [
        ("SocketMode", &socket.mode),
        ("SocketUser", &socket.user),
        ("SocketGroup", &socket.group),
        ("BindIPv6Only", &socket.ipv6_only),
    ] {
        if let Some(v) = value {
            let _ = writeln!(s, "{key}={v}");
        }
    }
    s.push_str("\n[Install]\nWantedBy=sockets.target\n");
    Some(Artifact::new(format!("{}/{}", options.layout.systemd_units(), unit_file(recipe, "socket")), 0o644, s))
}

/// The target a user's service is started with: the user manager's own
/// (`multi-user.target` and the rest are the system's).
pub const USER_WANTED_BY: &str = "default.target";

/// The sandbox of a user's service: only what an unprivileged user manager
/// applies by itself, through `no_new_privs` and seccomp. Everything that
/// needs a mount namespace (ProtectSystem=, ProtectHome=, PrivateTmp=,
/// PrivateDevices=, ProtectKernel…=, ProtectProc=, PrivateUsers=) is left
/// out: a user manager can set those up only in an unprivileged user
/// namespace, which containers and hardened kernels often refuse (and then
/// the service fails to start), and ProtectHome= would hide the user's own
/// files. Capabilities are refused before rendering (see `user::refusals`).
fn user_hardening(recipe: &Recipe) -> String {
    let user = true;
    let sd = &recipe.systemd;
    let mut s = String::from(
        "# Hardening: a user's service gets only what an unprivileged user manager applies\n\
         # without namespaces (no_new_privs and system call filters).\n",
    );
    let lines = [
        ("NoNewPrivileges=yes", true),
        ("RestrictNamespaces=yes", !sd.allows(Relax::Namespaces)),
        ("RestrictRealtime=yes", !sd.allows(Relax::Realtime)),
        ("RestrictSUIDSGID=yes", !sd.allows(Relax::Suid)),
        ("LockPersonality=yes", true),
        ("SystemCallArchitectures=native", true),
        ("SystemCallFilter=@system-service", true),
        ("SystemCallFilter=~@privileged", !sd.allows(Relax::Privileged)),
        ("SystemCallErrorNumber=EPERM", true),
        ("MemoryDenyWriteExecute=yes", sd.memory_deny_write_execute),
    ];
    for (line, on) in lines {
        if on && !sd.allows(Relax::Sessions) {
            s.push_str(line);
            s.push('\n');
        }
    }
    if !sd.allows(Relax::Sessions) {
        let _ = writeln!(
            s,
            "RestrictAddressFamilies={}",
            if sd.address_families.is_empty() { "none".to_owned() } else { sd.address_families.join(" ") }
        );
    }
    for p in &sd.write_paths {
        // Without ProtectSystem= nothing is read-only; the line says what the service writes.
        let _ = writeln!(s, "ReadWritePaths=-{}", path(p, &|v| piece(recipe, user, v)));
    }
    s
}

/// The readiness probe: poll /proc for a listener on the port (no nc, no bash).
const READY_TCP_SCRIPT: &str = "m=$1; h=$(printf %04X \"${2##*:}\"); \
until grep -Eqs \"^ *[0-9]+: [0-9A-F]+:$h [0-9A-F]+:[0-9A-F]+ 0A \" /proc/self/net/tcp /proc/self/net/tcp6; \
do kill -0 \"$m\" || exit 1; sleep 0.05; done";

fn hardening(recipe: &Recipe) -> String {
    let user = false;
    let sd = &recipe.systemd;
    let root = recipe.run.user == "root";
    let allows = |r: Relax| sd.allows(r);
    let mut s = String::from("# Hardening: systemd-analyze security scores this unit; the recipe caps it at ");
    let _ = writeln!(s, "{:.1}.", sd.exposure_max);
    if allows(Relax::Sessions) {
        // What the service starts is a user's session: any sandbox line would reach it.
        s.push_str("# None: the service starts login sessions (systemd.allow = [\"sessions\"]).\n");
        return s;
    }
    let lifted: Vec<&str> = sd.allow.iter().map(|r| r.name()).collect();
    if !lifted.is_empty() {
        let _ = writeln!(s, "# Lifted for this service (systemd.allow): {}.", lifted.join(", "));
    }
    let devices = allows(Relax::Devices);
    let lines: [(&str, bool); 24] = [
        ("NoNewPrivileges=yes", true),
        ("ProtectSystem=strict", !allows(Relax::Writes)),
        ("ProtectSystem=full", allows(Relax::Writes)),
        ("ProtectHome=yes", !allows(Relax::Home)),
        ("PrivateTmp=yes", !allows(Relax::Tmp)),
        ("PrivateDevices=yes", !devices && !allows(Relax::KernelLogs)),
        ("ProtectKernelTunables=yes", !allows(Relax::KernelTunables)),
        ("ProtectKernelModules=yes", true),
        ("ProtectKernelLogs=yes", !allows(Relax::KernelLogs)),
        ("ProtectControlGroups=yes", true),
        // The unit's mounts stay its own (the host's still reach it); costs nothing.
        ("PrivateMounts=yes", true),
        ("ProtectClock=yes", !allows(Relax::Clock)),
        ("ProtectHostname=yes", true),
        ("ProtectProc=invisible", !allows(Relax::Proc)),
        ("RestrictNamespaces=yes", !allows(Relax::Namespaces)),
        ("RestrictRealtime=yes", !allows(Relax::Realtime)),
        ("RestrictSUIDSGID=yes", !allows(Relax::Suid)),
        ("LockPersonality=yes", true),
        ("RemoveIPC=yes", true),
        ("DevicePolicy=closed", !devices),
        ("KeyringMode=private", true),
        ("SystemCallArchitectures=native", true),
        ("SystemCallFilter=@system-service", true),
        ("SystemCallErrorNumber=EPERM", true),
    ];
    for (line, on) in lines {
        if on {
            s.push_str(line);
            s.push('\n');
        }
    }
    if allows(Relax::KernelLogs) && !devices {
        s.push_str("DeviceAllow=/dev/kmsg rw\n");
    }
    if !root {
        if !allows(Relax::Privileged) {
            s.push_str("SystemCallFilter=~@privileged\n");
        }
        // A private user namespace makes every capability useless on the host
        // (binding port 53 or 80 among them): only without any.
        if sd.capabilities.is_empty() && !allows(Relax::Clock) && !allows(Relax::KernelLogs) {
            s.push_str("PrivateUsers=yes\n");
        }
    }
    if allows(Relax::Clock) {
        s.push_str("SystemCallFilter=@clock\n");
    }
    if sd.memory_deny_write_execute {
        s.push_str("MemoryDenyWriteExecute=yes\n");
    }
    let _ = writeln!(
        s,
        "RestrictAddressFamilies={}",
        if sd.address_families.is_empty() { "none".to_owned() } else { sd.address_families.join(" ") }
    );
    let mut caps = sd.capabilities.clone();
    for (relax, cap) in [(Relax::Clock, "CAP_SYS_TIME"), (Relax::KernelLogs, "CAP_SYSLOG")] {
        if allows(relax) && !caps.iter().any(|c| c == cap) {
            caps.push(cap.to_owned());
        }
    }
    let _ = writeln!(s, "CapabilityBoundingSet={}", caps.join(" "));
    if !root && !caps.is_empty() {
        let _ = writeln!(s, "AmbientCapabilities={}", caps.join(" "));
    }
    for p in &sd.write_paths {
        // `-`: a path that does not exist yet is skipped rather than failing the start.
        let _ = writeln!(s, "ReadWritePaths=-{}", path(p, &|v| piece(recipe, user, v)));
    }
    s
}
