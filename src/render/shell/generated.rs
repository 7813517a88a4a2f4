//! The shell functions written for one recipe: its settings and their
//! defaults, its directories, the exec chain, its environment, the config
//! test, the pre-stop steps, readiness and reload (the start conditions are
//! in [`super::conditions`]); and the constants the library reads. Every
//! value goes through `sh::word` or `sh::quote`.

use std::fmt::Write as _;

use crate::{
    recipe::{HandoverMain, Hook, HookAction, ReadyCheck, Recipe, Reload, RunKind, Template, Test},
    render::{Flavor, Options, facts, seconds, sh},
};

/// How the exec chain drops to the service's user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// util-linux setpriv (SysV, OpenRC, the wrappers, Upstart).
    Setpriv,
    /// runit's chpst.
    Chpst,
    /// s6's s6-setuidgid.
    S6,
    /// daemontools' setuidgid.
    Setuidgid,
    /// None: the supervisor already runs as the service's user (a user's
    /// own runsvdir or s6-svscan), which may not change it.
    Own,
}

/// How a script starts its daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exec {
    pub drop: Drop,
    /// `setsid`: the daemon leads a session and process group of its own, so
    /// a stop reaches everything it started and nothing else (runsv runs
    /// ./run in its own group, shared with the logger). Upstart tracks the
    /// process itself.
    pub setsid: bool,
    /// The daemon gets SIGKILL if the script that started it dies (a
    /// supervisor that SIGKILLs the stop wrapper would otherwise orphan it).
    pub dies_with_parent: bool,
}

/// The shell variable a template variable lives in.
fn sh_var(name: &str) -> String {
    match name {
        "instance" => "instance".to_owned(),
        "instance_path" => "instance_path".to_owned(),
        "runtime_dir" => "d_runtime".to_owned(),
        "state_dir" => "d_state".to_owned(),
        "logs_dir" => "d_logs".to_owned(),
        other => format!("v_{other}"),
    }
}

/// A template as one sh word, with `{name}` resolved to the recipe's name.
fn word(recipe: &Recipe, t: &Template) -> String {
    let t = t.expand(&|v| (v == "name").then(|| Template::literal(&recipe.name)));
    sh::word(&t, &sh_var)
}

fn argv(recipe: &Recipe, argv: &[Template]) -> String {
    argv.iter().map(|a| word(recipe, a)).collect::<Vec<_>>().join(" ")
}

/// The shellcheck note a line needs when it single-quotes a literal `$` or
/// backquote on purpose (a recipe's `sh -c` script, say), else nothing.
fn literal_dollars(templates: &[&Template]) -> &'static str {
    let has = templates
        .iter()
        .any(|t| t.segments.iter().any(|s| matches!(s, crate::recipe::Segment::Literal(l) if l.contains(['$', '`']))));
    if has { "    # shellcheck disable=SC2016 # a literal argument, single-quoted on purpose\n" } else { "" }
}

/// Settings are loaded whole; each script reads only the ones it needs.
const VALUES_NOTE: &str =
    "# shellcheck disable=SC2034 # values for whichever function reads them; a script reads only some\n";

