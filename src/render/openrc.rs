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
use crate::recipe::{Dep, Recipe};

pub struct Openrc;

/// The end of `depend()` in the main, where a recipe's relations go.
const DEPEND_END: &str = "    after firewall\n}\n";

/// A recipe's relations as `depend()` lines: `need` for what it requires
/// (OpenRC stops it when that stops), `use` for what it wants, `after` and
/// `before` for order. A service's instance is its `NAME.INSTANCE` link;
/// the same instance of another service (`postgresql@{instance}`) is that
/// service's link named like this one's (`postgresql.15-main` for
/// `pg_dump.15-main`), or its plain script for the plain one.
fn depend_lines(recipe: &Recipe) -> String {
    let d = &recipe.depends;
    let name = |dep: &Dep| match dep {
        Dep::Service(s) => Some(sh::quote(&match &s.instance {
            Some(i) => format!("{}.{i}", s.name),
            None => s.name.clone(),
        })),
        Dep::Instance(n) => Some(format!("{}\"$ik_i\"", sh::quote(n))),
        // A systemd unit: the facilities are the static `use` above.
        Dep::Unit(_) => None,
    };
    let ordered = d.ordered_after();
    let after: Vec<&Dep> = ordered.into_iter().filter(|x| !d.wants.contains(x)).chain(&d.part_of).collect();
    let mut s = String::new();
    if d.relations().iter().flat_map(|(_, l)| l.iter()).any(|x| matches!(x, Dep::Instance(_))) {
        s.push_str("    case $RC_SVCNAME in \"$NAME\".*) ik_i=.${RC_SVCNAME#\"$NAME\".} ;; *) ik_i='' ;; esac\n");
    }
    let required: Vec<&Dep> = d.required().collect();
    for (word, list) in
        [("need", required), ("use", d.wants.iter().collect()), ("after", after), ("before", d.before.iter().collect())]
    {
        let names: Vec<String> = list.into_iter().filter_map(name).collect();
        if !names.is_empty() {
            let _ = writeln!(s, "    {word} {}", names.join(" "));
        }
    }
    s
}

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
            settings = sh::comment(
                &self.settings(name, &options.layout, options.flavor).described(recipe.instances.is_some())
            ),
            desc = sh::quote(&recipe.summary),
            handover = if handover { " handover" } else { "" },
            handover_description = if handover { HANDOVER_DESCRIPTION } else { "" },
        );
        let main = OPENRC_MAIN.replacen(
            DEPEND_END,
            &format!(
                "    after firewall
{}}}
",
                depend_lines(recipe)
            ),
            1,
        );
        // openrc-run's restart is its own stop then start, which a script
        // cannot replace: a handover is a command of its own.
        let main = if handover { format!("{main}{OPENRC_HANDOVER}") } else { main };
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
                Support::Approx("binds_to is `need`: stopped with it; part_of is `after`: not stopped with it"),
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
