//! The SysV/LSB init script: one POSIX sh script per recipe that serves every
//! instance, with the LSB header (and chkconfig's on RHEL), and its logrotate snippet.

use std::fmt::Write as _;

use super::{
    Artifact, Backend, Flavor, Options, Practice, Support, logrotate, sh,
    shell::{
        SYSV_MAIN, Script,
        generated::{self, Drop, Exec},
    },
};
use crate::recipe::{Facility, Recipe};

pub struct Sysv;

/// The LSB facilities a recipe's daemon needs before it starts. Every script
/// touches /var, so `$remote_fs` always; `$syslog` for daemons that log there.
fn facilities(recipe: &Recipe) -> String {
    let mut out = vec!["$remote_fs", "$syslog"];
    for need in &recipe.needs {
        out.push(match need {
            Facility::Network => "$network",
            Facility::Names => "$named",
            Facility::Time => "$time",
            Facility::RemoteFs => continue,
        });
    }
    out.join(" ")
}

fn header(recipe: &Recipe, flavor: Flavor) -> String {
    let mut out = String::from("#!/bin/sh\n");
    let summary = sh::comment(&recipe.summary);
    let description = recipe.description.as_deref().unwrap_or(&recipe.summary);
    // LSB continues a field on lines that start with `#` and two spaces.
    let folded = description.lines().map(sh::comment).collect::<Vec<_>>().join("\n#  ");
    if flavor == Flavor::Rhel {
        // chkconfig reads these; start late (80) and stop early (20).
        let _ = writeln!(out, "# chkconfig: 2345 80 20\n# description: {summary}");
    }
    let _ = write!(
        out,
        "### BEGIN INIT INFO\n\
         # Provides:          {name}\n\
         # Required-Start:    {f}\n\
         # Required-Stop:     {f}\n\
         # Default-Start:     2 3 4 5\n\
         # Default-Stop:      0 1 6\n\
         # Short-Description: {summary}\n\
         # Description:       {folded}\n\
         ### END INIT INFO\n",
        name = recipe.name,
        f = facilities(recipe),
    );
    out
}

impl Backend for Sysv {
    fn name(&self) -> &'static str {
        "sysv"
    }

    fn per_instance(&self) -> bool {
        false
    }

    fn render(&self, recipe: &Recipe, options: &Options, _: Option<&str>) -> Vec<Artifact> {
        let layout = &options.layout;
        let flavor = options.flavor;
        let name = &recipe.name;
        let mut header = header(recipe, flavor);
        let usage = if recipe.instances.is_some() { " [INSTANCE]" } else { "" };
        let _ = write!(
            header,
            "#\n# {summary}\n#\n\
             # Rendered by initkit from the recipe \"{name}\"; change the recipe and render again\n\
             # rather than editing this file. Usage: {initd}/{name} ACTION{usage}\n\
             # Settings: KEY=VALUE lines in {settings}, read as data.\n\
             # No `set -e` (Debian Policy 9.3.2): every failure is handled where it happens.\n\n",
            summary = sh::comment(&recipe.summary),
            initd = layout.etc() + "/init.d",
            settings = self.settings(name, layout, flavor).described(recipe.instances.is_some()),
        );
        let script = Script {
            header,
            consts: generated::consts(recipe, options, &self.settings(name, layout, flavor)),
            generated: generated::functions(
                recipe,
                options,
                Exec { drop: Drop::Setpriv, setsid: true, dies_with_parent: false },
                None,
            ),
            main: SYSV_MAIN,
            setup: "",
        };
        vec![
            Artifact::new(format!("{}/init.d/{name}", layout.etc()), 0o755, script.build()),
            logrotate::render(recipe, options),
        ]
    }

    #[allow(clippy::match_same_arms)] // a table: one row per practice
    fn support(&self, practice: Practice) -> Support {
        match practice {
            Practice::ConfigTestRestart | Practice::ConfigTestReload => Support::Initkit("script"),
            Practice::OwnReload => Support::Initkit("script signals the verified PID"),
            Practice::LsbCodes => Support::Initkit("script"),
            Practice::ProcessIdentity => Support::Initkit(
                "root-owned pidfile with the PID's start time; the daemon leads its own process group, which stop ends",
            ),
            Practice::RuntimeDirs => Support::Initkit("mkdir at start, symlinks refused"),
            Practice::StopEscalation => Support::Initkit("poll /proc, KILL to the process group"),
            Practice::PreStopHooks => Support::Initkit("script"),
            Practice::Instances => Support::Initkit("one script, `start INSTANCE`"),
            Practice::Hardening => Support::No("SysV has no sandbox"),
            Practice::Quoting => Support::Initkit("single quotes, values as data"),
            Practice::Registration => Support::Initkit("update-rc.d / chkconfig, or rc links under --root"),
            Practice::Logs => Support::Initkit("console log + logrotate snippet"),
            Practice::Readiness => Support::Initkit("script waits"),
        }
    }
}
