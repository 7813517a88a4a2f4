//! The recipe fields beyond the practices, as rows of the second matrix in
//! docs/targets.md: what a recipe uses, and what each init system makes of
//! it. A field a backend cannot render is refused before anything is
//! rendered, with the backend's reason; one it approximates is rendered with
//! a note that says how.

use super::{Support, Target};
use crate::recipe::{Dep, HandoverMain, Probe, Recipe, RestartPolicy, RunKind, StopMode};

/// A recipe field (or a value of one) that not every init system has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Ordering,
    Requirements,
    StopPropagation,
    Conflicts,
    ReloadFrom,
    SystemdUnits,
    Mounts,
    Aliases,
    WantedBy,
    PathConditions,
    AnyConditions,
    Virtualization,
    Capability,
    KernelCommandLine,
    AcPower,
    Security,
    SettingSwitch,
    Oneshot,
    RemainAfterExit,
    Forking,
    Notify,
    Schedule,
    StartSteps,
    StopSteps,
    StopCommand,
    SplitArguments,
    RestartAlways,
    RestartPolicy,
    RestartDelay,
    RestartLimit,
    RestartPrevent,
    SuccessCodes,
    StopMode,
    Nice,
    OomScore,
    IoClass,
    Socket,
    SocketAccept,
    Relax,
    TasksMax,
    Slice,
    Watchdog,
    FdStore,
    HandoverChild,
    HandoverSame,
}

impl Feature {
    pub const ALL: [Feature; 45] = [
        Feature::Ordering,
        Feature::Requirements,
        Feature::StopPropagation,
        Feature::Conflicts,
        Feature::ReloadFrom,
        Feature::SystemdUnits,
        Feature::Mounts,
        Feature::Aliases,
        Feature::WantedBy,
        Feature::PathConditions,
        Feature::AnyConditions,
        Feature::Virtualization,
        Feature::Capability,
        Feature::KernelCommandLine,
        Feature::AcPower,
        Feature::Security,
        Feature::SettingSwitch,
        Feature::Oneshot,
        Feature::RemainAfterExit,
        Feature::Forking,
        Feature::Notify,
        Feature::Schedule,
        Feature::StartSteps,
        Feature::StopSteps,
        Feature::StopCommand,
        Feature::SplitArguments,
        Feature::RestartAlways,
        Feature::RestartPolicy,
        Feature::RestartDelay,
        Feature::RestartLimit,
        Feature::RestartPrevent,
        Feature::SuccessCodes,
        Feature::StopMode,
        Feature::Nice,
        Feature::OomScore,
        Feature::IoClass,
        Feature::Socket,
        Feature::SocketAccept,
        Feature::Relax,
        Feature::TasksMax,
        Feature::Slice,
        Feature::Watchdog,
        Feature::FdStore,
        Feature::HandoverChild,
        Feature::HandoverSame,
    ];

