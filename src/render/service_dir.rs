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
        settings = sh::comment(&settings.described(recipe.instances.is_some())),
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

/// The `finish` script of a supervisor whose stop wrapper records the exit
/// itself (s6): logs how the instance ended; the supervisor restarts it.
pub fn finish(recipe: &Recipe, instance: Option<&str>) -> String {
    let service = facts::service_name(&recipe.name, instance);
    format!(
        "#!/bin/sh\n# Logs how {service} ended; the supervisor restarts it.\nprintf 'initkit: %s exited (code %s, signal %s)\\n' {q} \"${{1:-?}}\" \"${{2:-?}}\"\n",
        q = sh::quote(&service)
    )
}

/// A log run script: makes the directory and execs the logger on it.
pub fn log_run(dir: &str, logger: Logger) -> String {
    let l = sh::quote(dir);
    format!("#!/bin/sh\nmkdir -p {l}\nexec {} {l}\n", logger.command)
}
