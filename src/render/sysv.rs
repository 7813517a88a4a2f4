//! The SysV/LSB init script: one POSIX sh script per recipe that serves every instance.

use std::fmt::Write as _;

use super::{
    Artifact, Flavor, Options,
    service_sh::{Drop, SERVICE_LIB, preamble},
    sh,
};
use crate::recipe::Recipe;

/// Start, stop, status and friends for one instance; SysV and OpenRC share them.
pub const ACTIONS: &str = include_str!("actions.sh");
const SYSV_MAIN: &str = include_str!("sysv_main.sh");

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
         # Required-Start:    $remote_fs $syslog $network\n\
         # Required-Stop:     $remote_fs $syslog $network\n\
         # Default-Start:     2 3 4 5\n\
         # Default-Stop:      0 1 6\n\
         # Short-Description: {summary}\n\
         # Description:       {folded}\n\
         ### END INIT INFO\n",
        name = recipe.name,
    );
    out
}

pub fn render(recipe: &Recipe, options: &Options) -> Artifact {
    let layout = &options.layout;
    let flavor = options.flavor;
    let name = &recipe.name;
    let mut s = header(recipe, flavor);
    let usage = if recipe.instances.is_some() { " [INSTANCE]" } else { "" };
    let _ = write!(
        s,
        "#\n# {summary}\n#\n\
         # Rendered by initkit from the recipe \"{name}\"; change the recipe and render again\n\
         # rather than editing this file. Usage: {initd}/{name} ACTION{usage}\n\
         # Settings: KEY=VALUE lines in {settings}/{name}{instance_note}, read as data.\n\n",
        summary = sh::comment(&recipe.summary),
        initd = layout.etc() + "/init.d",
        settings = layout.settings(flavor),
        instance_note = if recipe.instances.is_some() {
            format!(", then {}/{name}.d/INSTANCE", layout.settings(flavor))
        } else {
            String::new()
        },
    );
    // Values are single-quoted on purpose, `$` included: SC2016 would flag each one.
    s.push_str("# shellcheck disable=SC2016\n");
    // No `set -e` (Debian Policy 9.3.2): every failure is handled where it happens.
    s.push_str(&preamble(recipe, options, Drop::Setpriv { setsid: true }));
    s.push_str(SERVICE_LIB);
    s.push_str(ACTIONS);
    s.push_str(SYSV_MAIN);
    Artifact { path: format!("{}/init.d/{name}", layout.etc()), mode: 0o755, content: s }
}