    /// The recipe field, as docs/recipes.md names it.
    pub fn field(self) -> &'static str {
        match self {
            Feature::Ordering => "depends.after / before",
            Feature::Requirements => "depends.wants / requires / binds_to",
            Feature::StopPropagation => "depends.binds_to / part_of (stopped with them)",
            Feature::Conflicts => "depends.conflicts",
            Feature::ReloadFrom => "depends.reload_from",
            Feature::SystemdUnits => {
                "depends on a systemd unit that is no recipe (a target, a socket, `NetworkManager.service`)"
            }
            Feature::Mounts => "depends.mounts",
            Feature::Aliases => "aliases",
            Feature::WantedBy => "wanted_by (another target)",
            Feature::PathConditions => "conditions.path_exists and the like",
            Feature::AnyConditions => "[conditions.any] (one of them suffices)",
            Feature::Virtualization => "conditions.virtualization",
            Feature::Capability => "conditions.capability",
            Feature::KernelCommandLine => "conditions.kernel_command_line",
            Feature::AcPower => "conditions.ac_power",
            Feature::Security => "conditions.security",
            Feature::SettingSwitch => "conditions.setting",
            Feature::Oneshot => "run.type = \"oneshot\"",
            Feature::RemainAfterExit => "run.remain",
            Feature::Forking => "run.type = \"forking\"",
            Feature::Notify => "run.type = \"notify\"",
            Feature::Schedule => "[schedule]",
            Feature::StartSteps => "start.before / start.after",
            Feature::StopSteps => "stop.after",
            Feature::StopCommand => "stop.command",
            Feature::SplitArguments => "`{var...}` arguments",
            Feature::RestartAlways => "restart.policy = \"always\"",
            Feature::RestartPolicy => "restart.policy (on-abnormal, on-abort, no)",
            Feature::RestartDelay => "restart.delay",
            Feature::RestartLimit => "restart.burst / interval",
            Feature::RestartPrevent => "restart.prevent_codes",
            Feature::SuccessCodes => "run.success_codes",
            Feature::StopMode => "stop.mode",
            Feature::Nice => "run.nice",
            Feature::OomScore => "run.oom_score_adjust",
            Feature::IoClass => "run.io_class / io_priority",
            Feature::Socket => "[socket]",
            Feature::SocketAccept => "socket.accept",
            Feature::Relax => "systemd.allow",
            Feature::TasksMax => "systemd.tasks_max",
            Feature::Slice => "systemd.slice",
            Feature::Watchdog => "systemd.watchdog",
            Feature::FdStore => "systemd.fd_store_max",
            Feature::HandoverChild => "restart.handover, main = \"child\" (a new main process)",
            Feature::HandoverSame => "restart.handover, main = \"same\" (the main process runs itself again)",
        }
    }
}

/// The units a systemd-only dependency may name that other init systems
/// know as a facility (LSB's `$…` names), so they are not lost there.
pub fn facility_of_unit(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "network.target" | "network-online.target" => "$network",
        "nss-lookup.target" => "$named",
        "time-sync.target" | "time-set.target" => "$time",
        "remote-fs.target" => "$remote_fs",
        "local-fs.target" => "$local_fs",
        "rpcbind.target" => "$portmap",
        "syslog.target" | "syslog.socket" => "$syslog",
        _ => return None,
    })
}

/// Units that are the boot's own structure: ordering against them is what
/// every init system does anyway.
fn boot_structure(unit: &str) -> bool {
    matches!(
        unit,
        "basic.target"
            | "sysinit.target"
            | "multi-user.target"
            | "graphical.target"
            | "default.target"
            | "shutdown.target"
            | "sockets.target"
            | "timers.target"
            | "paths.target"
            | "system.slice"
    )
}

