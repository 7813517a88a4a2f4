//! Service directories and programs for supervisors: runit, s6, daemontools
//! (one directory per instance) and supervisord (one program per instance).

use std::fmt::Write as _;

use super::{
    Artifact, Options, Target,
    service_sh::{Drop, SERVICE_LIB, preamble},
    sh,
};
use crate::recipe::Recipe;

const WRAPPER: &str = include_str!("service_wrapper.sh");

/// The service's name for one instance: `redis@a`, or `nginx`. It is the
/// directory name for runit, s6 and daemontools and the supervisord program
/// name: names are drawn from an alphabet all of them take literally, so two
/// instances never share one.
pub fn service_name(name: &str, instance: Option<&str>) -> String {
    match instance {
        Some(i) => format!("{name}@{i}"),
        None => name.to_owned(),
    }
}

/// Text in supervisord's INI: `%` starts an expansion there, so it is doubled,
/// and a control character (refused by validation already) becomes a space.
fn ini_text(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().replace('%', "%%")
}

/// Where a target keeps service definitions, and where enabled ones are linked.
pub fn dirs(target: Target) -> Option<(&'static str, &'static str)> {
    match target {
        Target::Runit => Some(("/etc/sv", "/etc/service")),
        Target::S6 => Some(("/etc/s6/sv", "/etc/s6/service")),
        Target::Daemontools => Some(("/etc/daemontools/sv", "/etc/service")),
        _ => None,
    }
}

/// Milliseconds a stop may take, hooks included, before anything is killed.
pub fn stop_budget_ms(recipe: &Recipe) -> u64 {
    recipe.stop.timeout_ms + recipe.stop.before.iter().map(|h| h.timeout_ms + 2_000).sum::<u64>()
}

fn script(recipe: &Recipe, options: &Options, drop: Drop, what: &str, main: &str) -> String {
    let mut s = format!(
        "#!/bin/sh\n# {what} of {name}, rendered by initkit from the recipe \"{name}\"; render again rather than edit.\n\
         # Settings: KEY=VALUE lines in {settings}/{name}{inst}, read as data.\n\
         # shellcheck disable=SC2016\n\
         # The constants and library are shared by every target: some go unused here,\n\
         # and the stop and reload functions are reached through traps.\n\
         # shellcheck disable=SC2034,SC2317\n",
        name = recipe.name,
        settings = options.layout.settings(options.flavor),
        inst = if recipe.instances.is_some() {
            format!(", then {}/{}.d/INSTANCE", options.layout.settings(options.flavor), recipe.name)
        } else {
            String::new()
        },
    );
    s.push_str(&preamble(recipe, options, drop));
    s.push_str(SERVICE_LIB);
    s.push_str(main);
    s
}

/// A run script that is the shared stop wrapper around the daemon; `notify_fd`
/// is s6's notification fd, when readiness is reported.
fn wrapper_script(
    recipe: &Recipe,
    options: &Options,
    drop: Drop,
    what: &str,
    instance: Option<&str>,
    notify_fd: Option<u8>,
) -> String {
    let fd = notify_fd.map_or_else(|| "''".to_owned(), |fd| fd.to_string());
    let main = format!(
        "{WRAPPER}\n# ---- run ----\nexec 2>&1\n{}console_log=/dev/stdout\nik_supervise {fd}\n",
        load(instance)
    );
    script(recipe, options, drop, what, &main)
}

/// The shell line that loads one instance (baked in: one directory per instance).
fn load(instance: Option<&str>) -> String {
    format!(
        "ik_load {}\nik_identity || {{ ik_err \"$NAME: user '$RUN_USER' does not exist\"; exit 1; }}\n",
        sh::quote(instance.unwrap_or(""))
    )
}

fn log_dir(recipe: &Recipe, options: &Options, instance: Option<&str>) -> String {
    format!("{}/initkit/{}/{}", options.layout.log(), recipe.name, instance.unwrap_or(&recipe.name))
}

fn file(path: String, mode: u32, content: String) -> Artifact {
    Artifact { path, mode, content }
}

fn finish(recipe: &Recipe, instance: Option<&str>) -> String {
    format!(
        "#!/bin/sh\n# Logs how {label} ended; the supervisor restarts it.\nprintf 'initkit: %s exited (code %s, signal %s)\\n' {q} \"${{1:-?}}\" \"${{2:-?}}\"\n",
        label = service_name(&recipe.name, instance),
        q = sh::quote(&service_name(&recipe.name, instance))
    )
}

