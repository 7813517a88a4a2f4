//! daemontools: a service directory per instance under /etc/daemontools/sv,
//! whose `run` is the shared stop wrapper, with a multilog `log/run`.

use super::{
    Artifact, Backend, Options, Practice, Support, facts,
    facts::Stamp,
    features::{self, Feature},
    service_dir::{Logger, log_dir, log_run, script},
    shell::{
        WRAPPER_MAIN,
        generated::{Drop, Exec},
    },
};
use crate::recipe::Recipe;

pub struct Daemontools;

/// Where daemontools keeps definitions, and the scan directory enabled ones are linked into.
pub const DIRS: (&str, &str) = ("/etc/daemontools/sv", "/etc/service");

/// multilog, each line stamped with a TAI64N label (`t`), ten archives of 1 MB kept.
pub const LOGGER: Logger = Logger { command: "multilog t n10 s1000000", stamp: Stamp::Tai64n };

impl Backend for Daemontools {
    fn name(&self) -> &'static str {
        "daemontools"
    }

    fn per_instance(&self) -> bool {
        true
    }

    fn render(&self, recipe: &Recipe, options: &Options, instance: Option<&str>) -> Vec<Artifact> {
        let dir = format!("{}{}/{}", options.layout.root, DIRS.0, facts::service_name(&recipe.name, instance));
        let exec = Exec { drop: Drop::Setuidgid, setsid: true, dies_with_parent: true };
        vec![
            Artifact::new(
                format!("{dir}/run"),
                0o755,
                script(recipe, options, exec, instance, "daemontools run script", WRAPPER_MAIN),
            ),
            Artifact::new(
                format!("{dir}/log/run"),
                0o755,
                log_run(&log_dir(&options.layout, &recipe.name, instance), LOGGER),
            ),
        ]
    }

    fn feature(&self, feature: Feature) -> Support {
        features::supervised(feature)
    }

    #[allow(clippy::match_same_arms)] // a table: one row per practice
    fn support(&self, practice: Practice) -> Support {
        match practice {
            Practice::ConfigTestRestart => Support::Initkit("front-end"),
            Practice::ConfigTestReload => Support::Initkit("front-end and wrapper"),
            Practice::OwnReload => Support::Initkit("as s6"),
            Practice::LsbCodes => Support::Initkit("front-end"),
            Practice::ProcessIdentity => Support::Native("as s6"),
            Practice::RuntimeDirs => Support::Initkit("run script"),
            Practice::StopEscalation => {
                Support::Initkit("front-end: `svc -d`, then `svc -k`; the wrapper kills the daemon's group")
            }
            Practice::PreStopHooks => Support::Initkit("shared wrapper"),
            Practice::Instances => Support::Native("a directory per instance"),
            Practice::Hardening => Support::No("daemontools has no sandbox"),
            Practice::Quoting => Support::Initkit("as sysv"),
            Practice::Registration => Support::Native("scan-dir link"),
            Practice::Logs => Support::Native("multilog"),
            Practice::Readiness => Support::Initkit("front-end polls `svstat`"),
        }
    }
}