/// Every feature the recipe uses.
pub fn used(recipe: &Recipe) -> Vec<Feature> {
    let d = &recipe.depends;
    let mut out = Vec::new();
    let mut add = |on: bool, f: Feature| {
        if on && !out.contains(&f) {
            out.push(f);
        }
    };
    let services = |list: &[Dep]| list.iter().any(|x| matches!(x, Dep::Service(_) | Dep::Instance(_)));
    add(services(&d.after) || services(&d.before), Feature::Ordering);
    add(services(&d.wants) || services(&d.requires) || services(&d.binds_to), Feature::Requirements);
    add(!d.binds_to.is_empty() || !d.part_of.is_empty(), Feature::StopPropagation);
    add(!d.conflicts.is_empty(), Feature::Conflicts);
    add(!d.reload_from.is_empty(), Feature::ReloadFrom);
    let foreign = d.relations().iter().flat_map(|(_, l)| l.iter()).any(|x| match x {
        Dep::Unit(u) => facility_of_unit(u).is_none() && !boot_structure(u),
        Dep::Service(_) | Dep::Instance(_) => false,
    });
    add(foreign, Feature::SystemdUnits);
    add(!d.mounts.is_empty(), Feature::Mounts);
    add(!recipe.aliases.is_empty(), Feature::Aliases);
    add(recipe.wanted_by != ["multi-user.target"], Feature::WantedBy);
    let probes: Vec<&Probe> = recipe.conditions.iter().map(|c| &c.probe).collect();
    add(probes.iter().any(|p| matches!(p, Probe::Path(..))), Feature::PathConditions);
    add(!recipe.conditions.any.is_empty(), Feature::AnyConditions);
    add(probes.iter().any(|p| matches!(p, Probe::Virtualization(_))), Feature::Virtualization);
    add(probes.iter().any(|p| matches!(p, Probe::Capability(_))), Feature::Capability);
    add(probes.iter().any(|p| matches!(p, Probe::KernelCommandLine(_))), Feature::KernelCommandLine);
    add(probes.iter().any(|p| matches!(p, Probe::AcPower)), Feature::AcPower);
    add(probes.iter().any(|p| matches!(p, Probe::Security(_))), Feature::Security);
    add(recipe.conditions.setting.is_some(), Feature::SettingSwitch);
    match &recipe.run.kind {
        RunKind::Oneshot { remain } => {
            add(true, Feature::Oneshot);
            add(*remain, Feature::RemainAfterExit);
        }
        RunKind::Forking { .. } => add(true, Feature::Forking),
        RunKind::Notify => add(true, Feature::Notify),
        RunKind::Foreground => {}
    }
    add(recipe.schedule.is_some(), Feature::Schedule);
    add(!recipe.start.before.is_empty() || !recipe.start.after.is_empty(), Feature::StartSteps);
    add(!recipe.stop.after.is_empty(), Feature::StopSteps);
    add(recipe.stop.command.is_some(), Feature::StopCommand);
    add(recipe.templates().iter().any(|t| t.has_words()), Feature::SplitArguments);
    let default_policy = if recipe.run.kind.is_oneshot() { RestartPolicy::No } else { RestartPolicy::OnFailure };
    // A supervisor restarts after every exit: `always` is what it does.
    add(recipe.restart.policy == RestartPolicy::Always, Feature::RestartAlways);
    add(![default_policy, RestartPolicy::Always].contains(&recipe.restart.policy), Feature::RestartPolicy);
    add(recipe.restart.delay_ms != 1_000, Feature::RestartDelay);
    add(recipe.restart.burst.is_some(), Feature::RestartLimit);
    add(!recipe.restart.prevent_codes.is_empty(), Feature::RestartPrevent);
    add(!recipe.run.success_codes.is_empty(), Feature::SuccessCodes);
    add(recipe.stop.mode != StopMode::Mixed, Feature::StopMode);
    add(recipe.run.nice.is_some(), Feature::Nice);
    add(recipe.systemd.watchdog_ms.is_some(), Feature::Watchdog);
    add(recipe.run.oom_score_adjust.is_some(), Feature::OomScore);
    add(recipe.run.io.is_some(), Feature::IoClass);
    add(recipe.socket.is_some(), Feature::Socket);
    add(recipe.socket.as_ref().is_some_and(|s| s.accept), Feature::SocketAccept);
    add(!recipe.systemd.allow.is_empty(), Feature::Relax);
    add(recipe.systemd.tasks_max.is_some(), Feature::TasksMax);
    add(recipe.systemd.slice.is_some(), Feature::Slice);
    add(recipe.systemd.fd_store_max.is_some_and(|n| n > 0), Feature::FdStore);
    if let Some(f) = handover(recipe) {
        add(true, f);
    }
    out
}

/// The handover row `recipe` uses, if it declares one.
pub fn handover(recipe: &Recipe) -> Option<Feature> {
    Some(match recipe.restart.handover.as_ref()?.main {
        HandoverMain::Child { .. } => Feature::HandoverChild,
        HandoverMain::Same => Feature::HandoverSame,
    })
}

/// Why `target` cannot render what `recipe` uses: one line per field.
pub fn refusals(recipe: &Recipe, target: Target) -> Vec<String> {
    let mut out: Vec<String> = used(recipe)
        .into_iter()
        .filter_map(|f| match target.backend().feature(f) {
            Support::No(why) => Some(format!("{}: {why}", f.field())),
            Support::Native(_) | Support::Initkit(_) | Support::Approx(_) => None,
        })
        .collect();
    out.extend(target.backend().refusals(recipe));
    out
}

/// How `target` approximates what `recipe` uses: one line per field.
pub fn notes(recipe: &Recipe, target: Target) -> Vec<String> {
    used(recipe)
        .into_iter()
        .filter_map(|f| match target.backend().feature(f) {
            Support::Approx(how) => Some(format!("{}: {how}", f.field())),
            Support::Native(_) | Support::Initkit(_) | Support::No(_) => None,
        })
        .collect()
}

