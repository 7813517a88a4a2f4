//! Reads a recipe's TOML into the validated model, reporting every problem at once.

use std::{ops::Range, path::Path};

use toml_edit::{Document, Item};

use super::{
    diagnostic::{Diagnostic, RecipeErrors},
    model::{
        BUILTIN_VARS, Check, Directories, Facility, Hook, HookAction, Instances, Limits, Ready, ReadyCheck, Recipe,
        Reload, Run, Stop, Systemd, Test, Var, is_account_name,
    },
    name::{check_instance_name, is_recipe_name},
    read::{Reader, Tbl, join},
    signal::Signal,
    template::{Segment, Template, is_var_name},
    text::Kind,
};

const TOP: &[&str] = &[
    "name",
    "summary",
    "description",
    "documentation",
    "needs",
    "vars",
    "instances",
    "run",
    "directories",
    "check",
    "reload",
    "stop",
    "ready",
    "systemd",
];

/// Which variables a template may refer to.
struct Scope {
    instances: bool,
    dirs: [bool; 3],
    vars: Vec<String>,
}

/// Which variables a field may use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Uses {
    /// `{name}` and `{instance}`: defaults and directories, resolved before anything else.
    Basic,
    /// Those and the directories: a path in a directive that expands no
    /// settings (systemd's `WorkingDirectory=`, `EnvironmentFile=`).
    Paths,
    /// Every variable.
    All,
}

impl Scope {
    fn allows(&self, var: &str, uses: Uses) -> Result<(), String> {
        match var {
            "name" => Ok(()),
            "instance" if self.instances => Ok(()),
            "instance" => Err("`{instance}` is used but the recipe has no [instances] table".into()),
            _ if uses == Uses::Basic => {
                Err(format!("`{{{var}}}` cannot be used here: only `{{name}}` and `{{instance}}` can"))
            }
            _ if uses == Uses::Paths && !matches!(var, "runtime_dir" | "state_dir" | "logs_dir") => Err(format!(
                "`{{{var}}}` cannot be used in this path: systemd expands no settings there; use `{{name}}`, `{{instance}}` or a directory variable"
            )),
            "runtime_dir" | "state_dir" | "logs_dir" => {
                let i = ["runtime_dir", "state_dir", "logs_dir"].iter().position(|d| *d == var).unwrap_or(0);
                if self.dirs[i] {
                    Ok(())
                } else {
                    let key = ["runtime", "state", "logs"][i];
                    Err(format!("`{{{var}}}` is used but [directories] has no `{key}`"))
                }
            }
            _ if self.vars.iter().any(|v| v == var) => Ok(()),
            _ => Err(format!(
                "unknown variable `{{{var}}}`: declare it under [vars], or use one of {}",
                BUILTIN_VARS.map(|b| format!("{{{b}}}")).join(", ")
            )),
        }
    }
}

/// Parses and validates a recipe. `path` is only used in messages.
pub fn parse_recipe(path: &Path, text: &str) -> Result<Recipe, RecipeErrors> {
    let fail = |diagnostics| RecipeErrors { path: path.to_owned(), source_text: text.to_owned(), diagnostics };
    let document = match Document::parse(text.to_owned()) {
        Ok(d) => d,
        Err(e) => {
            let message = e.message().trim_end().to_owned();
            return Err(fail(vec![Diagnostic { field: String::new(), message, span: e.span(), help: None }]));
        }
    };
    let mut r = Reader::new(text);
    let root = Tbl::new(document.as_table(), Some(0..0), "");
    let recipe = read_recipe(&mut r, root);
    match recipe {
        Some(recipe) if r.diagnostics.is_empty() => Ok(recipe),
        _ => {
            let mut diagnostics = r.diagnostics;
            diagnostics.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
            Err(fail(diagnostics))
        }
    }
}

