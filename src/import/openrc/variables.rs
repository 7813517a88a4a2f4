//! openrc-run's variables (`command`, `command_args`, `command_user`,
//! `pidfile`, `supervisor`, `retry`…) and conf.d's values read into the recipe.

use super::context::Context;
use crate::import::{draft::lit, ini::Problem, sysv, words};

/// The variables read here or by [`super::functions`]; the rest of the lowercase ones are openrc-run's own.
const READ: &[&str] = &[
    "command",
    "command_args",
    "command_args_foreground",
    "command_user",
    "command_background",
    "pidfile",
    "directory",
    "umask",
    "start_stop_daemon_args",
    "supervise_daemon_args",
    "output_log",
    "error_log",
    "supervisor",
    "respawn_delay",
    "respawn_max",
    "respawn_period",
    "retry",
    "description",
    "name",
    "extra_commands",
    "extra_started_commands",
    "extra_stopped_commands",
    "rc_need",
    "rc_use",
    "rc_want",
    "rc_after",
    "rc_before",
    "rc_provide",
];

fn yes(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "1" | "on")
}

pub fn read(cx: &mut Context) -> Result<(), Vec<Problem>> {
    for (line, key, why) in cx.script.unreadable.clone() {
        let file = cx.file.clone();
        cx.report.dropped(&file, line, &key, format!("not a value the import reads as data: {why}"));
    }
    if let Some(conf) = cx.conf.clone() {
        for (line, key, why) in conf.unreadable {
            let file = cx.conf_file.clone();
            cx.report.dropped(&file, line, &key, format!("not a value the import reads as data: {why}"));
        }
        for st in &conf.other {
            let file = cx.conf_file.clone();
            cx.report.dropped(&file, st.line, &first_word(&st.text), "shell code in conf.d, not a value");
        }
        for f in &conf.functions {
            let file = cx.conf_file.clone();
            cx.report.dropped(&file, f.line, &format!("{}()", f.name), "a function in conf.d: shell code");
        }
    }
    let Some((cfile, cline, command)) = cx.scalar("command") else {
        let line = cx.script.function("start").map_or(1, |f| f.line);
        cx.problem(
            line,
            "no `command=`: the script starts its daemon with shell code of its own, which the import does not read",
        );
        return Err(std::mem::take(&mut cx.problems));
    };
    if !command.starts_with('/') || command.contains('$') || command.contains(char::is_whitespace) {
        cx.problem(cline, format!("command `{command}` is not an absolute path"));
        return Err(std::mem::take(&mut cx.problems));
    }
    let mut argv = vec![lit(&command)];
    let supervisor = cx.val("supervisor").map(|v| v.value.clone()).unwrap_or_default();
    let supervised = cx.expand(&supervisor) == "supervise-daemon";
    let mut arg_keys = vec!["command_args"];
    if supervised {
        arg_keys.push("command_args_foreground");
    }
    for key in arg_keys {
        let Some(v) = cx.val(key).cloned() else { continue };
        cx.used.push(key.to_owned());
        match cx.argv(&v.value) {
            Ok(words) => {
                argv.extend(words);
                cx.report.carried(&v.file, v.line, key);
            }
            Err(e) => cx.report.dropped(&v.file, v.line, key, format!("{e}: the recipe runs the command without them")),
        }
    }
    if !supervised && let Some(v) = cx.val("command_args_foreground").cloned() {
        cx.used.push(v.key.clone());
        cx.report.dropped(&v.file, v.line, &v.key, "read by supervise-daemon only, which the script does not use");
    }
    cx.draft.set_list(&["run"], "command", &argv);
    cx.report.carried(&cfile, cline, "command");

    user(cx);
    kind(cx, supervised, (&cfile, cline));
    if let Some((f, l, dir)) = cx.scalar("directory") {
        set_directory(cx, &f, l, "directory", &dir);
    }
    if let Some((f, l, u)) = cx.scalar("umask") {
        set_umask(cx, &f, l, "umask", &u);
    }
    ssd_args(cx);
    for key in ["output_log", "error_log"] {
        if let Some((f, l, _)) = cx.scalar(key) {
            cx.report.approximated(&f, l, key, "the output goes to initkit's console log of the service");
        }
    }
    retry(cx);
    text(cx);
    for (key, rel) in [
        ("rc_need", "need"),
        ("rc_use", "use"),
        ("rc_want", "want"),
        ("rc_after", "after"),
        ("rc_before", "before"),
        ("rc_provide", "provide"),
    ] {
        if let Some((f, l, v)) = cx.scalar(key) {
            let names: Vec<String> = v.split_whitespace().map(str::to_owned).collect();
            super::functions::relation(cx, (&f, l, key), rel, &names);
        }
    }
    Ok(())
}

