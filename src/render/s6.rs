//! s6: a service directory per instance under /etc/s6/sv, whose `run` is the
//! shared stop wrapper (s6 has no pre-stop hook), with readiness on s6's
//! notification fd, a `timeout-kill`, and an s6-log `log/run`. A user's
//! (`--user`) are in `$XDG_CONFIG_HOME/s6/sv`, linked into
//! `$XDG_CONFIG_HOME/s6/service`, for an s6-svscan running as the user.

use super::{
    Artifact, Backend, Layout, Options, Practice, Support, facts,
    facts::Stamp,
    features::{self, Feature},
    service_dir::{Logger, finish, log_dir, log_run, script_with},
    shell::{
        WRAPPER_MAIN,
        generated::{Drop, Exec},
    },
    user,
};
use crate::recipe::Recipe;

pub struct S6;

/// Where s6 keeps definitions, and the scan directory enabled ones are linked into.
pub const DIRS: (&str, &str) = ("/etc/s6/sv", "/etc/s6/service");

/// [`DIRS`] for a layout, host paths under its root: a user's definitions
/// in `$XDG_CONFIG_HOME/s6/sv`, and the scan directory
/// `$XDG_CONFIG_HOME/s6/service` that an s6-svscan of the user's own watches
/// (s6 has no convention of its own for a user's services).
pub fn dirs(layout: &Layout) -> (String, String) {
    match &layout.user {
        Some(u) => (format!("{}{}/s6/sv", layout.root, u.config), format!("{}{}/s6/service", layout.root, u.config)),
        None => (format!("{}{}", layout.root, DIRS.0), format!("{}{}", layout.root, DIRS.1)),
    }
}

/// s6-log, each line stamped with local time (`T`: `2024-01-15 10:20:30.123456789`
/// and two spaces), ten archives of 1 MB kept (`n10 s1000000`).
pub const LOGGER: Logger = Logger { command: "s6-log -b n10 s1000000 T", stamp: Stamp::Local };

/// The fd s6 reads readiness from.
const NOTIFY_FD: u8 = 3;

impl Backend for S6 {
    fn name(&self) -> &'static str {
        "s6"
    }

    fn per_instance(&self) -> bool {
        true
    }

    /// A user's own s6-svscan runs the service directories it scans.
    fn per_user(&self) -> bool {
        true
    }

    fn render(&self, recipe: &Recipe, options: &Options, instance: Option<&str>) -> Vec<Artifact> {
        let layout = &options.layout;
        // A user's s6-svscan runs everything as the user already: no s6-setuidgid.
        let own = layout.user.as_ref().map(|u| user::own(recipe, u));
        let recipe = own.as_ref().unwrap_or(recipe);
        let drop = if own.is_some() { Drop::Own } else { Drop::S6 };
        let dir = format!("{}/{}", dirs(layout).0, facts::service_name(&recipe.name, instance));
        let notify = recipe.ready.is_some();
        let fd = if notify { NOTIFY_FD.to_string() } else { String::new() };
        let mut out = vec![
            Artifact::new(
                format!("{dir}/run"),
                0o755,
                script_with(
                    recipe,
                    options,
                    Exec { drop, setsid: true, dies_with_parent: true },
                    instance,
                    "s6 run script",
                    WRAPPER_MAIN,
                    vec![("NOTIFY_FD", fd)],
                ),
            ),
            Artifact::new(format!("{dir}/finish"), 0o755, finish(recipe, instance)),
            // s6-supervise sends KILL when a stop takes longer than this (ms).
            Artifact::new(format!("{dir}/timeout-kill"), 0o644, format!("{}\n", facts::stop_budget_ms(recipe) + 5_000)),
            Artifact::new(
                format!("{dir}/log/run"),
                0o755,
                log_run(&log_dir(&options.layout, &recipe.name, instance), LOGGER),
            ),
        ];
        if notify {
            out.push(Artifact::new(format!("{dir}/notification-fd"), 0o644, format!("{NOTIFY_FD}\n")));
        }
        out
    }

    fn feature(&self, feature: Feature) -> Support {
        features::supervised(feature)
    }

    #[allow(clippy::match_same_arms)] // a table: one row per practice
    fn support(&self, practice: Practice) -> Support {
        match practice {
            Practice::ConfigTestRestart => Support::Initkit("front-end"),
            Practice::ConfigTestReload => Support::Initkit("front-end and wrapper"),
            Practice::OwnReload => Support::Initkit("SIGHUP to the wrapper, which sends the daemon's signal"),
            Practice::LsbCodes => Support::Initkit("front-end"),
            Practice::ProcessIdentity => Support::Native(
                "supervised child; the wrapper's child in its own process group, its PID and start time in a root-owned file",
            ),
            Practice::RuntimeDirs => Support::Initkit("run script"),
            Practice::StopEscalation => Support::Native("`timeout-kill`; the wrapper kills the daemon's group"),
            Practice::PreStopHooks => Support::Initkit("shared wrapper: no pre-stop hook in s6"),
            Practice::Instances => Support::Native("a directory per instance"),
            Practice::Hardening => Support::No("s6 has no sandbox"),
            Practice::Quoting => Support::Initkit("as sysv"),
            Practice::Registration => Support::Native("scan-dir link"),
            Practice::Logs => Support::Native("s6-log"),
            Practice::Readiness => Support::Native("`notification-fd`, the wrapper writes it"),
        }
    }
}