fn read_recipe(r: &mut Reader<'_>, root: Tbl<'_>) -> Option<Recipe> {
    r.deny_unknown(root, TOP);
    let name = r.string(root, "name", true, Kind::Line);
    if let Some((name, span)) = &name
        && !is_recipe_name(name)
    {
        r.error(
            "name",
            span.clone(),
            format!("`{name}` is not a recipe name: use lowercase letters, digits, `-` and `_`"),
        );
    }
    let summary = r.string(root, "summary", true, Kind::Line);
    let description = r.string(root, "description", false, Kind::Lines).map(|(s, _)| s);
    let documentation =
        r.strings(root, "documentation", Kind::Uri).unwrap_or_default().into_iter().map(|(s, _)| s).collect();
    let needs = match r.strings(root, "needs", Kind::Line) {
        None => vec![Facility::Network],
        Some(list) => list
            .into_iter()
            .enumerate()
            .filter_map(|(i, (text, span))| {
                let found = Facility::ALL.iter().find(|(_, n)| *n == text).map(|(f, _)| *f);
                if found.is_none() {
                    let names: Vec<&str> = Facility::ALL.iter().map(|(_, n)| *n).collect();
                    r.error(
                        &format!("needs[{i}]"),
                        span,
                        format!("`{text}` is not a facility initkit knows: use {}", names.join(", ")),
                    );
                }
                found
            })
            .collect(),
    };

    let instances = r.table(root, "instances", "instances").map(|t| {
        r.deny_unknown(t, &["default"]);
        let default =
            r.string(t, "default", false, Kind::Line).and_then(|(name, span)| match check_instance_name(&name) {
                Ok(()) => Some(name),
                Err(e) => {
                    r.error("instances.default", span, e.to_string());
                    None
                }
            });
        Instances { default }
    });
    let mut scope = Scope { instances: instances.is_some(), dirs: [false; 3], vars: Vec::new() };

    let directories = r
        .table(root, "directories", "directories")
        .map_or_else(Directories::default, |t| read_directories(r, t, &scope));
    scope.dirs = [directories.runtime.is_some(), directories.state.is_some(), directories.logs.is_some()];

    let vars = r.table(root, "vars", "vars").map(|t| read_vars(r, t, &scope)).unwrap_or_default();
    scope.vars = vars.iter().map(|v| v.name.clone()).collect();

    let run = r.table(root, "run", "run");
    if run.is_none() && root.inner.get("run").is_none() {
        r.error("run", None, "missing required table [run] (the command to run and its user)");
    }
    let run = run.and_then(|t| read_run(r, t, &scope));
    let check = r.table(root, "check", "check").and_then(|t| read_check(r, t, &scope));
    let reload = r.table(root, "reload", "reload").and_then(|t| read_reload(r, t, &scope));
    let stop = match r.table(root, "stop", "stop") {
        Some(t) => read_stop(r, t, &scope),
        None => Some(Stop { signal: Signal::Term, timeout_ms: 30_000, before: Vec::new() }),
    };
    let ready = r.table(root, "ready", "ready").and_then(|t| read_ready(r, t, &scope));
    let systemd_table = r.table(root, "systemd", "systemd");
    let systemd = read_systemd(r, systemd_table, &scope);

    let recipe = Recipe {
        name: name?.0,
        summary: summary?.0,
        description,
        documentation,
        needs,
        vars,
        instances,
        run: run?,
        directories,
        check,
        reload,
        stop: stop?,
        ready,
        systemd,
    };
    // A variable nothing refers to is a mistake: a setting that changes nothing.
    let used: Vec<&str> = recipe.templates().into_iter().flat_map(Template::vars).collect();
    if let Some(vars) = root.inner.get("vars").and_then(Item::as_table_like) {
        for var in &recipe.vars {
            if !used.contains(&var.name.as_str()) {
                let span = vars.get_key_value(&var.name).and_then(|(k, _)| k.span());
                r.error_help(
                    &format!("vars.{}", var.name),
                    span,
                    format!("variable `{}` is never used", var.name),
                    "refer to it as `{name}` in a command, path or environment value, or remove it"
                        .replace("name", &var.name),
                );
            }
        }
    }
    Some(recipe)
}

