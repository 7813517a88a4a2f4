//! runit: a service directory per instance under /etc/sv, with `run` (the
//! daemon replaces it, leading a process group of its own), `check`
//! (readiness for `sv start`), `control/t` (the pre-stop steps before the
//! stop signal), `finish` (records the exit and ends what the daemon left in
//! its group), and an svlogd `log/run`.
//! A user's (`--user`) are in `$XDG_CONFIG_HOME/sv`, linked into `~/service`
//! (Void Linux's per-user convention), for a runsvdir running as the user.

use super::{
    Artifact, Backend, Layout, Options, Practice, Support, facts,
    facts::Stamp,
    features::{self, Feature},
    service_dir::{Logger, current_log, log_dir, log_run, script, script_with},
    shell::{
        RUNIT_CHECK, RUNIT_CONTROL, RUNIT_FINISH, RUNIT_RUN,
        generated::{Drop, Exec},
    },
    user,
};
use crate::recipe::Recipe;

pub struct Runit;

/// Where runit keeps definitions, and the scan directory enabled ones are linked into.
pub const DIRS: (&str, &str) = ("/etc/sv", "/etc/service");

/// [`DIRS`] for a layout, host paths under its root: a user's definitions
/// in `$XDG_CONFIG_HOME/sv` (as a user's other configuration), and the scan
/// directory `~/service`, which Void Linux's handbook has a user's own
/// runsvdir watch (its `sv` then takes `SVDIR=~/service`).
pub fn dirs(layout: &Layout) -> (String, String) {
    match &layout.user {
        Some(u) => (format!("{}{}/sv", layout.root, u.config), format!("{}{}/service", layout.root, u.home)),
        None => (format!("{}{}", layout.root, DIRS.0), format!("{}{}", layout.root, DIRS.1)),
    }
}

/// svlogd, each line stamped with UTC (`-tt`: `2024-01-15_10:20:30.12345`).
pub const LOGGER: Logger = Logger { command: "svlogd -tt", stamp: Stamp::Utc };

impl Backend for Runit {
    fn name(&self) -> &'static str {
        "runit"
    }

    fn per_instance(&self) -> bool {
        true
    }

    /// A user's own runsvdir runs the service directories in `~/service`.
    fn per_user(&self) -> bool {
        true
    }

    fn render(&self, recipe: &Recipe, options: &Options, instance: Option<&str>) -> Vec<Artifact> {
        let (layout, name) = (&options.layout, &recipe.name);
        // A user's runsvdir runs everything as the user already: no chpst -u.
        let own = layout.user.as_ref().map(|u| user::own(recipe, u));
        let recipe = own.as_ref().unwrap_or(recipe);
        let drop = if own.is_some() { Drop::Own } else { Drop::Chpst };
        // runsv runs ./run in its own process group (runsvdir -P gives each
        // runsv a session): the daemon leads a group of its own, for ./finish.
        let exec = Exec { drop, setsid: true, dies_with_parent: false };
        let dir = format!("{}/{}", dirs(layout).0, facts::service_name(name, instance));
        let mut out = vec![
            Artifact::new(
                format!("{dir}/run"),
                0o755,
                script(recipe, options, exec, instance, "runit run script", RUNIT_RUN),
            ),
            Artifact::new(
                format!("{dir}/finish"),
                0o755,
                script(recipe, options, exec, instance, "runit finish script", RUNIT_FINISH),
            ),
            Artifact::new(
                format!("{dir}/control/t"),
                0o755,
                script_with(
                    recipe,
                    options,
                    exec,
                    instance,
                    "runit stop hook (control/t)",
                    RUNIT_CONTROL,
                    vec![("RUNIT_LOG", current_log(layout, name, instance))],
                ),
            ),
            Artifact::new(format!("{dir}/log/run"), 0o755, log_run(&log_dir(layout, name, instance), LOGGER)),
        ];
        if recipe.ready.is_some() {
            // `sv start` and `sv check` wait until ./check succeeds.
            out.push(Artifact::new(
                format!("{dir}/check"),
                0o755,
                script(recipe, options, exec, instance, "runit readiness check", RUNIT_CHECK),
            ));
        }
        out
    }

    fn feature(&self, feature: Feature) -> Support {
        features::supervised(feature)
    }

    #[allow(clippy::match_same_arms)] // a table: one row per practice
    fn support(&self, practice: Practice) -> Support {
        match practice {
            Practice::ConfigTestRestart | Practice::ConfigTestReload => Support::Initkit("front-end"),
            Practice::OwnReload => Support::Native("`sv hup/1/2/...`"),
            Practice::LsbCodes => Support::Initkit("front-end"),
            Practice::ProcessIdentity => {
                Support::Native("supervised child, leading its own process group, which `finish` ends")
            }
            Practice::RuntimeDirs => Support::Initkit("run script"),
            Practice::StopEscalation => Support::Native("`sv -w N force-stop`"),
            Practice::PreStopHooks => Support::Native("`control/t`"),
            Practice::Instances => Support::Native("a directory per instance"),
            Practice::Hardening => Support::No("runit has no sandbox"),
            Practice::Quoting => Support::Initkit("as sysv"),
            Practice::Registration => Support::Native("scan-dir link"),
            Practice::Logs => Support::Native("svlogd"),
            Practice::Readiness => Support::Native("`check` script, `sv start` waits"),
        }
    }
}