fn first_word(text: &str) -> String {
    format!("`{}`", text.split_whitespace().next().unwrap_or(""))
}

/// `command_user="user:group"`.
#[allow(clippy::many_single_char_names)] // (file, line, value) and (user, group)
fn user(cx: &mut Context) {
    let (user, group) = match cx.scalar("command_user") {
        Some((f, l, v)) => {
            let (u, g) = v.split_once(':').map_or((v.as_str(), None), |(u, g)| (u, Some(g)));
            if crate::recipe::is_account_name(u) && g.is_none_or(crate::recipe::is_account_name) {
                cx.report.carried(&f, l, "command_user");
                (u.to_owned(), g.map(str::to_owned))
            } else {
                cx.report.dropped(&f, l, "command_user", format!("`{v}` is not user[:group]: the recipe runs as root"));
                ("root".to_owned(), None)
            }
        }
        None => ("root".to_owned(), None),
    };
    cx.draft.set(&["run"], "user", user.as_str());
    if let Some(g) = group {
        cx.draft.set(&["run"], "group", g.as_str());
    }
}

/// How the daemon runs: supervise-daemon and `command_background` keep it in
/// the foreground (initkit knows its PID); otherwise it forks and writes `pidfile`.
fn kind(cx: &mut Context, supervised: bool, (command_file, command_line): (&str, usize)) {
    let background = cx.scalar("command_background");
    if let Some((f, l, _)) = &background {
        cx.report.carried(f, *l, "command_background");
    }
    let background = background.is_some_and(|(_, _, v)| yes(&v));
    if supervised {
        let (f, l, _) = cx.scalar("supervisor").unwrap_or_default();
        cx.draft.set(&["restart"], "policy", "always");
        cx.report.carried(&f, l, "supervisor");
        respawn(cx);
    } else {
        cx.draft.set(&["restart"], "policy", "no");
        if let Some(v) = cx.val("supervisor").cloned() {
            cx.used.push(v.key.clone());
            cx.report.dropped(
                &v.file,
                v.line,
                "supervisor",
                format!("`{}`: initkit starts the daemon itself", v.value),
            );
        }
        for key in ["respawn_delay", "respawn_max", "respawn_period"] {
            if let Some((f, l, _)) = cx.scalar(key) {
                cx.report.dropped(&f, l, key, "read by supervise-daemon only, which the script does not use");
            }
        }
    }
    match cx.scalar("pidfile") {
        Some((f, l, _)) if supervised || background => {
            cx.report.approximated(&f, l, "pidfile", "initkit records the PID it starts itself");
        }
        Some((f, l, p)) => {
            if p.starts_with('/') && !p.contains('$') {
                cx.draft.set(&["run"], "type", "forking");
                cx.draft.set(&["run"], "pidfile", lit(&p));
                cx.report.carried(&f, l, "pidfile");
            } else {
                cx.report.dropped(&f, l, "pidfile", format!("`{p}` is not an absolute path"));
            }
        }
        None if !supervised && !background => {
            cx.report.approximated(
                command_file,
                command_line,
                "command_background",
                "not set and no pidfile: the daemon is run in the foreground; give it its own foreground option",
            );
        }
        None => {}
    }
}

/// supervise-daemon's `respawn_delay`, `respawn_max` within `respawn_period`.
fn respawn(cx: &mut Context) {
    if let Some((f, l, v)) = cx.scalar("respawn_delay") {
        match v.parse::<u64>() {
            Ok(n) => {
                cx.draft.set(&["restart"], "delay", format!("{n}s"));
                cx.report.carried(&f, l, "respawn_delay");
            }
            Err(_) => cx.report.dropped(&f, l, "respawn_delay", format!("`{v}` is not a number of seconds")),
        }
    }
    let max = cx.scalar("respawn_max");
    let period = cx.scalar("respawn_period");
    match (max, period) {
        (Some((f, l, m)), Some((pf, pl, p))) => match (m.parse::<i64>(), p.parse::<u64>()) {
            (Ok(0), _) => {
                cx.report.carried(&f, l, "respawn_max");
                cx.report.carried(&pf, pl, "respawn_period");
            }
            (Ok(m), Ok(p)) if m > 0 && p > 0 => {
                cx.draft.set(&["restart"], "burst", m);
                cx.draft.set(&["restart"], "interval", format!("{p}s"));
                cx.report.carried(&f, l, "respawn_max");
                cx.report.carried(&pf, pl, "respawn_period");
            }
            _ => {
                cx.report.dropped(
                    &f,
                    l,
                    "respawn_max",
                    format!("`{m}` within `{p}` seconds is not a limit initkit reads"),
                );
                cx.report.dropped(&pf, pl, "respawn_period", "read with respawn_max");
            }
        },
        (Some((f, l, _)), None) => cx.report.dropped(
            &f,
            l,
            "respawn_max",
            "without respawn_period it counts over the daemon's whole life; a recipe's limit needs an interval",
        ),
        (None, Some((f, l, _))) => cx.report.dropped(&f, l, "respawn_period", "without respawn_max it limits nothing"),
        (None, None) => {}
    }
}

