//! supervisord: a program per instance in conf.d, whose command is the shared
//! stop wrapper (supervisord has no pre-stop hook), with its log rotation.

use std::fmt::Write as _;

use super::{
    Artifact, Backend, Layout, Options, Practice, Support, facts,
    features::{self, Feature},
    service_dir::script_with,
    shell::{
        WRAPPER_MAIN,
        generated::{Drop, Exec},
    },
};
use crate::recipe::Recipe;

pub struct Supervisord;

/// Debian's supervisord configuration (it includes conf.d/*.conf).
pub const CONF: &str = "/etc/supervisor/supervisord.conf";

/// The `stdout_logfile` of an instance's program (stderr is redirected into it).
pub fn stdout_logfile(layout: &Layout, name: &str, instance: Option<&str>) -> String {
    format!("{}/supervisor/initkit-{}.log", layout.log(), facts::service_name(name, instance))
}

/// Text in supervisord's INI: `%` starts an expansion there, so it is doubled,
/// and a control character (refused by validation already) becomes a space.
fn ini_text(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().replace('%', "%%")
}

impl Backend for Supervisord {
    fn name(&self) -> &'static str {
        "supervisord"
    }

    fn per_instance(&self) -> bool {
        true
    }

    fn render(&self, recipe: &Recipe, options: &Options, instance: Option<&str>) -> Vec<Artifact> {
        let etc = options.layout.etc();
        let program = facts::service_name(&recipe.name, instance);
        let run = format!("{etc}/supervisor/initkit/{program}.run");
        let hooks: Vec<&str> = recipe.stop.before.iter().map(|h| h.description.as_str()).collect();
        let mut conf =
            format!("; Rendered by initkit from the recipe \"{}\"; render again rather than edit.\n", recipe.name);
        if !hooks.is_empty() {
            let _ =
                writeln!(conf, "; The run script runs the pre-stop hooks on SIGTERM: {}.", ini_text(&hooks.join("; ")));
        }
        let _ = write!(
            conf,
            "[program:{program}]\ncommand={run}\nautostart=true\nautorestart=true\nstartsecs=1\nstartretries=5\n\
             ; TERM goes to the run script only, which runs the hooks and stops the daemon; KILL goes to all.\n\
             stopsignal=TERM\nstopwaitsecs={}\nstopasgroup=false\nkillasgroup=true\n\
             redirect_stderr=true\nstdout_logfile={}\nstdout_logfile_maxbytes=10MB\nstdout_logfile_backups=5\n",
            facts::stop_budget_ms(recipe) / 1000 + 5,
            stdout_logfile(&options.layout, &recipe.name, instance),
        );
        vec![
            Artifact::new(format!("{etc}/supervisor/conf.d/initkit-{program}.conf"), 0o644, conf),
            Artifact::new(
                run,
                0o755,
                script_with(
                    recipe,
                    options,
                    Exec { drop: Drop::Setpriv, setsid: true, dies_with_parent: true },
                    instance,
                    "supervisord run script",
                    WRAPPER_MAIN,
                    vec![("NOTIFY_FD", String::new())],
                ),
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
            Practice::OwnReload => Support::Initkit("`supervisorctl signal HUP`, as s6"),
            Practice::LsbCodes => Support::Initkit("front-end"),
            Practice::ProcessIdentity => Support::Native("as s6"),
            Practice::RuntimeDirs => Support::Initkit("run script"),
            Practice::StopEscalation => {
                Support::Native("`stopwaitsecs`, `killasgroup`; the wrapper kills the daemon's group")
            }
            Practice::PreStopHooks => Support::Initkit("shared wrapper"),
            Practice::Instances => Support::Native("a program per instance"),
            Practice::Hardening => Support::No("supervisord has no sandbox"),
            Practice::Quoting => Support::Initkit("INI `%` escaped, program names from a safe alphabet"),
            Practice::Registration => Support::Native("conf.d"),
            Practice::Logs => Support::Native("stdout_logfile rotation"),
            Practice::Readiness => Support::Native("`startsecs`"),
        }
    }
}
