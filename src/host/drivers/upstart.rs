//! Upstart (not runnable here; checked against written examples of its
//! output): `initctl` acts and reports; the job's `start on` enables; a
//! reload sends the recipe's own signal, since `initctl reload` can only send SIGHUP.

use crate::{
    host::{
        action::{Action, State, Status},
        config_test::reload_command,
        driver::{Ctx, Driver, Signs},
        logs::LogSource,
        manifest::{LinkRecord, Manifest},
        run::{native, native_with_progress, number_after, stdout_of},
    },
    recipe::{Recipe, Reload},
    render::{Flavor, Layout, Target, facts::Stamp, upstart::reload_is_hup},
};

pub struct Upstart;

/// What `initctl status JOB [INSTANCE=…]` says: state and PID.
pub fn parse_status(text: &str) -> (State, Option<u64>) {
    let first = text.lines().next().unwrap_or("");
    let state = if first.contains("start/running") {
        State::Running
    } else if first.contains(" start/") {
        State::Starting
    } else if first.contains(" stop/") {
        State::Stopped
    } else {
        State::Unknown
    };
    (state, number_after(first, "process "))
}

/// Where `console log` has Upstart write a job's output: `/var/log/upstart/JOB.log`,
/// `JOB-INSTANCE.log` for an instance (init's `job_process_log_path`; the `/`
/// it would remap cannot be in a recipe or instance name).
pub fn job_log(name: &str, instance: Option<&str>) -> String {
    match instance {
        Some(i) => format!("/var/log/upstart/{name}-{i}.log"),
        None => format!("/var/log/upstart/{name}.log"),
    }
}

fn job_args(verb: &str, name: &str, instance: Option<&str>) -> Vec<String> {
    let mut a = vec![verb.to_owned(), name.to_owned()];
    a.extend(instance.map(|i| format!("INSTANCE={i}")));
    a
}

/// How a reload is done: `initctl reload` when the recipe's signal is SIGHUP,
/// else `kill -s SIGNAL PID` to the job's process, or the recipe's command.
pub fn reload_plan(
    recipe: &Recipe,
    name: &str,
    instance: Option<&str>,
    pid: Option<u64>,
) -> Option<(String, Vec<String>)> {
    match &recipe.reload {
        _ if reload_is_hup(recipe) => Some(("initctl".into(), job_args("reload", name, instance))),
        Some(Reload::Signal(s)) => pid.map(|p| ("kill".into(), vec!["-s".into(), s.name().into(), p.to_string()])),
        Some(Reload::Command(_)) | None => None,
    }
}

impl Driver for Upstart {
    fn act(&self, ctx: &Ctx<'_>, action: Action, instances: &[Option<String>]) -> i32 {
        let mut code = 0;
        for i in instances {
            let c = match action {
                Action::Reload => {
                    let pid = parse_status(&stdout_of("initctl", &job_args("status", ctx.name, i.as_deref()))).1;
                    match reload_plan(ctx.recipe, ctx.name, i.as_deref(), pid) {
                        Some((program, args)) => native(&program, &args),
                        None => reload_command(
                            ctx.recipe,
                            &crate::host::scope::Place::system(std::path::Path::new("/")),
                            Target::Upstart,
                            ctx.flavor,
                            i.as_deref(),
                        ),
                    }
                }
                other => native_with_progress(
                    "initctl",
                    &job_args(other.verb(), ctx.name, i.as_deref()),
                    &ctx.waiting_on(other, i.as_deref()),
                ),
            };
            if code == 0 {
                code = c;
            }
        }
        code
    }

    fn status(&self, name: &str, instance: Option<&str>) -> Status {
        let (state, pid) = parse_status(&stdout_of("initctl", &job_args("status", name, instance)));
        Status::new(instance, name.to_owned(), state, pid.and_then(|p| u32::try_from(p).ok()), None)
    }

    fn enable_links(&self, _: &Recipe, _: &Layout, _: Flavor, _: Option<&str>) -> Vec<LinkRecord> {
        // A job starts by its `start on`; instances by NAME-instances.
        Vec::new()
    }

    /// Always: a job starts by its `start on`.
    fn enabled(&self, _: &std::path::Path, _: &Manifest, _: Option<&str>) -> bool {
        true
    }

    /// The job's console log, unstamped.
    fn log_source(&self, m: &Manifest, instance: Option<&str>) -> LogSource {
        LogSource::File { path: job_log(&m.recipe, instance), stamp: Stamp::None }
    }

    fn signs(&self) -> Signs {
        Signs {
            running_file: None,
            pid1: &["upstart"],
            process: None,
            image_init: &[],
            installed: &["/sbin/initctl", "/etc/init"],
            fallback: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::drivers::fixture;

    #[test]
    fn parses_written_examples() {
        assert_eq!(parse_status(&fixture("upstart-status-running.txt")), (State::Running, Some(4242)));
        assert_eq!(parse_status(&fixture("upstart-status-stopped.txt")), (State::Stopped, None));
        assert_eq!(parse_status(&fixture("upstart-status-post-start.txt")), (State::Starting, Some(3100)));
        assert_eq!(parse_status(""), (State::Unknown, None));
    }
}