/// Checks that every variable in `template` is in scope, pointing at the string if not.
fn check_scope(
    r: &mut Reader<'_>,
    field: &str,
    template: &Template,
    span: Option<&Range<usize>>,
    scope: &Scope,
    uses: Uses,
) -> bool {
    let mut ok = true;
    for var in template.vars() {
        if let Err(message) = scope.allows(var, uses) {
            r.error(field, span.cloned(), message);
            ok = false;
        }
    }
    ok
}

/// An absolute path in a directive that expands no settings.
fn path_in_scope(r: &mut Reader<'_>, t: Tbl<'_>, key: &str, scope: &Scope) -> Option<Template> {
    let (template, span) = r.template(t, key, false, Kind::Path)?;
    let field = join(t.path, key);
    absolute_path(r, &field, &template, span, scope).then_some(template)
}

/// Whether a path template starts with `/` or a directory variable and uses
/// only what a path directive can expand; reports it when not.
fn absolute_path(
    r: &mut Reader<'_>,
    field: &str,
    template: &Template,
    span: Option<Range<usize>>,
    scope: &Scope,
) -> bool {
    let absolute = match template.segments.first() {
        Some(Segment::Literal(l)) => l.starts_with('/'),
        Some(Segment::Var(v)) => matches!(v.as_str(), "runtime_dir" | "state_dir" | "logs_dir"),
        None => false,
    };
    if !absolute {
        r.error(field, span, "must be an absolute path: start with `/` or a directory variable such as `{state_dir}`");
        return false;
    }
    check_scope(r, field, template, span.as_ref(), scope, Uses::Paths)
}

fn argv_in_scope(r: &mut Reader<'_>, t: Tbl<'_>, key: &str, required: bool, scope: &Scope) -> Option<Vec<Template>> {
    let (argv, _) = r.argv(t, key, required)?;
    let field = join(t.path, key);
    let mut ok = true;
    for (i, (arg, span)) in argv.iter().enumerate() {
        ok &= check_scope(r, &format!("{field}[{i}]"), arg, span.as_ref(), scope, Uses::All);
    }
    let program = argv[0].0.as_literal();
    if !program.as_deref().is_some_and(|p| p.starts_with('/')) {
        r.error_help(
            &format!("{field}[0]"),
            argv[0].1.clone(),
            "the program must be an absolute path without variables",
            "init systems do not search PATH the same way; write for example \"/usr/bin/redis-server\"",
        );
        ok = false;
    }
    ok.then(|| argv.into_iter().map(|(t, _)| t).collect())
}

fn account(r: &mut Reader<'_>, t: Tbl<'_>, key: &str) -> Option<String> {
    let (name, span) = r.string(t, key, false, Kind::Line)?;
    if is_account_name(&name) {
        Some(name)
    } else {
        r.error(&join(t.path, key), span, format!("`{name}` is not a user or group name"));
        None
    }
}

