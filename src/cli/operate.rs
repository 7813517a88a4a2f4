//! `initkit start|stop|restart|reload|status|configtest`: one front-end for every
//! init system, with the config test in front of restart and reload.

use super::{CliError, change, output::print, resolve, status, suggest};
use crate::{
    host::{
        action::{self, State},
        config_test::{Check, config_test},
        driver::{Ctx, driver_of},
        handover,
        lock::Lock,
        manifest::{self, Manifest},
        scope::Place,
        settings,
    },
    recipe::{ServiceSpec, parse_recipe},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Restart,
    Reload,
    Status,
    Configtest,
}

impl Action {
    fn native(self) -> &'static str {
        match self.host() {
            Some(a) => a.verb(),
            None if self == Action::Status => "status",
            None => "configtest",
        }
    }

    /// What the init system carries out, for the commands it does.
    fn host(self) -> Option<action::Action> {
        match self {
            Action::Start => Some(action::Action::Start),
            Action::Stop => Some(action::Action::Stop),
            Action::Restart => Some(action::Action::Restart),
            Action::Reload => Some(action::Action::Reload),
            Action::Status | Action::Configtest => None,
        }
    }
}

/// Runs `action` on every service and instance the specs name (`NAME` alone:
/// all its instances); the exit code is the worst of them. `status` with no
/// spec shows everything installed.
pub fn run(root: &Place, specs: &[String], action: Action, json: bool, rollback: bool) -> Result<(), CliError> {
    let mut targets: Vec<(Manifest, Option<String>)> = Vec::new();
    let mut errors = String::new();
    let mut worst = 0;
    if specs.is_empty() {
        let (all, damaged) = manifest::load_all(root)?;
        for e in damaged {
            errors.push_str(&format!("error: {e}\n"));
            worst = worst.max(4);
        }
        targets.extend(all.into_iter().map(|m| (m, None)));
    }
    for spec in specs {
        let ServiceSpec { name, instance } = ServiceSpec::parse(spec).map_err(|e| CliError::msg(e.to_string()))?;
        match manifest::load(root, &name) {
            Ok(Some(m)) => targets.push((m, instance)),
            Ok(None) => {
                errors.push_str(&not_installed(root, &name));
                worst = worst.max(if action == Action::Status { 4 } else { 5 });
            }
            Err(e) => {
                errors.push_str(&format!("error: {e}\n"));
                worst = worst.max(if action == Action::Status { 4 } else { 1 });
            }
        }
    }
    if action == Action::Status {
        let code = status::show(&targets, json)?;
        eprint!("{errors}");
        let code = if worst == 0 { code } else { code.max(worst) };
        return if code == 0 { Ok(()) } else { Err(CliError::exit(code, String::new())) };
    }
    let mut reports = Vec::new();
    for (m, instance) in &targets {
        match run_manifest(m, action, instance.as_deref(), json, rollback) {
            Ok(report) => reports.extend(report),
            Err(CliError::Exit(code, message)) => {
                errors.push_str(&message);
                worst = worst.max(code);
            }
            Err(e) => {
                errors.push_str(&e.to_string());
                worst = worst.max(1);
            }
        }
    }
    if action == Action::Configtest {
        if reports.iter().any(|r| r.result == "failed") {
            worst = worst.max(6);
        }
        if json {
            print(&(serde_json::to_string_pretty(&reports).unwrap_or_default() + "\n"))?;
        } else {
            let mut text = String::new();
            for r in &reports {
                if r.result == "failed" {
                    let indented = r.message.lines().fold(String::new(), |acc, l| acc + "    " + l + "\n");
                    errors.push_str(&format!("error: {}: config test failed:\n{indented}", r.service));
                } else {
                    text.push_str(&format!("{}: {}\n", r.service, r.message));
                }
            }
            print(&text)?;
        }
    }
    if worst == 0 { Ok(()) } else { Err(CliError::exit(worst, errors)) }
}

/// One instance's config test, as `configtest --json` reports it.
#[derive(Debug, serde::Serialize)]
pub struct TestReport {
    pub service: String,
    pub instance: Option<String>,
    /// `ok`, `none` (the recipe has no config test) or `failed`.
    pub result: &'static str,
    pub message: String,
}

/// Why `name` cannot be acted on (nothing under `root` records it), and the
/// closest name that could.
pub(super) fn not_installed(root: &Place, name: &str) -> String {
    let installed: Vec<String> =
        manifest::load_all(root).map(|(all, _)| all.into_iter().map(|m| m.recipe).collect()).unwrap_or_default();
    let in_catalogue = resolve::catalogue().ok().is_some_and(|c| c.get(name).is_some());
    let hint = suggest::hint(name, installed.iter().map(String::as_str));
    if in_catalogue {
        format!("error: `{name}` is not installed: run `initkit install {name}` first{hint}\n")
    } else {
        format!("error: nothing named `{name}` is installed, and no recipe has that name{hint}\n")
    }
}

