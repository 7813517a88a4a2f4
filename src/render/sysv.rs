//! The SysV/LSB init script: one POSIX sh script per recipe that serves every instance.

use std::fmt::Write as _;

use super::{Artifact, Flavor, Options, seconds, sh};
use crate::recipe::{HookAction, ReadyCheck, Recipe, Reload, Template};

const LIBRARY: &str = include_str!("sysv_lib.sh");

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

fn header(recipe: &Recipe, flavor: Flavor) -> String {
    let mut out = String::from("#!/bin/sh\n");
    let description = recipe.description.as_deref().unwrap_or(&recipe.summary);
    let folded = description.lines().collect::<Vec<_>>().join("\n#  ");
    if flavor == Flavor::Rhel {
        // chkconfig reads these; start late (80) and stop early (20).
        let _ = writeln!(out, "# chkconfig: 2345 80 20\n# description: {}", recipe.summary);
    }
    let _ = write!(
        out,
        "### BEGIN INIT INFO\n\
         # Provides:          {name}\n\
         # Required-Start:    $remote_fs $syslog $network\n\
         # Required-Stop:     $remote_fs $syslog $network\n\
         # Default-Start:     2 3 4 5\n\
         # Default-Stop:      0 1 6\n\
         # Short-Description: {summary}\n\
         # Description:       {folded}\n\
         ### END INIT INFO\n",
        name = recipe.name,
        summary = recipe.summary,
    );
    out
}

pub fn render(recipe: &Recipe, options: &Options) -> Artifact {
    let layout = &options.layout;
    let flavor = options.flavor;
    let name = &recipe.name;
    let q = sh::quote;
    let mut s = header(recipe, flavor);
    let usage = if recipe.instances.is_some() { " [INSTANCE]" } else { "" };
    let _ = write!(
        s,
        "#\n# {summary}\n#\n\
         # Rendered by initkit from the recipe \"{name}\"; change the recipe and render again\n\
         # rather than editing this file. Usage: {initd}/{name} ACTION{usage}\n\
         # Settings: KEY=VALUE lines in {settings}/{name}{instance_note}, read as data.\n\n",
        summary = recipe.summary,
        initd = layout.etc() + "/init.d",
        settings = layout.settings(flavor),
        instance_note = if recipe.instances.is_some() {
            format!(", then {}/{name}.d/INSTANCE", layout.settings(flavor))
        } else {
            String::new()
        },
    );
    // Values are single-quoted on purpose, `$` included: SC2016 would flag each one.
    s.push_str("# shellcheck disable=SC2016\n");
    // No `set -e` (Debian Policy 9.3.2): every failure is handled where it happens.
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

    s.push_str(&exec_function(recipe));

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

    s.push_str(LIBRARY);
    Artifact { path: format!("{}/init.d/{name}", layout.etc()), mode: 0o755, content: s }
}

/// `ik_exec`: runs in the backgrounded subshell and execs the daemon through
/// a chain that changes nothing but what it says: env (a clean environment),
/// setsid (its own process group, so KILL can reach its children),
/// setpriv (the user). Every argument is quoted; no shell reads a value.
fn exec_function(recipe: &Recipe) -> String {
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
    chain.push("\"$@\" \\\n        setsid".to_owned());
    if run.user != "root" {
        chain.push("setpriv --reuid=\"$RUN_USER\" --regid=\"$run_group\" --init-groups --".to_owned());
    }
    let _ = writeln!(s, "    exec {} \\\n        {}\n}}\n", chain.join(" "), argv(recipe, &run.command));
    s
}
