//! The SysV/LSB init script: one POSIX sh script per recipe that serves every
//! instance, with the LSB header (and chkconfig's on RHEL), and its logrotate snippet.

use std::fmt::Write as _;

use super::{
    Artifact, Backend, Flavor, Options, Practice, Support, cron,
    features::{self, Feature},
    logrotate, sh,
    shell::{
        SYSV_MAIN, Script,
        generated::{self, Drop, Exec},
    },
};
use crate::recipe::{Dep, Facility, Recipe};

pub struct Sysv;

/// An LSB name for a dependency: the script of a service (one script serves
/// every instance, so `postgresql@{instance}` is the `postgresql` script),
/// the facility a common systemd target stands for, or none.
pub fn lsb_name(dep: &Dep) -> Option<String> {
    match dep {
        Dep::Service(spec) => Some(spec.name.clone()),
        Dep::Instance(name) => Some(name.clone()),
        Dep::Unit(unit) => features::facility_of_unit(unit).map(str::to_owned),
    }
}

/// An LSB header list: each name once, in order.
fn lsb_list(names: impl IntoIterator<Item = String>) -> String {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out.join(" ")
}

/// The LSB facilities and scripts a recipe's daemon needs before it starts.
/// Every script touches /var, so `$remote_fs` always; `$syslog` for daemons
/// that log there.
fn required(recipe: &Recipe) -> String {
    let mut out = vec!["$remote_fs".to_owned(), "$syslog".to_owned()];
    for need in &recipe.needs {
        out.push(
            match need {
                Facility::Network => "$network",
                Facility::Names => "$named",
                Facility::Time => "$time",
                Facility::LocalFs => "$local_fs",
                Facility::Portmap => "$portmap",
                Facility::RemoteFs | Facility::Syslog => continue,
            }
            .to_owned(),
        );
    }
    let d = &recipe.depends;
    out.extend(d.requires.iter().chain(&d.binds_to).filter_map(lsb_name));
    lsb_list(out)
}

/// What it starts after when those are there (`Should-Start`): what it wants
/// and what it is ordered after.
fn wanted(recipe: &Recipe) -> String {
    let d = &recipe.depends;
    lsb_list(d.wants.iter().chain(&d.after).chain(&d.part_of).filter_map(lsb_name))
}

/// `Should-Start`, `Should-Stop` and `X-Start-Before`, when there are any.
fn should_lines(recipe: &Recipe) -> String {
    let mut out = String::new();
    let wanted = wanted(recipe);
    if !wanted.is_empty() {
        let _ = write!(out, "# Should-Start:      {wanted}\n# Should-Stop:       {wanted}\n");
    }
    let before = lsb_list(recipe.depends.before.iter().filter_map(lsb_name));
    if !before.is_empty() {
        let _ = write!(out, "# X-Start-Before:    {before}\n# X-Stop-After:      {before}\n");
    }
    out
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
         # Provides:          {provides}\n\
         # Required-Start:    {f}\n\
         # Required-Stop:     {f}\n\
         {should}\
         # Default-Start:     2 3 4 5\n\
         # Default-Stop:      0 1 6\n\
         # Short-Description: {summary}\n\
         # Description:       {folded}\n\
         ### END INIT INFO\n",
        provides = lsb_list(std::iter::once(recipe.name.clone()).chain(recipe.aliases.iter().cloned())),
        f = required(recipe),
        should = should_lines(recipe),
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
            settings = sh::comment(&self.settings(name, layout, flavor).described(recipe.instances.is_some())),
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
        let path = format!("{}/init.d/{name}", layout.etc());
        let mut out = vec![cron::render(recipe, options, &path)];
        out.insert(0, Some(logrotate::render(recipe, options)));
        out.insert(0, Some(Artifact::new(path, 0o755, script.build())));
        out.into_iter().flatten().collect()
    }

    fn refusals(&self, recipe: &Recipe) -> Vec<String> {
        cron::refusals(recipe)
    }

    fn feature(&self, feature: Feature) -> Support {
        features::scripted(
            feature,
            Support::Native("LSB Required-Start / Should-Start / X-Start-Before, ordered by insserv"),
            Support::Approx("required at boot; not stopped with it"),
            Support::Approx("LSB Provides: other scripts may depend on the name; the script keeps its own"),
        )
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