/// Why `NAME@i` names nothing installed: the instances that are, and the closest.
pub(super) fn unknown_instance(m: &Manifest, i: &str) -> String {
    let installed = if m.instances.is_empty() { "none".to_owned() } else { m.instances.join(", ") };
    format!(
        "error: `{}@{i}` is not an installed instance (installed: {installed}){}\n",
        m.recipe,
        suggest::hint(i, m.instances.iter().map(String::as_str))
    )
}

/// Runs `action` on the installed service `m`: one instance, or all of them;
/// for `configtest`, what each instance's test said.
pub fn run_manifest(
    m: &Manifest,
    action: Action,
    instance: Option<&str>,
    json: bool,
    rollback: bool,
) -> Result<Vec<TestReport>, CliError> {
    let instances: Vec<Option<String>> = match instance {
        Some(i) if !m.instances.iter().any(|x| x == i) => {
            return Err(CliError::exit(if action == Action::Status { 4 } else { 2 }, unknown_instance(m, i)));
        }
        Some(i) => vec![Some(i.to_owned())],
        None if m.instances.is_empty() => vec![None],
        None => m.instances.iter().cloned().map(Some).collect(),
    };
    let label = |i: &Option<String>| i.as_ref().map_or(m.recipe.clone(), |i| format!("{}@{i}", m.recipe));

    if action == Action::Status {
        let targets: Vec<(Manifest, Option<String>)> = instances.iter().map(|i| (m.clone(), i.clone())).collect();
        return match status::show(&targets, json)? {
            0 => Ok(Vec::new()),
            code => Err(CliError::exit(code, String::new())),
        };
    }
    // Status needs no recipe (a user who cannot read it still sees the state); the rest do.
    let root = &Place::of(m)?;
    let text = manifest::recipe_text(root, m)?;
    let recipe = parse_recipe(&manifest::recipe_path(root, &m.recipe)?, &text)?;
    // One action on a service at a time; the config test and the action belong together.
    let _lock = if action == Action::Configtest {
        None
    } else {
        Some(Lock::service(root, &m.recipe, &format!("running {} on {}", action.native(), m.recipe))?)
    };

    if matches!(action, Action::Restart | Action::Reload | Action::Configtest) {
        if action == Action::Reload && recipe.reload.is_none() {
            return Err(CliError::exit(3, format!("error: `{}` has no reload; use restart\n", m.recipe)));
        }
        // Every instance's config is tested before any is touched (systemd stops a
        // service before ExecStartPre runs, so the unit alone cannot protect a restart).
        let mut failures = String::new();
        let mut report = Vec::new();
        for i in &instances {
            let values = settings::values(&recipe, root, m.target, m.flavor, i.as_deref());
            let row = |result, message: &str| TestReport {
                service: label(i),
                instance: i.clone(),
                result,
                message: message.to_owned(),
            };
            match config_test(&recipe, &values) {
                Check::Passed => report.push(row("ok", "config test ok")),
                Check::None => report.push(row("none", "no config test (the recipe has none)")),
                Check::Failed(out) => {
                    report.push(row("failed", out.trim_end()));
                    let indented: String = out.lines().fold(String::new(), |mut acc, l| {
                        acc.push_str("    ");
                        acc.push_str(l);
                        acc.push('\n');
                        acc
                    });
                    failures.push_str(&format!(
                        "error: {}: config test failed; nothing was changed:\n{indented}",
                        label(i)
                    ));
                }
            }
        }
        if action == Action::Configtest {
            // Every instance's result, failures included: the caller reports them.
            return Ok(report);
        }
        if !failures.is_empty() {
            return Err(CliError::exit(6, failures));
        }
    }

    let Some(host_action) = action.host() else { return Ok(Vec::new()) };
    let ctx = Ctx { name: &m.recipe, recipe: &recipe, flavor: m.flavor };
    // A start records only what it started: a running daemon may hold an older config than its files.
    let stopped: Vec<Option<String>> = if action == Action::Start {
        instances
            .iter()
            .filter(|i| driver_of(m).status(&m.recipe, i.as_deref()).state != State::Running)
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    if action == Action::Restart
        && let Some(why) = handover::plain_reason(&recipe, m.target)
    {
        // The recipe says how its daemon hands over; this init system cannot.
        eprintln!("note: {}: a plain restart under {}: {why}", m.recipe, m.target.name());
    }
    let code = driver_of(m).act(&ctx, host_action, &instances);
    let touched = change::Touched { root, manifest: m, recipe: &recipe, instances: &instances };
    match (action, code) {
        (Action::Restart | Action::Reload, code) => change::verified(&touched, action.native(), code, rollback)?,
        (Action::Start, 0) => change::started(&change::Touched { instances: &stopped, ..touched }),
        (_, 0) => {}
        (_, code) => return Err(CliError::exit(code, String::new())),
    }
    Ok(Vec::new())
}
