//! `[vars]`, `[directories]` and `[run]`: the settings, the directories and
//! how the command runs.

use toml_edit::Item;

use super::{
    super::{
        model::{BUILTIN_VARS, Directories, IoClass, Limits, Run, RunKind, Var},
        read::{Reader, Tbl, join},
        template::{is_var_name, reserved_var},
        text::Kind,
    },
    scope::{Scope, Uses, account, argv_in_scope, check_scope, choice, path_in_scope},
};

pub fn read_vars(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Vec<Var> {
    let mut vars = Vec::new();
    for (key, item) in t.inner.iter() {
        let field = join(t.path, key);
        let key_span = t.inner.get_key_value(key).and_then(|(k, _)| k.span());
        if !is_var_name(key) {
            r.error(
                &field,
                key_span,
                format!("`{key}` is not a variable name: use letters, digits and `_`, starting with a letter"),
            );
            continue;
        }
        if BUILTIN_VARS.contains(&key) {
            r.error(&field, key_span, format!("`{key}` is a built-in variable and cannot be redefined"));
            continue;
        }
        if let Some(why) = reserved_var(key) {
            r.error(&field, key_span, format!("`{key}` {why}: choose another name"));
            continue;
        }
        let Some(text) = item.as_str() else {
            r.error(&field, item.span(), "expected a string (the default value)");
            continue;
        };
        if let Some((default, span)) = r.parse_template(&field, text, item.span(), Kind::Line)
            && check_scope(r, &field, &default, span.as_ref(), scope, Uses::Basic)
        {
            vars.push(Var { name: key.to_owned(), default });
        }
    }
    vars
}

pub fn read_directories(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Directories {
    r.deny_unknown(t, &["runtime", "state", "logs", "mode"]);
    let mut one = |key: &str| {
        let (template, span) = r.template(t, key, false, Kind::ListPath)?;
        let field = join(t.path, key);
        let text = template.to_string();
        let ok = check_scope(r, &field, &template, span.as_ref(), scope, Uses::Basic);
        if text.starts_with('/') || text.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
            r.error(&field, span, format!("`{text}` must be a relative path without `.`, `..` or empty parts (it is placed under /run, /var/lib or /var/log)"));
            return None;
        }
        ok.then_some(template)
    };
    let runtime = one("runtime");
    let state = one("state");
    let logs = one("logs");
    Directories { runtime, state, logs, mode: r.octal(t, "mode") }
}

const RUN_KEYS: &[&str] = &[
    "command",
    "type",
    "pidfile",
    "remain",
    "executable",
    "user",
    "group",
    "working_directory",
    "environment",
    "environment_file",
    "umask",
    "limits",
    "success_codes",
    "nice",
    "oom_score_adjust",
    "io_class",
    "io_priority",
];

/// `run.type` and what goes with it. `notify` is the legacy `systemd.notify`.
fn read_kind(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope, notify: bool) -> Option<RunKind> {
    const KINDS: [(&str, &str); 4] =
        [("foreground", "foreground"), ("notify", "notify"), ("forking", "forking"), ("oneshot", "oneshot")];
    let kind = choice(r, t, "type", &KINDS);
    let span_of = |key: &str| t.inner.get_key_value(key).and_then(|(k, _)| k.span());
    let pidfile = path_in_scope(r, t, "pidfile", scope);
    let remain = r.bool(t, "remain");
    if kind != Some("forking") && t.inner.contains_key("pidfile") {
        r.error_help(
            "run.pidfile",
            span_of("pidfile"),
            "`pidfile` is the pidfile of a daemon that forks",
            "set `type = \"forking\"`, or remove it: initkit keeps the pidfile of a daemon in the foreground itself",
        );
    }
    if kind != Some("oneshot") && remain.is_some() {
        r.error_help("run.remain", span_of("remain"), "`remain` goes with `type = \"oneshot\"`", "remove it");
    }
    if notify && kind.is_some_and(|k| k != "notify") {
        r.error(
            "run.type",
            span_of("type"),
            "`systemd.notify = true` says the daemon is `type = \"notify\"`: give one of the two",
        );
    }
    Some(match kind {
        None if notify => RunKind::Notify,
        None | Some("foreground") => RunKind::Foreground,
        Some("notify") => RunKind::Notify,
        Some("forking") => {
            let Some(pidfile) = pidfile else {
                if !t.inner.contains_key("pidfile") {
                    r.error_help(
                        "run.pidfile",
                        span_of("type"),
                        "a forking daemon needs `pidfile`: where it writes its PID",
                        "or run it in the foreground (most daemons have a flag for it) and drop `type`",
                    );
                }
                return None;
            };
            RunKind::Forking { pidfile }
        }
        Some(_) => RunKind::Oneshot { remain: remain.unwrap_or(false) },
    })
}

pub fn read_run(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope, notify: bool) -> Option<Run> {
    r.deny_unknown(t, RUN_KEYS);
    let command = argv_in_scope(r, t, "command", true, scope);
    let kind = read_kind(r, t, scope, notify);
    let executable = r.string(t, "executable", false, Kind::Path).and_then(|(p, span)| {
        if p.starts_with('/') {
            Some(p)
        } else {
            r.error("run.executable", span, "must be an absolute path");
            None
        }
    });
    let user = match r.string(t, "user", true, Kind::Line) {
        Some((u, span)) if !crate::recipe::is_account_name(&u) => {
            r.error("run.user", span, format!("`{u}` is not a user name"));
            None
        }
        other => other.map(|(u, _)| u),
    };
    let group = account(r, t, "group");
    let working_directory = path_in_scope(r, t, "working_directory", scope);
    let environment = read_environment(r, t, scope);
    let environment_file = path_in_scope(r, t, "environment_file", scope);
    let umask = r.octal(t, "umask");
    let limits = r.table(t, "limits", "run.limits").map_or_else(Limits::default, |l| {
        r.deny_unknown(l, &["nofile", "nproc", "core", "memlock"]);
        Limits {
            nofile: r.unsigned(l, "nofile"),
            nproc: r.unsigned(l, "nproc"),
            core: r.unsigned(l, "core"),
            memlock: r.unsigned(l, "memlock"),
        }
    });
    let success_codes = r.exit_codes(t, "success_codes");
    let nice = r.integer(t, "nice", -20..=19).and_then(|n| i8::try_from(n).ok());
    let oom_score_adjust = r.integer(t, "oom_score_adjust", -1000..=1000).and_then(|n| i16::try_from(n).ok());
    let io_class = choice(r, t, "io_class", &IoClass::ALL);
    let io_priority = r.integer(t, "io_priority", 0..=7).and_then(|n| u8::try_from(n).ok());
    let io = match (io_class, io_priority) {
        (Some(IoClass::Idle), Some(_)) => {
            let span = t.inner.get("io_priority").and_then(Item::span);
            r.error("run.io_priority", span, "the `idle` class has no priority");
            None
        }
        (Some(class), priority) => Some((class, priority)),
        (None, Some(p)) => Some((IoClass::BestEffort, Some(p))),
        (None, None) => None,
    };
    Some(Run {
        command: command?,
        kind: kind?,
        executable,
        user: user?,
        group,
        working_directory,
        environment,
        environment_file,
        umask,
        limits,
        success_codes,
        nice,
        oom_score_adjust,
        io,
    })
}

fn read_environment(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Vec<(String, crate::recipe::Template)> {
    let mut environment = Vec::new();
    let Some(env) = r.table(t, "environment", "run.environment") else { return environment };
    for (key, item) in env.inner.iter() {
        let field = join(env.path, key);
        let valid = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            let span = env.inner.get_key_value(key).and_then(|(k, _)| k.span());
            r.error(&field, span, format!("`{key}` is not an environment variable name"));
            continue;
        }
        match item.as_str() {
            Some(text) => {
                if let Some((value, span)) = r.parse_template(&field, text, item.span(), Kind::Line)
                    && check_scope(r, &field, &value, span.as_ref(), scope, Uses::All)
                {
                    environment.push((key.to_owned(), value));
                }
            }
            None => r.error(&field, item.span(), "expected a string"),
        }
    }
    environment
}
