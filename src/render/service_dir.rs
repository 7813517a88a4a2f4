//! What the service-directory supervisors (runit, s6, daemontools) and
//! supervisord share: where they keep definitions, the shell scripts in
//! them, and their log directories.

use super::{
    Layout, Options, facts,
    facts::{Settings, Stamp},
    sh,
    shell::{
        Script,
        generated::{self, Exec},
    },
};
use crate::recipe::Recipe;

/// A script of one instance's service directory (or program).
pub fn script(
    recipe: &Recipe,
    options: &Options,
    exec: Exec,
    instance: Option<&str>,
    what: &str,
    main: &str,
) -> String {
    script_with(recipe, options, exec, instance, what, main, Vec::new())
}

/// As [`script`], with constants of its own.
pub fn script_with(
    recipe: &Recipe,
    options: &Options,
    exec: Exec,
    instance: Option<&str>,
    what: &str,
    main: &str,
    extra: Vec<(&'static str, String)>,
) -> String {
    // Every service-directory supervisor keeps settings where the distribution does.
    let settings = Settings::distribution(&recipe.name, &options.layout, options.flavor);
    let header = format!(
        "#!/bin/sh\n# {what} of {service}, rendered by initkit from the recipe \"{name}\"; render again rather than edit.\n\
         # Settings: KEY=VALUE lines in {settings}, read as data.\n\n",
        service = facts::service_name(&recipe.name, instance),
        name = recipe.name,
        settings = settings.described(recipe.instances.is_some()),
    );
    let mut consts = generated::consts(recipe, options, &settings);
    consts.extend(extra);
    Script { header, consts, generated: generated::functions(recipe, options, exec, instance), main, setup: "" }.build()
}

/// A supervisor's logger: the command its `log/run` execs on the log
/// directory, and how that command stamps each line.
#[derive(Debug, Clone, Copy)]
pub struct Logger {
    pub command: &'static str,
    pub stamp: Stamp,
}

/// Where an instance's supervisor log lives.
pub fn log_dir(layout: &Layout, name: &str, instance: Option<&str>) -> String {
    format!("{}/{}", facts::log_dir(layout, name), instance.unwrap_or(name))
}

/// The file the logger is writing in an instance's log directory (svlogd,
/// s6-log and multilog all call it `current`, and rotate it to `@TAI64N.s`).
pub fn current_log(layout: &Layout, name: &str, instance: Option<&str>) -> String {
    format!("{}/current", log_dir(layout, name, instance))
}

/// The `finish` script: logs how the instance ended; the supervisor restarts it.
pub fn finish(recipe: &Recipe, layout: &Layout, instance: Option<&str>, record: bool) -> String {
    let service = facts::service_name(&recipe.name, instance);
    let mut s = format!(
        "#!/bin/sh\n# Logs how {service} ended; the supervisor restarts it.\nprintf 'initkit: %s exited (code %s, signal %s)\\n' {q} \"${{1:-?}}\" \"${{2:-?}}\"\n",
        q = sh::quote(&service)
    );
    if record {
        // runit's finish gets the exit code, or -1 and the signal: kept as a
        // shell's wait status, where `initkit status` reads it.
        let file = facts::exit_file(layout, &recipe.name, instance);
        let dir = file.rsplit_once('/').map_or("/run/initkit", |(d, _)| d);
        s.push_str(&format!(
            "case ${{1:-}} in\n    -1) status=$((128 + ${{2:-0}})) ;;\n    ''|*[!0-9]*) exit 0 ;;\n    *) status=$1 ;;\nesac\nmkdir -p {} && printf '%s\\n' \"$status\" >{}\n",
            sh::quote(dir),
            sh::quote(&file)
        ));
    }
    s
}

/// A log run script: makes the directory and execs the logger on it.
pub fn log_run(dir: &str, logger: Logger) -> String {
    let l = sh::quote(dir);
    format!("#!/bin/sh\nmkdir -p {l}\nexec {} {l}\n", logger.command)
}