fn set_directory(cx: &mut Context, file: &str, line: usize, setting: &str, dir: &str) {
    if dir.starts_with('/') && !dir.contains('$') {
        cx.draft.set(&["run"], "working_directory", lit(dir));
        cx.report.carried(file, line, setting);
    } else {
        cx.report.dropped(file, line, setting, format!("`{dir}` is not an absolute path"));
    }
}

fn set_umask(cx: &mut Context, file: &str, line: usize, setting: &str, mask: &str) {
    if !mask.is_empty() && mask.len() <= 4 && mask.chars().all(|c| c.is_digit(8)) {
        cx.draft.set(&["run"], "umask", format!("{mask:0>4}"));
        cx.report.carried(file, line, setting);
    } else {
        cx.report.dropped(file, line, setting, format!("`{mask}` is not an octal umask"));
    }
}

/// The options of `start_stop_daemon_args` (and supervise-daemon's) that a recipe has.
#[allow(clippy::many_single_char_names, clippy::too_many_lines)] // (file, line, value) in every arm; one arm an option
fn ssd_args(cx: &mut Context) {
    for key in ["start_stop_daemon_args", "supervise_daemon_args"] {
        let Some((f, l, v)) = cx.scalar(key) else { continue };
        let toks: Vec<String> = match words::split(&v, words::Dialect::Shell) {
            Ok(ws) => ws.iter().map(|w| super::script::text_of(w)).collect(),
            Err(e) => {
                cx.report.dropped(&f, l, key, e);
                continue;
            }
        };
        let mut i = 0;
        while i < toks.len() {
            let (opt, inline) = match toks[i].split_once('=') {
                Some((o, v)) if o.starts_with("--") => (o.to_owned(), Some(v.to_owned())),
                _ => (toks[i].clone(), None),
            };
            let takes = matches!(
                opt.as_str(),
                "-u" | "--user"
                    | "-c"
                    | "--chuid"
                    | "-g"
                    | "--group"
                    | "-d"
                    | "--chdir"
                    | "-N"
                    | "--nicelevel"
                    | "-k"
                    | "--umask"
                    | "-e"
                    | "--env"
                    | "-1"
                    | "--stdout"
                    | "-2"
                    | "--stderr"
                    | "-I"
                    | "--ionice"
                    | "--oom-score-adj"
                    | "-r"
                    | "--chroot"
                    | "-w"
                    | "--wait"
            );
            let arg = if takes && inline.is_none() {
                i += 1;
                toks.get(i).cloned()
            } else {
                inline
            };
            i += 1;
            let setting = format!("{key} {opt}");
            let arg = arg.unwrap_or_default();
            match opt.as_str() {
                "-u" | "--user" | "-c" | "--chuid" => {
                    let (u, g) = arg.split_once(':').map_or((arg.as_str(), None), |(u, g)| (u, Some(g)));
                    if crate::recipe::is_account_name(u) && g.is_none_or(crate::recipe::is_account_name) {
                        cx.draft.set(&["run"], "user", u);
                        if let Some(g) = g {
                            cx.draft.set(&["run"], "group", g);
                        }
                        cx.report.carried(&f, l, &setting);
                    } else {
                        cx.report.dropped(&f, l, &setting, format!("`{arg}` is not user[:group]"));
                    }
                }
                "-g" | "--group" if crate::recipe::is_account_name(&arg) => {
                    cx.draft.set(&["run"], "group", arg.as_str());
                    cx.report.carried(&f, l, &setting);
                }
                "-d" | "--chdir" => set_directory(cx, &f, l, &setting, &arg),
                "-k" | "--umask" => set_umask(cx, &f, l, &setting, &arg),
                "-N" | "--nicelevel" => match arg.parse::<i64>() {
                    Ok(n) if (-20..=19).contains(&n) => {
                        cx.draft.set(&["run"], "nice", n);
                        cx.report.carried(&f, l, &setting);
                    }
                    _ => cx.report.dropped(&f, l, &setting, format!("`{arg}` is not a nice level (-20..19)")),
                },
                "--oom-score-adj" => match arg.parse::<i64>() {
                    Ok(n) if (-1000..=1000).contains(&n) => {
                        cx.draft.set(&["run"], "oom_score_adjust", n);
                        cx.report.carried(&f, l, &setting);
                    }
                    _ => cx.report.dropped(&f, l, &setting, format!("`{arg}` is not an OOM score (-1000..1000)")),
                },
                "-e" | "--env" => match arg.split_once('=') {
                    Some((k, v))
                        if crate::recipe::template::is_var_name(k)
                            || k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                                && !k.is_empty()
                                && !k.starts_with(|c: char| c.is_ascii_digit()) =>
                    {
                        cx.draft.set(&["run", "environment"], k, lit(v));
                        cx.report.carried(&f, l, &setting);
                    }
                    _ => cx.report.dropped(&f, l, &setting, format!("`{arg}` is not KEY=VALUE")),
                },
                "-1" | "--stdout" | "-2" | "--stderr" => {
                    cx.report.approximated(&f, l, &setting, "the output goes to initkit's console log of the service");
                }
                "-m" | "--make-pidfile" | "-b" | "--background" => {
                    cx.report.approximated(
                        &f,
                        l,
                        &setting,
                        "initkit starts the daemon in the background and records its PID",
                    );
                }
                "-w" | "--wait" => {
                    cx.report.approximated(&f, l, &setting, "initkit's readiness wait applies ([ready])");
                }
                _ => cx.report.dropped(&f, l, &setting, "an option initkit has no equivalent for"),
            }
        }
    }
}

