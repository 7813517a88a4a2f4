//! After a start, restart or reload: whether each instance came back ready,
//! its config recorded as the last known good when it did, and with
//! `--rollback` the last known good put back and restarted when it did not.

use std::collections::BTreeMap;

use super::CliError;
use crate::{
    host::{
        action::Action as HostAction,
        driver::{Ctx, driver_of},
        good::{self, Record},
        log_time, logs,
        manifest::Manifest,
        scope::Place,
        settings,
        verify::{self, Instance},
    },
    recipe::Recipe,
};

/// The exit code of a restart or reload whose instance did not come back ready
/// (LSB's "program is not running"), rolled back or not.
pub const NOT_READY: i32 = 7;
/// How many lines of the log an error shows.
const LOG_LINES: usize = 10;

/// The instances a change touched, with their settings' values.
pub struct Touched<'a> {
    pub root: &'a Place,
    pub manifest: &'a Manifest,
    pub recipe: &'a Recipe,
    pub instances: &'a [Option<String>],
}

impl Touched<'_> {
    fn values(&self, instance: Option<&str>) -> BTreeMap<String, String> {
        settings::values(self.recipe, self.root, self.manifest.target, self.manifest.flavor, instance)
    }

    fn label(&self, instance: Option<&str>) -> String {
        instance.map_or_else(|| self.manifest.recipe.clone(), |i| format!("{}@{i}", self.manifest.recipe))
    }

    fn config_files(&self, instance: Option<&str>, values: &BTreeMap<String, String>) -> Vec<String> {
        good::config_files(
            self.recipe,
            values,
            self.manifest.target,
            &self.root.layout(),
            self.manifest.flavor,
            instance,
        )
    }

    /// Records the instance's config as its last known good; a failure to
    /// record is a warning (the service itself is fine).
    fn record(&self, instance: Option<&str>, values: &BTreeMap<String, String>) {
        let files = self.config_files(instance, values);
        if files.is_empty() {
            return;
        }
        if let Err(e) = good::record(self.root, &self.manifest.recipe, instance, &files) {
            eprintln!(
                "warning: {}: its config could not be recorded as the last known good: {e}",
                self.label(instance)
            );
        }
    }
}

/// After a start that succeeded (the scripts and units wait for readiness
/// themselves): the config of each instance it started (`t.instances`, those
/// not running before) is its last known good.
pub fn started(t: &Touched<'_>) {
    for i in t.instances {
        t.record(i.as_deref(), &t.values(i.as_deref()));
    }
}

/// After a restart or reload that returned `code`: every instance watched
/// until ready; the ready ones' configs recorded; the others reported with
/// the readiness error and their log's last lines, and with `rollback`
/// given back their last known good config and restarted.
pub fn verified(t: &Touched<'_>, verb: &str, code: i32, rollback: bool) -> Result<(), CliError> {
    let drv = driver_of(t.manifest);
    let values: Vec<BTreeMap<String, String>> = t.instances.iter().map(|i| t.values(i.as_deref())).collect();
    let watched: Vec<Instance<'_>> =
        t.instances.iter().zip(&values).map(|(i, v)| Instance { instance: i.as_deref(), values: v }).collect();
    let verdicts = verify::came_back(drv, t.recipe, &t.manifest.recipe, &watched, code != 0);
    let mut errors = String::new();
    for ((i, v), verdict) in t.instances.iter().zip(&values).zip(verdicts) {
        let i = i.as_deref();
        match verdict {
            Ok(()) => t.record(i, v),
            Err(why) => {
                errors.push_str(&format!("error: {}: did not come back ready after {verb}: {why}\n", t.label(i)));
                errors.push_str(&log_tail(t, i));
                if rollback {
                    errors.push_str(&rolled_back(t, i, v));
                } else if good::records(t.root, &t.manifest.recipe, i).first().is_some_and(|r| !good::matches(r)) {
                    errors.push_str(&format!(
                        "hint: `initkit {verb} --rollback {}` puts back its last known good config (`initkit history {0}` lists them)\n",
                        t.label(i)
                    ));
                }
            }
        }
    }
    match (errors.is_empty(), code) {
        (true, 0) => Ok(()),
        (true, code) => Err(CliError::exit(code, String::new())),
        (false, _) => Err(CliError::exit(NOT_READY, errors)),
    }
}

/// The last lines of the instance's log, indented, under where it is.
fn log_tail(t: &Touched<'_>, instance: Option<&str>) -> String {
    let source = driver_of(t.manifest).log_source(t.manifest, instance);
    let lines = logs::recent(&t.root.root, &source, LOG_LINES);
    if lines.is_empty() {
        return format!("  (its log, {}, has nothing to show)\n", logs::described(&source));
    }
    let mut out = format!("  the last lines of its log ({}):\n", logs::described(&source));
    for l in lines {
        out.push_str("    ");
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// Puts the instance's last known good config back and restarts it; what
/// was done, in words.
fn rolled_back(t: &Touched<'_>, instance: Option<&str>, values: &BTreeMap<String, String>) -> String {
    let label = t.label(instance);
    let Some(last) = good::records(t.root, &t.manifest.recipe, instance).into_iter().next() else {
        return format!(
            "rollback: {label} has no known good config recorded (one is recorded each time a start, restart or reload comes back ready): nothing was rolled back\n"
        );
    };
    if good::matches(&last) {
        return format!(
            "rollback: {label}'s config is already its last known good one (recorded {}): the failure is not its config's, so nothing was rolled back\n",
            when(&last)
        );
    }
    let restored = match good::restore(&last) {
        Ok(restored) => restored,
        Err(e) => return format!("rollback: {label}: putting back the config recorded {} failed: {e}\n", when(&last)),
    };
    let mut out = format!(
        "rollback: {label}: put back the config recorded {} ({}){}\n",
        when(&last),
        restored.files.join(", "),
        restored.aside.map_or_else(String::new, |d| format!("; the versions that failed are kept in {}", d.display()))
    );
    let ctx = Ctx { name: &t.manifest.recipe, recipe: t.recipe, flavor: t.manifest.flavor };
    let drv = driver_of(t.manifest);
    let code = drv.act(&ctx, HostAction::Restart, &[instance.map(str::to_owned)]);
    let again = verify::came_back(drv, t.recipe, &t.manifest.recipe, &[Instance { instance, values }], code != 0);
    match again.into_iter().next().unwrap_or(Ok(())) {
        Ok(()) => out.push_str(&format!("rollback: {label}: restarted with it, and it is ready again\n")),
        Err(why) => out.push_str(&format!(
            "rollback: {label}: restarted with it (exit {code}), but it did not come back ready either: {why}\n"
        )),
    }
    out
}

/// When a record was made, in local time.
pub fn when(r: &Record) -> String {
    r.time().map_or_else(|| r.time_ms.to_string(), log_time::shown)
}