pub fn render(recipe: &Recipe, target: Target, options: &Options, instance: Option<&str>) -> Vec<Artifact> {
    let name = service_name(&recipe.name, instance);
    let logs = log_dir(recipe, options, instance);
    let q = sh::quote;
    let etc = options.layout.etc();
    match target {
        Target::Runit => {
            let dir = format!("{}{}/{name}", options.layout.root, dirs(target).map_or("", |d| d.0));
            let mut out = vec![
                file(
                    format!("{dir}/run"),
                    0o755,
                    script(
                        recipe,
                        options,
                        Drop::Chpst,
                        "runit run script",
                        &format!(
                            "\n# ---- run: the daemon replaces this script (chpst drops to the user) ----\nexec 2>&1\n{}ik_prepare || exit 1\nik_exec\n",
                            load(instance)
                        ),
                    ),
                ),
                file(format!("{dir}/finish"), 0o755, finish(recipe, instance)),
                // runsv runs control/t before it would send TERM; exit 0 means "done, do not send it".
                file(
                    format!("{dir}/control/t"),
                    0o755,
                    script(
                        recipe,
                        options,
                        Drop::Chpst,
                        "runit stop hook (control/t)",
                        &format!(
                            "\n# ---- control/t: pre-stop hooks within their budgets, then the recipe's stop signal ----\n{}console_log={}/current\n\
                         read -r pid <supervise/pid 2>/dev/null || exit 1\ncase $pid in ''|*[!0-9]*) exit 1 ;; esac\n\
                         ik_before_stop\nkill -s \"$STOP_SIGNAL\" \"$pid\" || exit 1\nexit 0\n",
                            load(instance),
                            q(&logs)
                        ),
                    ),
                ),
                file(
                    format!("{dir}/log/run"),
                    0o755,
                    format!("#!/bin/sh\nmkdir -p {l}\nexec svlogd -tt {l}\n", l = q(&logs)),
                ),
            ];
            if recipe.ready.is_some() {
                // `sv start` and `sv check` wait until ./check succeeds.
                out.push(file(
                    format!("{dir}/check"),
                    0o755,
                    script(
                        recipe,
                        options,
                        Drop::Chpst,
                        "runit readiness check",
                        &format!(
                            "\n# ---- check: ready when the recipe's readiness test passes ----\n{}ik_ready\n",
                            load(instance)
                        ),
                    ),
                ));
            }
            out
        }
        Target::S6 => {
            let dir = format!("{}{}/{name}", options.layout.root, dirs(target).map_or("", |d| d.0));
            let notify = recipe.ready.is_some();
            let mut out = vec![
                file(
                    format!("{dir}/run"),
                    0o755,
                    wrapper_script(recipe, options, Drop::S6, "s6 run script", instance, notify.then_some(3)),
                ),
                file(format!("{dir}/finish"), 0o755, finish(recipe, instance)),
                // s6-supervise sends KILL when a stop takes longer than this (ms).
                file(format!("{dir}/timeout-kill"), 0o644, format!("{}\n", stop_budget_ms(recipe) + 5_000)),
                file(
                    format!("{dir}/log/run"),
                    0o755,
                    format!("#!/bin/sh\nmkdir -p {l}\nexec s6-log -b n10 s1000000 T {l}\n", l = q(&logs)),
                ),
            ];
            if notify {
                out.push(file(format!("{dir}/notification-fd"), 0o644, "3\n".to_owned()));
            }
            out
        }
        Target::Daemontools => {
            let dir = format!("{}{}/{name}", options.layout.root, dirs(target).map_or("", |d| d.0));
            vec![
                file(
                    format!("{dir}/run"),
                    0o755,
                    wrapper_script(recipe, options, Drop::Setuidgid, "daemontools run script", instance, None),
                ),
                file(
                    format!("{dir}/log/run"),
                    0o755,
                    format!("#!/bin/sh\nmkdir -p {l}\nexec multilog t n10 s1000000 {l}\n", l = q(&logs)),
                ),
            ]
        }
        Target::Supervisord => {
            let program = service_name(&recipe.name, instance);
            let run = format!("{etc}/supervisor/initkit/{program}.run");
            let hooks: Vec<&str> = recipe.stop.before.iter().map(|h| h.description.as_str()).collect();
            let mut conf =
                format!("; Rendered by initkit from the recipe \"{}\"; render again rather than edit.\n", recipe.name);
            if !hooks.is_empty() {
                let _ = writeln!(
                    conf,
                    "; The run script runs the pre-stop hooks on SIGTERM: {}.",
                    ini_text(&hooks.join("; "))
                );
            }
            let _ = write!(
                conf,
                "[program:{program}]\ncommand={run}\nautostart=true\nautorestart=true\nstartsecs=1\nstartretries=5\n\
                 ; TERM goes to the run script only, which runs the hooks and stops the daemon; KILL goes to all.\n\
                 stopsignal=TERM\nstopwaitsecs={}\nstopasgroup=false\nkillasgroup=true\n\
                 redirect_stderr=true\nstdout_logfile={}/supervisor/initkit-{program}.log\nstdout_logfile_maxbytes=10MB\nstdout_logfile_backups=5\n",
                stop_budget_ms(recipe) / 1000 + 5,
                options.layout.log(),
            );
            vec![
                file(format!("{etc}/supervisor/conf.d/initkit-{program}.conf"), 0o644, conf),
                file(
                    run,
                    0o755,
                    wrapper_script(
                        recipe,
                        options,
                        Drop::Setpriv { setsid: false },
                        "supervisord run script",
                        instance,
                        None,
                    ),
                ),
            ]
        }
        Target::Systemd | Target::Sysv | Target::Openrc | Target::Upstart | Target::Launchd => Vec::new(),
    }
}
