//! `initkit start|stop|restart|reload|status|configtest`: one front-end for every
//! init system, with the config test in front of restart and reload.

use std::path::Path;

use super::{CliError, output::print};
use crate::{
    host::{
        action,
        config_test::{Check, config_test},
        driver::{Ctx, driver},
        lock::Lock,
        manifest::{self, Manifest},
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

pub fn run(spec: &str, action: Action, json: bool) -> Result<(), CliError> {
    let ServiceSpec { name, instance } = ServiceSpec::parse(spec).map_err(|e| CliError::msg(e.to_string()))?;
    let Some(m) = manifest::load(Path::new("/"), &name)? else {
        return Err(CliError::exit(
            5,
            format!("error: `{name}` is not installed: run `initkit install {name}` first\n"),
        ));
    };
    run_manifest(&m, action, instance.as_deref(), json)
}

fn human(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 86400 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
    }
}

/// Runs `action` on the installed service `m`: one instance, or all of them.
pub fn run_manifest(m: &Manifest, action: Action, instance: Option<&str>, json: bool) -> Result<(), CliError> {
    let instances: Vec<Option<String>> = match instance {
        Some(i) if !m.instances.iter().any(|x| x == i) => {
            let installed = if m.instances.is_empty() { "none".to_owned() } else { m.instances.join(", ") };
            return Err(CliError::exit(
                if action == Action::Status { 4 } else { 2 },
                format!("error: `{}@{i}` is not an installed instance (installed: {installed})\n", m.recipe),
            ));
        }
        Some(i) => vec![Some(i.to_owned())],
        None if m.instances.is_empty() => vec![None],
        None => m.instances.iter().cloned().map(Some).collect(),
    };
    let label = |i: &Option<String>| i.as_ref().map_or(m.recipe.clone(), |i| format!("{}@{i}", m.recipe));

    if action == Action::Status {
        return show_status(m, &instances, json);
    }
    // Status needs no recipe (a user who cannot read it still sees the state); the rest do.
    let root = Path::new("/");
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
        let mut report = String::new();
        for i in &instances {
            let values = settings::values(&recipe, Path::new("/"), m.target, m.flavor, i.as_deref());
            match config_test(&recipe, &values) {
                Check::Passed => report.push_str(&format!("{}: config test ok\n", label(i))),
                Check::None => report.push_str(&format!("{}: no config test (the recipe has none)\n", label(i))),
                Check::Failed(out) => {
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
        if !failures.is_empty() {
            return Err(CliError::exit(6, failures));
        }
        if action == Action::Configtest {
            return print(&report);
        }
    }

    let Some(host_action) = action.host() else { return Ok(()) };
    let ctx = Ctx { name: &m.recipe, recipe: &recipe, flavor: m.flavor };
    match driver(m.target).act(&ctx, host_action, &instances) {
        0 => Ok(()),
        code => Err(CliError::exit(code, String::new())),
    }
}

/// `initkit status`: each instance's state, from the manifest alone.
fn show_status(m: &Manifest, instances: &[Option<String>], json: bool) -> Result<(), CliError> {
    let label = |i: &Option<String>| i.as_ref().map_or(m.recipe.clone(), |i| format!("{}@{i}", m.recipe));
    let rows: Vec<_> = instances.iter().map(|i| driver(m.target).status(&m.recipe, i.as_deref())).collect();
    let code = rows.iter().map(|r| r.code).filter(|c| *c != 0).min().unwrap_or(0);
    if json {
        print(&(serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"))?;
    } else {
        let mut text = format!("{:<24} {:<8} {:>8}  {}\n", "INSTANCE", "STATE", "PID", "UPTIME");
        for (i, r) in instances.iter().zip(&rows) {
            let pid = r.pid.map_or("-".to_owned(), |p| p.to_string());
            let up = r.uptime_seconds.map_or("-".to_owned(), human);
            text.push_str(&format!("{:<24} {:<8} {pid:>8}  {up}\n", label(i), r.state.name()));
        }
        print(&text)?;
    }
    if code == 0 { Ok(()) } else { Err(CliError::exit(code, String::new())) }
}
