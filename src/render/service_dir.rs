//! What the service-directory supervisors (runit, s6, daemontools) and
//! supervisord share: where they keep definitions, the shell scripts in
//! them, and their log directories.

use super::{
    Options, facts,
    facts::Settings,
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

/// Where an instance's supervisor log lives.
pub fn log_dir(recipe: &Recipe, options: &Options, instance: Option<&str>) -> String {
    format!("{}/initkit/{}/{}", options.layout.log(), recipe.name, instance.unwrap_or(&recipe.name))
}

/// The `finish` script: logs how the instance ended; the supervisor restarts it.
pub fn finish(recipe: &Recipe, instance: Option<&str>, record: bool) -> String {
    let service = facts::service_name(&recipe.name, instance);
    let mut s = format!(
        "#!/bin/sh\n# Logs how {service} ended; the supervisor restarts it.\nprintf 'initkit: %s exited (code %s, signal %s)\\n' {q} \"${{1:-?}}\" \"${{2:-?}}\"\n",
        q = sh::quote(&service)
    );
    if record {
        // runit's finish gets the exit code, or -1 and the signal: kept as a
        // shell's wait status, where `initkit status` reads it.
        let file = facts::exit_file(&recipe.name, instance);
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
pub fn log_run(dir: &str, logger: &str) -> String {
    let l = sh::quote(dir);
    format!("#!/bin/sh\nmkdir -p {l}\nexec {logger} {l}\n")
}