/// `[check]`: the daemon's config test (`command`), or a trial start
/// (`trial = true`) for a daemon that has none.
fn read_check(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Option<Check> {
    r.deny_unknown(t, &["command", "user", "timeout", "trial"]);
    let has = |key: &str| t.inner.get(key).is_some();
    if has("trial") {
        for key in ["command", "user", "timeout"] {
            if let Some((k, _)) = t.inner.get_key_value(key) {
                r.error_help(
                    &join(t.path, key),
                    k.span(),
                    format!("`{key}` does not go with `trial`"),
                    "a trial start runs the service's own command as its user, within its readiness budget ([ready] timeout)",
                );
            }
        }
        if r.bool(t, "trial") == Some(false) {
            let span = t.inner.get("trial").and_then(Item::span);
            r.error_help(
                "check.trial",
                span,
                "`trial = false` says nothing",
                "give the config test as `command`, or remove [check] when the service has no gate",
            );
        }
        return Some(Check { test: Test::Trial, user: None, timeout_ms: 0 });
    }
    // Every field is read, so every problem is reported, before any is used.
    let command = argv_in_scope(r, t, "command", true, scope);
    let user = account(r, t, "user");
    let timeout_ms = r.duration(t, "timeout", false).unwrap_or(30_000);
    Some(Check { test: Test::Command(command?), user, timeout_ms })
}

fn read_vars(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Vec<Var> {
    let mut vars = Vec::new();
    for (key, item) in t.inner.iter() {
        let field = join(t.path, key);
        let key_span = t.inner.get_key_value(key).and_then(|(k, _)| k.span());
        if !is_var_name(key) {
            r.error(
                &field,
                key_span,
                format!(
                    "`{key}` is not a variable name: use lowercase letters, digits and `_`, starting with a letter"
                ),
            );
            continue;
        }
        if BUILTIN_VARS.contains(&key) {
            r.error(&field, key_span, format!("`{key}` is a built-in variable and cannot be redefined"));
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

fn read_directories(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Directories {
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

fn read_run(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Option<Run> {
    r.deny_unknown(
        t,
        &[
            "command",
            "executable",
            "user",
            "group",
            "working_directory",
            "environment",
            "environment_file",
            "umask",
            "limits",
        ],
    );
    let command = argv_in_scope(r, t, "command", true, scope);
    let executable = r.string(t, "executable", false, Kind::Path).and_then(|(p, span)| {
        if p.starts_with('/') {
            Some(p)
        } else {
            r.error("run.executable", span, "must be an absolute path");
            None
        }
    });
    let user = match r.string(t, "user", true, Kind::Line) {
        Some((u, span)) if !is_account_name(&u) => {
            r.error("run.user", span, format!("`{u}` is not a user name"));
            None
        }
        other => other.map(|(u, _)| u),
    };
    let group = account(r, t, "group");
    let working_directory = path_in_scope(r, t, "working_directory", scope);
    let mut environment = Vec::new();
    if let Some(env) = r.table(t, "environment", "run.environment") {
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
    }
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
    Some(Run {
        command: command?,
        executable,
        user: user?,
        group,
        working_directory,
        environment,
        environment_file,
        umask,
        limits,
    })
}

fn read_reload(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Option<Reload> {
    r.deny_unknown(t, &["signal", "command"]);
    match (t.inner.contains_key("signal"), t.inner.contains_key("command")) {
        (true, false) => signal(r, t, "signal").map(Reload::Signal),
        (false, true) => argv_in_scope(r, t, "command", true, scope).map(Reload::Command),
        _ => {
            r.error("reload", t.span(), "give exactly one of `signal` or `command`");
            None
        }
    }
}

fn signal(r: &mut Reader<'_>, t: Tbl<'_>, key: &str) -> Option<Signal> {
    let (text, span) = r.string(t, key, false, Kind::Line)?;
    Signal::parse(&text).map_err(|e| r.error(&join(t.path, key), span, e)).ok()
}

fn read_stop(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Option<Stop> {
    r.deny_unknown(t, &["signal", "timeout", "before"]);
    // Every field is read, so every problem is reported, before any is used.
    let signal = if t.inner.contains_key("signal") { signal(r, t, "signal") } else { Some(Signal::Term) };
    let timeout_ms = r.duration(t, "timeout", false).unwrap_or(30_000);
    let mut before = Vec::new();
    let mut ok = true;
    match t.inner.get("before") {
        None => {}
        Some(Item::ArrayOfTables(hooks)) => {
            for (i, hook) in hooks.iter().enumerate() {
                let path = format!("stop.before[{i}]");
                let ht = Tbl::new(hook, hook.span(), &path);
                match read_hook(r, ht, scope) {
                    Some(h) => before.push(h),
                    None => ok = false,
                }
            }
        }
        Some(other) => {
            r.error("stop.before", other.span(), "expected [[stop.before]] tables, one per hook");
            ok = false;
        }
    }
    let signal = signal?;
    ok.then_some(Stop { signal, timeout_ms, before })
}

fn read_hook(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Option<Hook> {
    r.deny_unknown(t, &["description", "run", "poll", "interval", "timeout", "user"]);
    let description = r.string(t, "description", true, Kind::Line).map(|(d, _)| d);
    let timeout_ms = r.duration(t, "timeout", true);
    let user = account(r, t, "user");
    let action = match (t.inner.contains_key("run"), t.inner.contains_key("poll")) {
        (true, false) => argv_in_scope(r, t, "run", true, scope).map(HookAction::Run),
        (false, true) => {
            let interval_ms = r.duration(t, "interval", false).unwrap_or(1_000);
            argv_in_scope(r, t, "poll", true, scope).map(|command| HookAction::Poll { command, interval_ms })
        }
        _ => {
            r.error(
                t.path,
                t.span(),
                "give exactly one of `run` (a command run once) or `poll` (a command retried until it succeeds)",
            );
            None
        }
    };
    Some(Hook { description: description?, action: action?, timeout_ms: timeout_ms?, user })
}

fn read_ready(r: &mut Reader<'_>, t: Tbl<'_>, scope: &Scope) -> Option<Ready> {
    r.deny_unknown(t, &["tcp", "command", "timeout"]);
    let timeout_ms = r.duration(t, "timeout", false).unwrap_or(10_000);
    let check = match (t.inner.contains_key("tcp"), t.inner.contains_key("command")) {
        (true, false) => {
            let (tcp, span) = r.template(t, "tcp", true, Kind::Path)?;
            let ok = check_scope(r, "ready.tcp", &tcp, span.as_ref(), scope, Uses::All);
            if !tcp.to_string().contains(':') {
                r.error("ready.tcp", span, "expected `host:port`, for example \"{bind}:{port}\"");
                return None;
            }
            ok.then_some(ReadyCheck::Tcp(tcp))?
        }
        (false, true) => ReadyCheck::Command(argv_in_scope(r, t, "command", true, scope)?),
        _ => {
            r.error("ready", t.span(), "give exactly one of `tcp` or `command`");
            return None;
        }
    };
    Some(Ready { check, timeout_ms })
}

fn read_systemd(r: &mut Reader<'_>, t: Option<Tbl<'_>>, scope: &Scope) -> Systemd {
    let mut systemd = Systemd {
        exposure_max: 2.0,
        capabilities: Vec::new(),
        memory_deny_write_execute: true,
        address_families: vec!["AF_UNIX".into(), "AF_INET".into(), "AF_INET6".into()],
        write_paths: Vec::new(),
        notify: false,
    };
    let Some(t) = t else { return systemd };
    r.deny_unknown(
        t,
        &["exposure_max", "capabilities", "memory_deny_write_execute", "address_families", "write_paths", "notify"],
    );
    if let Some(max) = r.float(t, "exposure_max") {
        if (0.0..=10.0).contains(&max) {
            systemd.exposure_max = max;
        } else {
            let span = t.inner.get("exposure_max").and_then(Item::span);
            r.error(
                "systemd.exposure_max",
                span,
                "must be between 0.0 and 10.0, the range systemd-analyze security scores in",
            );
        }
    }
    if let Some(caps) = r.strings(t, "capabilities", Kind::Line) {
        for (cap, span) in caps {
            if cap.starts_with("CAP_") && cap[4..].chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                systemd.capabilities.push(cap);
            } else {
                r.error(
                    "systemd.capabilities",
                    span,
                    format!("`{cap}` is not a capability name such as CAP_NET_BIND_SERVICE"),
                );
            }
        }
    }
    if let Some(families) = r.strings(t, "address_families", Kind::Line) {
        systemd.address_families.clear();
        for (family, span) in families {
            if family.starts_with("AF_") && family[3..].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
                systemd.address_families.push(family);
            } else {
                r.error(
                    "systemd.address_families",
                    span,
                    format!("`{family}` is not an address family such as AF_INET"),
                );
            }
        }
    }
    if let Some(paths) = r.strings(t, "write_paths", Kind::ListPath) {
        for (i, (text, span)) in paths.into_iter().enumerate() {
            let field = format!("systemd.write_paths[{i}]");
            if let Some((path, span)) = r.parse_template(&field, &text, span, Kind::ListPath)
                && absolute_path(r, &field, &path, span, scope)
            {
                systemd.write_paths.push(path);
            }
        }
    }
    if let Some(b) = r.bool(t, "memory_deny_write_execute") {
        systemd.memory_deny_write_execute = b;
    }
    if let Some(b) = r.bool(t, "notify") {
        systemd.notify = b;
    }
    systemd
}