/// The field matrix of docs/targets.md, as the backends declare it.
pub fn matrix() -> String {
    let mut s = String::from("| field |");
    for t in Target::ALL {
        s.push_str(&format!(" {} |", t.name()));
    }
    s.push_str("\n|---|");
    for _ in Target::ALL {
        s.push_str("---|");
    }
    s.push('\n');
    for f in Feature::ALL {
        s.push_str(&format!("| {} |", f.field()));
        for t in Target::ALL {
            s.push_str(&format!(" {} |", t.backend().feature(f).cell()));
        }
        s.push('\n');
    }
    s
}

/// Without systemd there is no store: `NOTIFY_SOCKET` is unset, so a daemon
/// that would hand its descriptors over keeps them, and opens them anew
/// after a restart.
const FD_STORE: Support =
    Support::Approx("no descriptor store: the daemon opens its sockets and files anew after a restart");

/// Only systemd groups services into slices.
const SLICE: Support = Support::Approx("no slice: the service runs beside the others, under no slice's limits");

/// Only systemd passes a reload on from one service to another.
const RELOAD_FROM: Support =
    Support::Approx("a reload of those is not passed on: reload this one too (`initkit reload NAME`)");

/// What a supervisor (runit, s6, daemontools, supervisord, and Upstart's
/// respawn) makes of each field: it keeps one foreground process running,
/// started with every other service at once. `who` names it in the reasons.
#[allow(clippy::match_same_arms)] // a table: one row per field
pub fn supervised(feature: Feature) -> Support {
    match feature {
        Feature::Ordering | Feature::Requirements | Feature::StopPropagation | Feature::Conflicts => {
            Support::No("a supervisor starts every service at once, with no order or dependency")
        }
        Feature::ReloadFrom => RELOAD_FROM,
        Feature::SystemdUnits => Support::Approx("left out: there is no such unit"),
        Feature::Mounts => Support::Approx("started once the boot has mounted what it mounts"),
        Feature::Aliases => Support::No("a service directory has one name"),
        Feature::WantedBy => Support::Approx("started with every other service"),
        Feature::PathConditions
        | Feature::AnyConditions
        | Feature::Virtualization
        | Feature::Capability
        | Feature::KernelCommandLine
        | Feature::AcPower
        | Feature::Security
        | Feature::SettingSwitch => Support::No("a skipped start would be retried by the supervisor forever"),
        Feature::Oneshot | Feature::RemainAfterExit | Feature::Schedule => {
            Support::No("a supervisor keeps a process running; a task runs under systemd or SysV")
        }
        Feature::Forking => Support::No("a supervisor needs the daemon in the foreground"),
        Feature::Notify => Support::Initkit("in the foreground; ready by the recipe's probe"),
        Feature::StartSteps | Feature::StopSteps | Feature::StopCommand => {
            Support::No("the supervisor runs the daemon alone: no step before or after it")
        }
        Feature::SplitArguments => Support::Initkit("split at blanks, globbing off"),
        Feature::RestartAlways => Support::Native("every exit but a stop is followed by a restart"),
        Feature::RestartPolicy | Feature::RestartLimit | Feature::RestartPrevent => {
            Support::No("the supervisor restarts the daemon after every exit")
        }
        Feature::RestartDelay => Support::Approx("the supervisor's own pace, about a second"),
        Feature::SuccessCodes => Support::Approx("every exit is followed by a restart"),
        Feature::StopMode => Support::Approx("the stop signal goes to the daemon; its group is ended after"),
        Feature::Nice => Support::Initkit("nice(1) in the run script"),
        Feature::OomScore => Support::Initkit("choom(1) in the run script"),
        Feature::IoClass => Support::Initkit("ionice(1) in the run script"),
        Feature::Socket | Feature::SocketAccept => Support::No("initkit renders socket activation for systemd only"),
        Feature::Relax => Support::Native("no sandbox, nothing to lift"),
        Feature::TasksMax => Support::Approx("not limited: no control group"),
        Feature::Slice => SLICE,
        Feature::Watchdog => Support::Approx("not watched: a hung daemon is not restarted (its pings go nowhere)"),
        Feature::FdStore => FD_STORE,
        Feature::HandoverChild | Feature::HandoverSame => SUPERVISED_HANDOVER,
    }
}