/// `retry="TERM/30/KILL/5"`: the stop signal and how long it waits.
fn retry(cx: &mut Context) {
    let Some((f, l, v)) = cx.scalar("retry") else { return };
    match sysv::retry_schedule(&v) {
        Some((_, _, true)) => cx.report.approximated(
            &f,
            l,
            "retry",
            "`forever` waits without end: initkit's stop ends after its timeout, then kills",
        ),
        Some((signal, secs, false)) => {
            cx.draft.set(&["stop"], "timeout", format!("{secs}s"));
            if let Some(signal) = signal.filter(|s| s != "TERM") {
                cx.draft.set(&["stop"], "signal", signal);
            }
            cx.report.carried(&f, l, "retry");
        }
        None => cx.report.dropped(&f, l, "retry", format!("`{v}` is not a schedule initkit reads")),
    }
}

/// `description` is the summary; `name` (openrc's display name) stands in without one.
fn text(cx: &mut Context) {
    let one_line = |s: &str| s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>();
    let description = cx.scalar("description");
    let shown = cx.scalar("name");
    if let Some((f, l, d)) = &description {
        let d = one_line(d).trim().trim_end_matches('\\').to_owned();
        if !d.is_empty() {
            cx.draft.set(&[], "summary", d.as_str());
        }
        cx.report.carried(f, *l, "description");
    }
    if let Some((f, l, n)) = &shown {
        let n = one_line(n).trim().trim_end_matches('\\').to_owned();
        if description.is_none() && !n.is_empty() {
            cx.draft.set(&[], "summary", n.as_str());
            cx.report.approximated(f, *l, "name", "the name openrc-run shows is the recipe's summary");
        } else {
            cx.report.approximated(f, *l, "name", "the name openrc-run shows: the recipe is named after the script");
        }
    }
}

/// Values nothing read: conf.d's exported ones are the daemon's
/// environment; the rest are reported.
pub fn leftovers(cx: &mut Context) {
    let vals = cx.vals.clone();
    for v in vals.iter().rev() {
        // Only the value that took effect, once.
        if vals.iter().rev().find(|x| x.key == v.key).is_some_and(|x| !std::ptr::eq(x, v)) {
            continue;
        }
        if READ.contains(&v.key.as_str()) || v.key.starts_with("description_") {
            if v.key.starts_with("description_") {
                cx.report.approximated(&v.file, v.line, &v.key, "the help text of an action of the script");
            }
            continue;
        }
        if cx.used.contains(&v.key) {
            continue;
        }
        if v.exported {
            let value = cx.expand(&v.value);
            if crate::recipe::template::reserved_var(&v.key).is_some() {
                cx.report.dropped(&v.file, v.line, &v.key, "an environment variable initkit sets itself");
            } else {
                cx.draft.set(&["run", "environment"], &v.key, lit(&value));
                cx.report.carried(&v.file, v.line, &v.key);
            }
        } else if v.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            cx.report.dropped(&v.file, v.line, &v.key, "an openrc-run setting initkit has no equivalent for");
        } else {
            cx.report.dropped(
                &v.file,
                v.line,
                &v.key,
                "not read by the command or an action the import carries (only by the script's shell code)",
            );
        }
    }
}
