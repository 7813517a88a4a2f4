//! The shell half every script-based target shares: constants, the functions
//! generated from a recipe (settings, directories, the exec chain, the config
//! test, hooks, readiness, reload), and the static library they run on.

use std::fmt::Write as _;

use super::{Flavor, Options, seconds, sh};
use crate::recipe::{HookAction, ReadyCheck, Recipe, Reload, Template};

/// The static library: settings as data, PID checks, polling, hooks, readiness.
pub const SERVICE_LIB: &str = include_str!("service_lib.sh");

/// How the exec chain drops to the service's user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// util-linux setpriv (SysV, and supervisord's wrapper); `setsid` gives the
    /// daemon its own process group, for a detached SysV daemon.
    Setpriv { setsid: bool },
    /// runit's chpst.
    Chpst,
    /// s6's s6-setuidgid.
    S6,
    /// daemontools' setuidgid.
    Setuidgid,
}

/// The shell variable a template variable lives in.
fn sh_var(name: &str) -> String {
    match name {
        "instance" => "instance".to_owned(),
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

/// The constants and generated functions for `recipe`, ready for SERVICE_LIB.
pub fn preamble(recipe: &Recipe, options: &Options, drop: Drop) -> String {
    let layout = &options.layout;
    let flavor = options.flavor;
    let name = &recipe.name;
    let q = sh::quote;
    let mut s = String::new();
    let setting_names: Vec<&str> = recipe.vars.iter().map(|v| v.name.as_str()).collect();
    let consts: Vec<(&str, String)> = vec![
        ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()),
        ("NAME", name.clone()),
        ("SETTINGS_FILE", format!("{}/{name}", layout.settings(flavor))),
        ("INSTANCE_DIR", format!("{}/{name}.d", layout.settings(flavor))),
        ("MULTI", if recipe.instances.is_some() { "1" } else { "0" }.to_owned()),
        ("DEFAULT_INSTANCE", recipe.instances.as_ref().and_then(|i| i.default.clone()).unwrap_or_default()),
        ("PID_DIR", format!("{}/initkit/{name}", layout.run())),
        ("CONSOLE_LOG_DIR", format!("{}/initkit/{name}", layout.log())),
        ("LOCK_FILE", if flavor == Flavor::Rhel { format!("{}/{name}", layout.lock()) } else { String::new() }),
        ("RUN_USER", recipe.run.user.clone()),
        ("RUN_GROUP", recipe.run.group.clone().unwrap_or_default()),
        ("EXECUTABLE", recipe.executable()),
        ("STOP_SIGNAL", recipe.stop.signal.name().to_owned()),
        ("STOP_TIMEOUT_MS", recipe.stop.timeout_ms.to_string()),
        ("READY_TIMEOUT_MS", recipe.ready.as_ref().map_or(10_000, |r| r.timeout_ms).to_string()),
        ("HAS_CHECK", if recipe.check.is_some() { "1" } else { "0" }.to_owned()),
        (
            "RELOAD",
            match recipe.reload {
                None => "none",
                Some(Reload::Signal(_)) => "signal",
                Some(Reload::Command(_)) => "command",
            }
            .to_owned(),
        ),
        ("SETTING_NAMES", if setting_names.is_empty() { "none".to_owned() } else { setting_names.join(" ") }),
    ];
    for (key, value) in consts {
        let _ = writeln!(s, "{key}={}", q(&value));
    }
    // Pidfiles and console logs are created by this script: keep them private to root.
    s.push_str("export PATH\numask 022\n\n");

    // Defaults of every variable, for the instance in $instance.
    s.push_str("ik_defaults() {\n");
    for var in &recipe.vars {
        let _ = writeln!(s, "    {}={}", sh_var(&var.name), word(recipe, &var.default));
    }
    s.push_str("    :\n}\n\n");

    s.push_str("ik_set() {\n    case $1 in\n");
    for var in &recipe.vars {
        let _ = writeln!(s, "        {}) {}=$2 ;;", var.name, sh_var(&var.name));
    }
    s.push_str("        *) return 1 ;;\n    esac\n}\n\n");

    let dirs = [
        ("d_runtime", &recipe.directories.runtime, layout.run()),
        ("d_state", &recipe.directories.state, layout.state()),
        ("d_logs", &recipe.directories.logs, layout.log()),
    ];
    s.push_str("ik_dirs() {\n");
    for (var, dir, base) in &dirs {
        if let Some(dir) = dir {
            let _ = writeln!(s, "    {var}={}/{}", q(base), word(recipe, dir));
        }
    }
    s.push_str("    :\n}\n\n");

    let mode = format!("{:04o}", recipe.directories.mode.unwrap_or(0o755));
    s.push_str("ik_prepare() {\n");
    for (var, dir, _) in &dirs {
        if dir.is_some() {
            let _ = writeln!(s, "    ik_mkdir \"${var}\" {mode} || return 1");
        }
    }
    s.push_str("    return 0\n}\n\n");

    s.push_str("ik_check() {\n");
    match &recipe.check {
        Some(check) => {
            let user = check.user.as_deref().unwrap_or(&recipe.run.user);
            let _ = writeln!(
                s,
                "    ik_as {} timeout -k 2 {} {}",
                q(user),
                seconds(check.timeout_ms),
                argv(recipe, &check.command)
            );
        }
        None => s.push_str("    return 0\n"),
    }
    s.push_str("}\n\n");

    s.push_str("ik_before_stop() {\n");
    for hook in &recipe.stop.before {
        let user = hook.user.as_deref().unwrap_or(&recipe.run.user);
        let (kind, interval, command) = match &hook.action {
            HookAction::Run(c) => ("run", 0, c),
            HookAction::Poll { command, interval_ms } => ("poll", *interval_ms, command),
        };
        let _ = writeln!(
            s,
            "    ik_hook {} {kind} {} {} {} {}",
            q(&hook.description),
            seconds(hook.timeout_ms),
            seconds(interval),
            q(user),
            argv(recipe, command)
        );
    }
    s.push_str("    return 0\n}\n\n");

    s.push_str("ik_ready() {\n");
    match recipe.ready.as_ref().map(|r| &r.check) {
        Some(ReadyCheck::Tcp(addr)) => {
            let _ = writeln!(s, "    ik_listening {}", word(recipe, addr));
        }
        Some(ReadyCheck::Command(c)) => {
            let _ = writeln!(s, "    ik_as \"$RUN_USER\" {} >/dev/null 2>&1", argv(recipe, c));
        }
        None => s.push_str("    return 0\n"),
    }
    s.push_str("}\n\n");

    s.push_str("ik_do_reload() {\n");
    match &recipe.reload {
        Some(Reload::Signal(signal)) => {
            let _ = writeln!(
                s,
                "    kill -s {signal} \"$pid\" || return 1\n    ik_say \"$label: reloaded (SIG{signal} to pid $pid)\""
            );
        }
        Some(Reload::Command(c)) => {
            let _ =
                writeln!(s, "    ik_as \"$RUN_USER\" {} || return 1\n    ik_say \"$label: reloaded\"", argv(recipe, c));
        }
        None => s.push_str("    return 3\n"),
    }
    s.push_str("}\n\n");

    s.push_str(&exec_function(recipe, drop));
    s
}

/// `ik_exec`: execs the daemon through a chain that changes nothing but what
/// it says: env (a clean environment), optionally setsid (its own process
/// group, so KILL can reach its children), then the user drop. Every argument
/// is quoted; no shell reads a value.
fn exec_function(recipe: &Recipe, drop: Drop) -> String {
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
    s.push_str("    ik_home=$(getent passwd \"$RUN_USER\" | cut -d: -f6)\n    set --\n");
    if let Some(file) = &run.environment_file {
        let file = word(recipe, file);
        let _ = write!(
            s,
            "    if [ -f {file} ]; then\n\
             \x20       while IFS= read -r ik_line || [ -n \"$ik_line\" ]; do\n\
             \x20           ik_key=${{ik_line%%=*}}\n\
             \x20           case $ik_key in ''|'#'*|[0-9]*|*[!A-Za-z0-9_]*) continue ;; esac\n\
             \x20           [ \"$ik_key\" = \"$ik_line\" ] && continue\n\
             \x20           ik_strip_quotes \"${{ik_line#*=}}\"\n\
             \x20           set -- \"$@\" \"$ik_key=$ik_value\"\n\
             \x20       done <{file}\n\
             \x20   fi\n"
        );
    }
    let mut chain =
        vec!["env -i \"PATH=$PATH\" \"HOME=${ik_home:-/}\" \"USER=$RUN_USER\" \"LOGNAME=$RUN_USER\"".to_owned()];
    for (key, value) in &run.environment {
        chain.push(word(recipe, &Template::literal(&format!("{key}="))) + &word(recipe, value));
    }
    chain.push("\"$@\" \\\n       ".to_owned());
    if drop == (Drop::Setpriv { setsid: true }) {
        chain.push("setsid".to_owned());
    }
    if run.user != "root" {
        chain.push(
            match drop {
                Drop::Setpriv { .. } => "setpriv --reuid=\"$RUN_USER\" --regid=\"$run_group\" --init-groups --",
                Drop::Chpst => "chpst -u \"$RUN_USER:$run_group\"",
                Drop::S6 => "s6-setuidgid \"$RUN_USER\"",
                Drop::Setuidgid => "setuidgid \"$RUN_USER\"",
            }
            .to_owned(),
        );
    }
    let _ = writeln!(s, "    exec {} \\\n        {}\n}}\n", chain.join(" "), argv(recipe, &run.command));
    s
}