/// A supervisor restarts its one child plainly: a new main process the daemon
/// starts is not the supervisor's child, and its restart command knows no signal
/// to hand over with.
const SUPERVISED_HANDOVER: Support = Support::Approx(
    "a plain restart: the supervisor keeps its one child in the foreground and restarts it; a main process the daemon starts itself is not the supervisor's",
);

/// What SysV and OpenRC scripts make of each field; `deps` is how the init
/// system orders and requires (LSB headers, OpenRC's `depend`).
#[allow(clippy::match_same_arms)] // a table: one row per field
pub fn scripted(feature: Feature, deps: Support, propagation: Support, aliases: Support) -> Support {
    match feature {
        Feature::Ordering | Feature::Requirements => deps,
        Feature::StopPropagation => propagation,
        Feature::Conflicts => Support::No("neither LSB nor OpenRC has conflicts"),
        Feature::ReloadFrom => RELOAD_FROM,
        Feature::SystemdUnits => Support::Approx("left out: there is no such unit (LSB facilities stand for targets)"),
        Feature::Mounts => Support::Approx("after $local_fs and $remote_fs: every mount is up by then"),
        Feature::Aliases => aliases,
        Feature::WantedBy => Support::Approx("started in the default runlevels, like every service"),
        Feature::PathConditions | Feature::SettingSwitch => Support::Initkit("start is skipped, exit 0"),
        Feature::AnyConditions => Support::Initkit("`if { …; } || { …; }`: skipped unless one holds"),
        Feature::Virtualization => Support::Approx(
            "systemd-detect-virt where installed; else a guess from the files containers and hypervisors leave, as docs/recipes.md lists",
        ),
        Feature::Capability => Support::Initkit("the bit in CapBnd of /proc/self/status"),
        Feature::KernelCommandLine => {
            Support::Initkit("the words of /proc/cmdline, or of PID 1's command line in a container")
        }
        Feature::AcPower => Support::Initkit("/sys/class/power_supply: a mains supply online, or none"),
        Feature::Security => Support::Approx(
            "the kernel's files (/sys/fs/selinux, /sys/kernel/security, EFI variables…), as docs/recipes.md lists; `audit` and `tpm2` are guesses",
        ),
        Feature::Oneshot => Support::Initkit("start runs the task to its end"),
        Feature::RemainAfterExit => Support::Initkit("status 0 until stop"),
        Feature::Forking => Support::Initkit("its pidfile read once, the PID checked against the launch"),
        Feature::Notify => Support::Initkit("in the foreground; ready by the recipe's probe"),
        Feature::Schedule => Support::Initkit("an /etc/cron.d entry runs `start`"),
        Feature::StartSteps | Feature::StopSteps | Feature::StopCommand => Support::Initkit("script"),
        Feature::SplitArguments => Support::Initkit("split at blanks, globbing off"),
        Feature::RestartAlways
        | Feature::RestartPolicy
        | Feature::RestartDelay
        | Feature::RestartLimit
        | Feature::RestartPrevent => Support::Approx("never restarted: status reports a dead service"),
        Feature::SuccessCodes => Support::Initkit("a task's and a forking start's exit"),
        Feature::StopMode => Support::Initkit("the signal to the process or its group; the rest ended or left"),
        Feature::Nice => Support::Initkit("nice(1)"),
        Feature::OomScore => Support::Initkit("choom(1)"),
        Feature::IoClass => Support::Initkit("ionice(1)"),
        Feature::Socket | Feature::SocketAccept => Support::No("initkit renders socket activation for systemd only"),
        Feature::Relax => Support::Native("no sandbox, nothing to lift"),
        Feature::TasksMax => Support::Approx("not limited: no control group"),
        Feature::Slice => SLICE,
        Feature::Watchdog => Support::Approx("not watched: a hung daemon is not restarted (its pings go nowhere)"),
        Feature::FdStore => FD_STORE,
        Feature::HandoverChild => Support::Initkit(
            "restart signals the main process, waits for the new one and its workers, then ends the old one; a plain restart if none comes",
        ),
        Feature::HandoverSame => Support::Initkit(
            "restart signals the main process and waits for its new workers; a plain restart if none comes",
        ),
    }
}
