//! `initkit status`: every installed service and instance (or those named),
//! its target, whether it starts at boot, its state, PID, uptime and how its
//! last process ended; a table
//! on a terminal, JSON with `--json`. The exit code is LSB's, the worst row's.

use super::{CliError, output::print};
use crate::host::{action::Status, driver::driver_of, manifest::Manifest};

/// One row of the overview.
#[derive(Debug, serde::Serialize)]
pub struct Row {
    pub service: String,
    pub target: &'static str,
    pub enabled: bool,
    #[serde(flatten)]
    pub status: Status,
}

fn human(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 86400 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
    }
}

/// Prints the rows of `targets` (an instance, or all of a service's with
/// `None`); returns the LSB status code they add up to: 0 when all run,
/// else the first of 1 (dead or failed), 3 (stopped), 4 (unknown).
pub fn show(targets: &[(Manifest, Option<String>)], json: bool) -> Result<i32, CliError> {
    let mut rows = Vec::new();
    for (m, instance) in targets {
        let instances: Vec<Option<String>> = match instance {
            Some(i) => vec![Some(i.clone())],
            None if m.instances.is_empty() => vec![None],
            None => m.instances.iter().cloned().map(Some).collect(),
        };
        let drv = driver_of(m);
        for i in instances {
            let status = drv.status(&m.recipe, i.as_deref());
            rows.push(Row {
                service: i.as_ref().map_or(m.recipe.clone(), |i| format!("{}@{i}", m.recipe)),
                target: m.target.name(),
                enabled: drv.enabled(std::path::Path::new("/"), m, i.as_deref()),
                status,
            });
        }
    }
    let code = rows.iter().map(|r| r.status.code).filter(|c| *c != 0).min().unwrap_or(0);
    if json {
        print(&(serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"))?;
        return Ok(code);
    }
    if rows.is_empty() {
        print("nothing is installed\n")?;
        return Ok(0);
    }
    let width = rows.iter().map(|r| r.service.len()).max().unwrap_or(0).max(7);
    let mut text = format!(
        "{:<width$}  {:<11}  {:<7}  {:<8}  {:>8}  {:<7}  LAST EXIT\n",
        "SERVICE", "TARGET", "ENABLED", "STATE", "PID", "UPTIME"
    );
    for r in &rows {
        let pid = r.status.pid.map_or("-".to_owned(), |p| p.to_string());
        let up = r.status.uptime_seconds.map_or("-".to_owned(), human);
        let enabled = if r.enabled { "yes" } else { "no" };
        let last = r.status.last_exit.as_deref().unwrap_or("-");
        text.push_str(&format!(
            "{:<width$}  {:<11}  {enabled:<7}  {:<8}  {pid:>8}  {up:<7}  {last}\n",
            r.service,
            r.target,
            r.status.state.name()
        ));
    }
    print(&text)?;
    Ok(code)
}