/// The constants the library reads; the builder keeps those a script uses.
pub fn consts(recipe: &Recipe, options: &Options, settings: &facts::Settings) -> Vec<(&'static str, String)> {
    let layout = &options.layout;
    let flavor = options.flavor;
    let name = &recipe.name;
    let setting_names: Vec<&str> = recipe.vars.iter().map(|v| v.name.as_str()).collect();
    vec![
        ("NAME", name.clone()),
        ("SETTINGS_FILE", settings.service.clone()),
        ("INSTANCE_PREFIX", settings.instance_prefix.clone()),
        // Where SysV lists the configured instances.
        ("INSTANCE_DIR", settings.instance_prefix.trim_end_matches('/').to_owned()),
        ("ENV_FILE", facts::env_file(recipe, layout)),
        ("MULTI", if recipe.instances.is_some() { "1" } else { "0" }.to_owned()),
        ("DEFAULT_INSTANCE", recipe.instances.as_ref().and_then(|i| i.default.clone()).unwrap_or_default()),
        ("PID_DIR", facts::pid_dir(recipe, layout)),
        ("CONSOLE_LOG_DIR", facts::log_dir(layout, name)),
        ("LOCK_FILE", if flavor == Flavor::Rhel { format!("{}/{name}", layout.lock()) } else { String::new() }),
        ("RUN_USER", recipe.run.user.clone()),
        ("RUN_GROUP", recipe.run.group.clone().unwrap_or_default()),
        ("PROGRAM", recipe.run.command[0].as_literal().unwrap_or_default()),
        ("STOP_SIGNAL", recipe.stop.signal.name().to_owned()),
        ("STOP_TIMEOUT_MS", recipe.stop.timeout_ms.to_string()),
        ("STOP_MODE", recipe.stop.mode.name().to_owned()),
        ("KIND", recipe.run.kind.name().to_owned()),
        ("REMAIN", if matches!(recipe.run.kind, RunKind::Oneshot { remain: true }) { "1" } else { "0" }.to_owned()),
        (
            "SUCCESS_CODES",
            std::iter::once("0".to_owned())
                .chain(recipe.run.success_codes.iter().map(u8::to_string))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ("LEFTOVER_MS", facts::LEFTOVER_MS.to_string()),
        ("READY_TIMEOUT_MS", recipe.ready.as_ref().map_or(10_000, |r| r.timeout_ms).to_string()),
        ("SETTLE_MS", facts::SETTLE_MS.to_string()),
        ("READY_SETTLE_MS", recipe.ready.as_ref().map_or(0, |r| r.settle_ms).to_string()),
        ("TRIAL_SETUP", facts::TRIAL_SETUP.to_owned()),
        ("TRIAL_SETTLE_MS", facts::TRIAL_SETTLE_MS.to_string()),
        (
            "GATE",
            match recipe.check.as_ref().map(|c| &c.test) {
                None => "none",
                Some(Test::Command(_)) => "program",
                Some(Test::Trial) => "trial",
            }
            .to_owned(),
        ),
        (
            "RELOAD",
            match recipe.reload {
                None => "none",
                Some(Reload::Signal(_)) => "signal",
                Some(Reload::Command(_)) => "program",
            }
            .to_owned(),
        ),
        ("HANDOVER", recipe.restart.handover.as_ref().map_or("none", |h| h.main.name()).to_owned()),
        ("HANDOVER_SIGNAL", recipe.restart.handover.as_ref().map(|h| h.signal.name()).unwrap_or_default().to_owned()),
        (
            "HANDOVER_FINISH",
            match recipe.restart.handover.as_ref().map(|h| h.main) {
                Some(HandoverMain::Child { finish }) => finish.name(),
                Some(HandoverMain::Same) | None => "",
            }
            .to_owned(),
        ),
        ("HANDOVER_TIMEOUT_MS", recipe.restart.handover.as_ref().map_or(0, |h| h.timeout_ms).to_string()),
        ("HANDOVER_SETTLE_MS", facts::HANDOVER_SETTLE_MS.to_string()),
        ("SETTING_NAMES", if setting_names.is_empty() { "none".to_owned() } else { setting_names.join(" ") }),
    ]
}

/// Every function written for `recipe`, by name.
pub fn functions(recipe: &Recipe, options: &Options, exec: Exec, instance: Option<&str>) -> Vec<(String, String)> {
    let layout = &options.layout;
    let q = sh::quote;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut s = String::new();
    // Each function's text is taken as it is finished: never split out of a whole.
    let mut take = |name: &str, s: &mut String| out.push((name.to_owned(), std::mem::take(s)));

    s.push_str("# The defaults of every setting, for the instance in $instance.\n");
    s.push_str(VALUES_NOTE);
    s.push_str("ik_defaults() {\n");
    if recipe.uses_var("instance_path") {
        // The instance with each `-` as `/` (systemd's %I), without a fork.
        s.push_str(
            "    instance_path='' ik_rest=$instance\n    while :; do\n        case $ik_rest in\n            \
             *-*) instance_path=\"$instance_path${ik_rest%%-*}/\" ik_rest=${ik_rest#*-} ;;\n            \
             *) instance_path=$instance_path$ik_rest; break ;;\n        esac\n    done\n",
        );
    }
    for var in &recipe.vars {
        let _ = writeln!(s, "    {}={}", sh_var(&var.name), word(recipe, &var.default));
    }
    s.push_str("    :\n}\n\n");
    take("ik_defaults", &mut s);

    s.push_str(VALUES_NOTE);
    s.push_str("ik_set() {\n    case $1 in\n");
    for var in &recipe.vars {
        let _ = writeln!(s, "        {}) {}=$2 ;;", var.name, sh_var(&var.name));
    }
    s.push_str("        *) return 1 ;;\n    esac\n}\n\n");
    take("ik_set", &mut s);

    let dirs = [
        ("d_runtime", &recipe.directories.runtime, layout.run()),
        ("d_state", &recipe.directories.state, layout.state()),
        ("d_logs", &recipe.directories.logs, layout.log()),
    ];
    s.push_str(VALUES_NOTE);
    s.push_str("ik_dirs() {\n");
    for (var, dir, base) in &dirs {
        if let Some(dir) = dir {
            let _ = writeln!(s, "    {var}={}/{}", q(base), word(recipe, dir));
        }
    }
    s.push_str("    :\n}\n\n");
    take("ik_dirs", &mut s);

    let mode = format!("{:04o}", recipe.directories.mode.unwrap_or(0o755));
    s.push_str("ik_prepare() {\n");
    for (var, dir, _) in &dirs {
        if dir.is_some() {
            let _ = writeln!(s, "    ik_mkdir \"${var}\" {mode} || return 1");
        }
    }
    s.push_str("    return 0\n}\n\n");
    take("ik_prepare", &mut s);

    s.push_str("ik_check() {\n");
    match recipe.check.as_ref().map(|c| (c, &c.test)) {
        Some((check, Test::Command(command))) => {
            let user = check.user.as_deref().unwrap_or(&recipe.run.user);
            s.push_str(literal_dollars(&command.iter().collect::<Vec<_>>()));
            let line =
                format!("ik_as {} timeout -k 2 {} {}", q(user), seconds(check.timeout_ms), argv(recipe, command));
            let _ = writeln!(s, "    {}", sh::noglob(&line, sh::splits(command)));
        }
        Some((_, Test::Trial)) => s.push_str("    # No config-test mode: a trial start is the test.\n    ik_trial\n"),
        None => s.push_str("    return 0\n"),
    }
    s.push_str("}\n\n");
    take("ik_check", &mut s);

    s.push_str("ik_before_stop() {\n");
    for hook in &recipe.stop.before {
        let user = hook.user.as_deref().unwrap_or(&recipe.run.user);
        let (kind, interval, command) = match &hook.action {
            HookAction::Run(c) => ("run", 0, c),
            HookAction::Poll { command, interval_ms } => ("poll", *interval_ms, command),
        };
        s.push_str(literal_dollars(&command.iter().collect::<Vec<_>>()));
        let line = format!(
            "ik_hook {} {kind} {} {} {} {}",
            q(&hook.description),
            seconds(hook.timeout_ms),
            seconds(interval),
            q(user),
            argv(recipe, command)
        );
        let _ = writeln!(s, "    {}", sh::noglob(&line, sh::splits(command)));
    }
    s.push_str("    return 0\n}\n\n");
    take("ik_before_stop", &mut s);

    s.push_str("ik_ready() {\n");
    match recipe.ready.as_ref().map(|r| &r.check) {
        Some(ReadyCheck::Tcp(addr)) => {
            let _ = writeln!(s, "    ik_listening {}", word(recipe, addr));
        }
        Some(ReadyCheck::Command(c)) => {
            s.push_str(literal_dollars(&c.iter().collect::<Vec<_>>()));
            let line = format!("ik_as \"$RUN_USER\" {} >/dev/null 2>&1", argv(recipe, c));
            let _ = writeln!(s, "    {}", sh::noglob(&line, sh::splits(c)));
        }
        // Nothing to probe: started once it has stayed up a while, long
        // enough for a daemon that rejects its config to have exited.
        // (A supervisor's check script polls with no start of its own to count from: ready.)
        None => s.push_str("    ik_now\n    [ $((now - ${ik_ready_since:-0})) -ge \"$SETTLE_MS\" ]\n"),
    }
    s.push_str("}\n\n");
    take("ik_ready", &mut s);

    s.push_str("ik_do_reload() {\n");
    match &recipe.reload {
        Some(Reload::Signal(signal)) => {
            let _ = writeln!(
                s,
                "    kill -s {signal} \"$pid\" || return 1\n    ik_say \"$label: reloaded (SIG{signal} to pid $pid)\""
            );
        }
        Some(Reload::Command(c)) => {
            s.push_str(literal_dollars(&c.iter().collect::<Vec<_>>()));
            let line = format!("ik_as \"$RUN_USER\" {}", argv(recipe, c));
            let _ =
                writeln!(s, "    {} || return 1\n    ik_say \"$label: reloaded\"", sh::noglob(&line, sh::splits(c)));
        }
        None => s.push_str("    return 3\n"),
    }
    s.push_str("}\n\n");
    take("ik_do_reload", &mut s);

    s.push_str(&super::conditions::function(recipe, &sh_var));
    take("ik_conditions", &mut s);
    for (name, phase, hooks) in [
        ("ik_before_start", "before start", &recipe.start.before),
        ("ik_after_start", "after start", &recipe.start.after),
        ("ik_after_stop", "after stop", &recipe.stop.after),
    ] {
        s.push_str(&steps(recipe, name, phase, hooks));
        take(name, &mut s);
    }
    s.push_str(
        "# ik_stop_command: the daemon's own shutdown tool, or 1 when the recipe has none.\nik_stop_command() {\n",
    );
    match &recipe.stop.command {
        Some(c) => {
            s.push_str(literal_dollars(&c.iter().collect::<Vec<_>>()));
            let line = format!(
                "ik_as \"$RUN_USER\" timeout -k 2 {} {} >>\"$console_log\" 2>&1",
                seconds(recipe.stop.timeout_ms),
                argv(recipe, c)
            );
            let _ = writeln!(s, "    {}\n    return 0", sh::noglob(&line, sh::splits(c)));
        }
        None => s.push_str("    return 1\n"),
    }
    s.push_str("}\n\n");
    take("ik_stop_command", &mut s);
    if recipe.restart.handover.is_some() {
        // The library's plain restart, replaced: this daemon hands its sockets over.
        s.push_str("# A restart hands the listening sockets over (restart.handover).\nik_restart_one() {\n    ik_handover_restart_one\n}\n\n");
        take("ik_restart_one", &mut s);
    }
    s.push_str("# ik_daemon_pidfile: where a forking daemon writes its PID, in $ik_dpf.\nik_daemon_pidfile() {\n");
    match &recipe.run.kind {
        RunKind::Forking { pidfile } => {
            let _ = writeln!(s, "    ik_dpf={}", word(recipe, pidfile));
        }
        _ => s.push_str("    ik_dpf=''\n"),
    }
    s.push_str("}\n\n");
    take("ik_daemon_pidfile", &mut s);

    s.push_str(&environment(recipe));
    take("ik_environment", &mut s);
    s.push_str(&exec_function(recipe, exec));
    take("ik_exec", &mut s);
    s.push_str(&instance_load(instance));
    take("ik_instance_load", &mut s);
    out
}

/// A function that runs the start or stop steps of one phase, in order.
fn steps(recipe: &Recipe, name: &str, phase: &str, hooks: &[Hook]) -> String {
    let q = sh::quote;
    let mut s = format!("{name}() {{\n");
    for hook in hooks {
        let user = hook.user.as_deref().unwrap_or(&recipe.run.user);
        let (kind, interval, command) = match &hook.action {
            HookAction::Run(c) => ("run", 0, c),
            HookAction::Poll { command, interval_ms } => ("poll", *interval_ms, command),
        };
        s.push_str(literal_dollars(&command.iter().collect::<Vec<_>>()));
        let line = format!(
            "ik_step {} {} {kind} {} {} {} {} {}",
            q(phase),
            q(&hook.description),
            seconds(hook.timeout_ms),
            seconds(interval),
            q(user),
            if hook.optional { "optional" } else { "required" },
            argv(recipe, command)
        );
        let _ = writeln!(s, "    {} || return 1", sh::noglob(&line, sh::splits(command)));
    }
    s.push_str("    return 0\n}\n\n");
    s
}

/// `ik_environment exec|run CMD...`: CMD with the service's environment only:
/// a clean one, the recipe's literal values from the root-only environment
/// file, the operator's environment file, then the recipe's values that refer
/// to settings (later ones win, in file order, as in systemd).
fn environment(recipe: &Recipe) -> String {
    let run = &recipe.run;
    let mut s = String::from(
        "# ik_environment exec|run CMD...: CMD with the service's environment only.\n\
         ik_environment() {\n    ik_how=$1\n    shift\n    ik_ncmd=$#\n",
    );
    let mut files = Vec::new();
    if facts::has_env_file(recipe) {
        files.push("\"$ENV_FILE\"".to_owned());
    }
    if let Some(file) = &run.environment_file {
        files.push(word(recipe, file));
    }
    // Read as data, the way systemd reads EnvironmentFile=; never sourced.
    for file in files {
        let _ = write!(
            s,
            "    ik_env_file={file}\n\
             \x20   if [ -f \"$ik_env_file\" ]; then\n\
             \x20       while IFS= read -r ik_line || [ -n \"$ik_line\" ]; do\n\
             \x20           ik_key=${{ik_line%%=*}}\n\
             \x20           case $ik_key in ''|'#'*|';'*|[0-9]*|*[!A-Za-z0-9_]*) continue ;; esac\n\
             \x20           [ \"$ik_key\" = \"$ik_line\" ] && continue\n\
             \x20           ik_unquote \"${{ik_line#*=}}\"\n\
             \x20           set -- \"$@\" \"$ik_key=$ik_value\"\n\
             \x20       done <\"$ik_env_file\"\n\
             \x20   fi\n"
        );
    }
    for (key, value) in &run.environment {
        if facts::env_is_templated(value) {
            s.push_str(literal_dollars(&[value]));
            let _ = writeln!(
                s,
                "    set -- \"$@\" {}{}",
                word(recipe, &Template::literal(&format!("{key}="))),
                word(recipe, value)
            );
        }
    }
    s.push_str(
        "    # The command goes after its environment.\n\
         \x20   while [ \"$ik_ncmd\" -gt 0 ]; do\n\
         \x20       set -- \"$@\" \"$1\"\n\
         \x20       shift\n\
         \x20       ik_ncmd=$((ik_ncmd - 1))\n\
         \x20   done\n",
    );
    s.push_str("    ik_home=$(getent passwd \"$RUN_USER\" | cut -d: -f6)\n");
    s.push_str(
        "    set -- env -i \"PATH=$PATH\" \"HOME=${ik_home:-/}\" \"USER=$RUN_USER\" \"LOGNAME=$RUN_USER\" ${ik_launch_id:+\"INITKIT_LAUNCH=$ik_launch_id\"} \"$@\"\n",
    );
    if recipe.check.as_ref().is_some_and(|c| c.test == Test::Trial) {
        // The trial's daemon gets network and mount namespaces of its own (the
        // host's addresses on its loopback, its writes kept in a layer of its
        // own); its readiness probe runs inside them too. It dies with the
        // script (the parent-death signal): a script killed mid-trial leaves
        // no trial running.
        s.push_str(
            "    # A trial start runs in network and mount namespaces of its own.\n\
             \x20   case ${ik_trial_net:-} in\n\
             \x20       '') ;;\n\
             \x20       new)\n\
             \x20           set -- -- \"$@\"\n\
             \x20           for ik_addr in $(ik_host_addresses); do\n\
             \x20               set -- \"$ik_addr\" \"$@\"\n\
             \x20           done\n\
             \x20           set -- setpriv --pdeathsig KILL -- unshare --net --mount --pid --fork --kill-child --mount-proc -- sh -c \"$TRIAL_SETUP\" initkit \"${ik_trial_stage:?}\" \"$@\"\n\
             \x20           ;;\n\
             \x20       *) set -- nsenter --net=\"/proc/$ik_trial_net/ns/net\" --mount=\"/proc/$ik_trial_net/ns/mnt\" --root=\"/proc/$ik_trial_net/root\" --wd=\"/proc/$ik_trial_net/cwd\" -- \"$@\" ;;\n\
             \x20   esac\n",
        );
    }
    s.push_str("    if [ \"$ik_how\" = exec ]; then\n        exec \"$@\"\n    fi\n    \"$@\"\n}\n\n");
    s
}

/// `ik_exec`: execs the daemon through a chain that changes nothing but what
/// it says: its own session (setsid), the user drop, the environment. Every
/// argument is quoted; no shell reads a value.
fn exec_function(recipe: &Recipe, exec: Exec) -> String {
    let run = &recipe.run;
    let mut s = String::from("ik_exec() {\n");
    match &run.working_directory {
        Some(dir) => {
            let _ = writeln!(s, "    cd -- {} || exit 200", word(recipe, dir));
        }
        None => s.push_str("    cd / || exit 200\n"),
    }
    if let Some(umask) = run.umask {
        let _ = writeln!(s, "    umask {umask:04o}");
    }
    let limits = run.limits.entries();
    if !limits.is_empty() {
        // Limits are set on this subshell (inherited through exec): its own PID, not $$.
        s.push_str("    ik_self=$(exec sh -c 'echo \"$PPID\"')\n");
        for (key, value) in limits {
            let _ = writeln!(s, "    ik_limit \"$ik_self\" {key} {value}");
        }
    }
    let mut chain: Vec<String> = Vec::new();
    if exec.setsid {
        chain.push("setsid".to_owned());
    }
    // Priorities are set while still root (a negative nice needs it).
    if let Some(nice) = run.nice {
        chain.push(format!("nice -n {nice}"));
    }
    if let Some(oom) = run.oom_score_adjust {
        chain.push(format!("choom -n {oom} --"));
    }
    if let Some((class, priority)) = run.io {
        chain.push(match priority {
            Some(p) => format!("ionice -c {} -n {p}", class.number()),
            None => format!("ionice -c {}", class.number()),
        });
    }
    // The parent-death signal is cleared by a change of user: it is set after the drop.
    let pdeath = exec.dies_with_parent;
    let drop = match (exec.drop, pdeath) {
        _ if run.user == "root" => None,
        (Drop::Own, _) => None,
        (Drop::Setpriv, false) => Some("setpriv --reuid=\"$RUN_USER\" --regid=\"$run_group\" --init-groups --"),
        (Drop::Setpriv, true) => {
            Some("setpriv --reuid=\"$RUN_USER\" --regid=\"$run_group\" --init-groups --pdeathsig KILL --")
        }
        (Drop::Chpst, _) => Some("chpst -u \"$RUN_USER:$run_group\""),
        (Drop::S6, _) => Some("s6-setuidgid \"$RUN_USER\""),
        (Drop::Setuidgid, _) => Some("setuidgid \"$RUN_USER\""),
    };
    if let Some(drop) = drop {
        chain.push(drop.to_owned());
    }
    // setpriv sets it itself when it is the drop.
    if pdeath && !(drop.is_some() && exec.drop == Drop::Setpriv) {
        chain.push("setpriv --pdeathsig KILL --".to_owned());
    }
    let prefix = if chain.is_empty() { String::new() } else { format!("{} ", chain.join(" ")) };
    if sh::splits(&run.command) {
        // ik_exec never returns: globbing stays off for the exec alone.
        s.push_str("    set -f\n    # shellcheck disable=SC2086 # split into words on purpose; globbing is off\n");
    }
    s.push_str(literal_dollars(&run.command.iter().collect::<Vec<_>>()));
    let _ = writeln!(s, "    ik_environment exec {prefix}\\\n        {}\n}}\n", argv(recipe, &run.command));
    s
}

/// For a script that serves one instance (a service directory): loading it.
fn instance_load(instance: Option<&str>) -> String {
    let instance = instance.map_or_else(|| "''".to_owned(), sh::quote);
    format!(
        "ik_instance_load() {{\n    ik_load {instance}\n    ik_identity || {{ ik_err \"$NAME: user '$RUN_USER' does not exist\"; exit 1; }}\n}}\n\n"
    )
}
