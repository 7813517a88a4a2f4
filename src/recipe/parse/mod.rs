//! Reads a recipe's TOML into the validated model, reporting every problem at once.

use std::path::Path;

use toml_edit::{Document, Item};

mod conditions;
mod relations;
mod run;
mod scope;
mod steps;
mod systemd;

use super::{
    diagnostic::{Diagnostic, RecipeErrors},
    model::{Directories, Instances, Recipe, Restart, RestartPolicy, RunKind, Start, Test},
    name::{check_instance_name, is_recipe_name},
    read::{Reader, Tbl},
    template::Template,
    text::Kind,
};
use scope::Scope;

const TOP: &[&str] = &[
    "name",
    "summary",
    "description",
    "documentation",
    "needs",
    "aliases",
    "wanted_by",
    "depends",
    "conditions",
    "vars",
    "instances",
    "run",
    "directories",
    "check",
    "reload",
    "start",
    "stop",
    "ready",
    "restart",
    "schedule",
    "socket",
    "systemd",
];

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
    let own_name = name.as_ref().map(|(n, _)| n.clone());
    let summary = r.string(root, "summary", true, Kind::Line);
    let description = r.string(root, "description", false, Kind::Lines).map(|(s, _)| s);
    let documentation =
        r.strings(root, "documentation", Kind::Uri).unwrap_or_default().into_iter().map(|(s, _)| s).collect();
    let needs = relations::read_needs(r, root);
    let aliases = relations::read_aliases(r, root, own_name.as_deref());
    let wanted_by = relations::read_wanted_by(r, root);
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
    let depends = r
        .table(root, "depends", "depends")
        .map(|t| relations::read_depends(r, t, own_name.as_deref(), instances.is_some()))
        .unwrap_or_default();
    let mut scope = Scope { instances: instances.is_some(), dirs: [false; 3], vars: Vec::new() };

    let directories = r
        .table(root, "directories", "directories")
        .map_or_else(Directories::default, |t| run::read_directories(r, t, &scope));
    scope.dirs = [directories.runtime.is_some(), directories.state.is_some(), directories.logs.is_some()];

    let vars = r.table(root, "vars", "vars").map(|t| run::read_vars(r, t, &scope)).unwrap_or_default();
    scope.vars = vars.iter().map(|v| v.name.clone()).collect();
    let conditions = r
        .table(root, "conditions", "conditions")
        .map(|t| conditions::read_conditions(r, t, &scope))
        .unwrap_or_default();

    let systemd_table = r.table(root, "systemd", "systemd");
    let (systemd, notify) = systemd::read_systemd(r, systemd_table, &scope);
    let run = r.table(root, "run", "run");
    if run.is_none() && root.inner.get("run").is_none() {
        r.error("run", None, "missing required table [run] (the command to run and its user)");
    }
    let run = run.and_then(|t| run::read_run(r, t, &scope, notify));
    let check = r.table(root, "check", "check").and_then(|t| steps::read_check(r, t, &scope));
    let reload = r.table(root, "reload", "reload").and_then(|t| steps::read_reload(r, t, &scope));
    let start = match r.table(root, "start", "start") {
        Some(t) => steps::read_start(r, t, &scope),
        None => Some(Start::default()),
    };
    let stop = match r.table(root, "stop", "stop") {
        Some(t) => steps::read_stop(r, t, &scope),
        None => Some(steps::default_stop()),
    };
    let ready = r.table(root, "ready", "ready").and_then(|t| steps::read_ready(r, t, &scope));
    // A task is not restarted unless it says so; a daemon is, after a failure.
    let task = run.as_ref().is_some_and(|run| run.kind.is_oneshot());
    let restart = match r.table(root, "restart", "restart") {
        Some(t) => steps::read_restart(r, t, task),
        None => Some(Restart::default_for(task)),
    };
    let schedule = r.table(root, "schedule", "schedule").and_then(|t| systemd::read_schedule(r, t));
    let socket = r.table(root, "socket", "socket").and_then(|t| systemd::read_socket(r, t));

    let recipe = Recipe {
        name: name?.0,
        summary: summary?.0,
        description,
        documentation,
        needs,
        aliases,
        wanted_by,
        depends,
        conditions,
        vars,
        instances,
        run: run?,
        directories,
        check,
        reload,
        start: start?,
        stop: stop?,
        ready,
        restart: restart?,
        schedule,
        socket,
        systemd,
    };
    consistent(r, root, &recipe);
    // A variable nothing refers to is a mistake: a setting that changes nothing.
    let mut used: Vec<&str> = recipe.templates().into_iter().flat_map(Template::vars).collect();
    used.extend(recipe.conditions.setting.as_deref());
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

/// What the tables say together: a task has no readiness and no trial, a
/// schedule starts a task, an inetd-style socket makes its own instances.
fn consistent(r: &mut Reader<'_>, root: Tbl<'_>, recipe: &Recipe) {
    let span = |key: &str| root.inner.get_key_value(key).and_then(|(k, _)| k.span());
    let trial = recipe.check.as_ref().is_some_and(|c| c.test == Test::Trial);
    match &recipe.run.kind {
        RunKind::Oneshot { .. } => {
            if recipe.ready.is_some() {
                r.error_help(
                    "ready",
                    span("ready"),
                    "a task (`type = \"oneshot\"`) has no readiness: its start ends when it exits",
                    "remove [ready]",
                );
            }
            if trial {
                r.error("check.trial", span("check"), "a trial start needs a daemon; a task's run is its own test");
            }
            if recipe.reload.is_some() {
                r.error("reload", span("reload"), "a task (`type = \"oneshot\"`) has no reload");
            }
            if recipe.restart.handover.is_some() {
                r.error(
                    "restart.handover",
                    span("restart"),
                    "a task (`type = \"oneshot\"`) has no sockets to hand over: it runs to its end",
                );
            }
        }
        RunKind::Forking { .. } if trial => {
            r.error_help(
                "check.trial",
                span("check"),
                "a trial start needs the daemon in the foreground, where it can be watched",
                "run the daemon in the foreground (and drop `type = \"forking\"`), or give its config test as `command`",
            );
        }
        RunKind::Forking { .. } | RunKind::Foreground | RunKind::Notify => {}
    }
    if recipe.run.kind.is_oneshot()
        && matches!(recipe.restart.policy, RestartPolicy::Always | RestartPolicy::OnAbnormal)
    {
        r.error_help(
            "restart.policy",
            span("restart"),
            "a task (`type = \"oneshot\"`) ends by design: it cannot be restarted after every end",
            "use \"on-failure\", \"on-abort\" or \"no\", or a [schedule] to run it again",
        );
    }
    if recipe.schedule.is_some() && !recipe.run.kind.is_oneshot() {
        r.error_help(
            "schedule",
            span("schedule"),
            "a scheduled service is a task: it runs, ends, and runs again at the next time",
            "set `type = \"oneshot\"` in [run]",
        );
    }
    if let Some(socket) = &recipe.socket {
        if socket.accept && recipe.instances.is_some() {
            r.error(
                "socket.accept",
                span("socket"),
                "`accept = true` makes an instance per connection: it goes without [instances]",
            );
        }
        if recipe.schedule.is_some() {
            r.error("socket", span("socket"), "a service is started by a socket or by a schedule, not both");
        }
    }
}
