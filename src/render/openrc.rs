//! The OpenRC service: an openrc-run script; instances are `NAME.INSTANCE`
//! links to it. Settings are read from the distribution's settings directory
//! as data, like every other target's.

use std::fmt::Write as _;

use super::{
    Artifact, Backend, Flavor, Layout, Options, Practice, Support, cron,
    facts::Settings,
    features::{self, Feature},
    logrotate, sh,
    shell::{
        OPENRC_MAIN, Script,
        generated::{self, Drop, Exec},
    },
};
use crate::recipe::Recipe;

pub struct Openrc;

/// The `handover` command of a recipe with `restart.handover`.
const OPENRC_HANDOVER: &str = "
# A restart with no window (restart.handover), after the config test; a plain
# one when the handover does not come through.
handover() {
    ik_instance || return 1
    if ! ik_configtest_one >/dev/null 2>&1; then
        ik_check_quiet
        ik_report_check
        return 1
    fi
    ik_lock || return 1
    ik_handover_restart_one
}
";

const HANDOVER_DESCRIPTION: &str = "# shellcheck disable=SC2034\n\
description_handover=\"Test the configuration, then restart with no window: the daemon hands its sockets over.\"\n";

impl Backend for Openrc {
    fn name(&self) -> &'static str {
        "openrc"
    }

    fn per_instance(&self) -> bool {
        false
    }

    /// OpenRC's own place: /etc/conf.d/NAME, and /etc/conf.d/NAME.INSTANCE for
    /// the NAME.INSTANCE service (openrc-run sources it too: what initkit
    /// writes there is quoted for sh as well).
    fn settings(&self, name: &str, layout: &Layout, _: Flavor) -> Settings {
        let dir = format!("{}/conf.d", layout.etc());
        Settings { service: format!("{dir}/{name}"), instance_prefix: format!("{dir}/{name}.") }
    }

    fn render(&self, recipe: &Recipe, options: &Options, _: Option<&str>) -> Vec<Artifact> {
        let name = &recipe.name;
        let handover = recipe.restart.handover.is_some();
        let mut header = String::from("#!/sbin/openrc-run\n# shellcheck shell=sh\n");
        let _ = write!(
            header,
            "# {summary}\n# Rendered by initkit from the recipe \"{name}\"; render again rather than edit.\n\
             # Instances: ln -s {name} /etc/init.d/{name}.INSTANCE; settings in {settings}, read as data.\n\n\
             # openrc-run reads these.\n\
             # shellcheck disable=SC2034\n\
             description={desc}\n\
             # shellcheck disable=SC2034\n\
             extra_commands=\"configtest\"\n\
             # shellcheck disable=SC2034\n\
             extra_started_commands=\"reload{handover}\"\n\
             # shellcheck disable=SC2034\n\
             description_configtest=\"Test the configuration.\"\n\
             # shellcheck disable=SC2034\n\
             description_reload=\"Test the configuration, then reload; a failing test changes nothing.\"\n{handover_description}\n",
            summary = sh::comment(&recipe.summary),
            settings = self.settings(name, &options.layout, options.flavor).described(recipe.instances.is_some()),
            desc = sh::quote(&recipe.summary),
            handover = if handover { " handover" } else { "" },
            handover_description = if handover { HANDOVER_DESCRIPTION } else { "" },
        );
        // openrc-run's restart is its own stop then start, which a script
        // cannot replace: a handover is a command of its own.
        let main = if handover { format!("{OPENRC_MAIN}{OPENRC_HANDOVER}") } else { OPENRC_MAIN.to_owned() };
        let script = Script {
            header,
            consts: generated::consts(recipe, options, &self.settings(name, &options.layout, options.flavor)),
            generated: generated::functions(
                recipe,
                options,
                Exec { drop: Drop::Setpriv, setsid: true, dies_with_parent: false },
                None,
            ),
            main: &main,
            // openrc-run's helpers (service_started, eerror, ...) live in its libexec bin.
            setup: "PATH=\"${RC_LIBEXECDIR:-/lib/rc}/bin:$PATH\"\n",
        };
        let path = format!("{}/init.d/{name}", options.layout.etc());
        let mut out = vec![cron::render(recipe, options, &path)];
        out.insert(0, Some(logrotate::render(recipe, options)));
        out.insert(0, Some(Artifact::new(path, 0o755, script.build())));
        out.into_iter().flatten().collect()
    }

    fn refusals(&self, recipe: &Recipe) -> Vec<String> {
        cron::refusals(recipe)
    }

    fn feature(&self, feature: Feature) -> Support {
        match feature {
            Feature::HandoverChild | Feature::HandoverSame => Support::Initkit(
                "the script's `handover` command, which `initkit restart` runs (openrc-run's own restart is a stop and a start)",
            ),
            other => features::scripted(
                other,
                Support::Native("depend(): need / use / after / before"),
                Support::Native("need: stopped with it"),
                Support::Native("depend(): provide"),
            ),
        }
    }

    #[allow(clippy::match_same_arms)] // a table: one row per practice
    fn support(&self, practice: Practice) -> Support {
        match practice {
            Practice::ConfigTestRestart => Support::Initkit("script: `stop_pre` on `RC_CMD=restart`"),
            Practice::ConfigTestReload | Practice::OwnReload | Practice::LsbCodes => Support::Initkit("script"),
            Practice::ProcessIdentity => Support::Initkit("as sysv"),
            Practice::RuntimeDirs => Support::Initkit("as sysv"),
            Practice::StopEscalation => Support::Initkit("as sysv"),
            Practice::PreStopHooks => Support::Native("hook point `stop_pre`; initkit runs the steps"),
            Practice::Instances => Support::Native("`NAME.INSTANCE` links"),
            Practice::Hardening => Support::No("OpenRC's sandboxing is not used"),
            Practice::Quoting => Support::Initkit("as sysv"),
            Practice::Registration => Support::Native("rc-update links"),
            Practice::Logs => Support::Initkit("as sysv"),
            Practice::Readiness => Support::Initkit("script waits"),
        }
    }
}
