//! launchd (not runnable here; checked against written examples of its
//! output): `launchctl` acts and reports; RunAtLoad enables; a reload sends
//! the recipe's own signal.

use crate::{
    host::{
        action::{Action, State, Status},
        config_test::reload_command,
        driver::{Ctx, Driver, Signs},
        logs::LogSource,
        manifest::{LinkRecord, Manifest},
        run::{native, number_after, stdout_of},
    },
    recipe::{Recipe, Reload},
    render::{
        Flavor, Layout, Target,
        facts::{Stamp, console_log},
        launchd::label,
    },
};

pub struct Launchd;

/// What `launchctl print system/LABEL` says: state and PID.
pub fn parse_print(text: &str) -> (State, Option<u64>) {
    let state = if text.contains("state = running") {
        State::Running
    } else if text.contains("state = ") {
        State::Stopped
    } else {
        State::Unknown
    };
    (state, number_after(text, "\tpid = "))
}

/// The `launchctl` arguments for an action on `service` (`system/LABEL`).
pub fn args(recipe: &Recipe, action: Action, service: String) -> Option<Vec<String>> {
    Some(match action {
        Action::Start => vec!["kickstart".into(), service],
        Action::Stop => vec!["kill".into(), "TERM".into(), service],
        Action::Restart => vec!["kickstart".into(), "-k".into(), service],
        Action::Reload => match &recipe.reload {
            Some(Reload::Signal(s)) => vec!["kill".into(), s.name().into(), service],
            Some(Reload::Command(_)) | None => return None,
        },
    })
}

impl Driver for Launchd {
    fn act(&self, ctx: &Ctx<'_>, action: Action, instances: &[Option<String>]) -> i32 {
        let mut code = 0;
        for i in instances {
            let service = format!("system/{}", label(ctx.name, i.as_deref()));
            let c = match args(ctx.recipe, action, service) {
                Some(a) => native("launchctl", &a),
                None => reload_command(
                    ctx.recipe,
                    &crate::host::scope::Place::system(std::path::Path::new("/")),
                    Target::Launchd,
                    ctx.flavor,
                    i.as_deref(),
                ),
            };
            if code == 0 {
                code = c;
            }
        }
        code
    }

    fn status(&self, name: &str, instance: Option<&str>) -> Status {
        let service = format!("system/{}", label(name, instance));
        let (state, pid) = parse_print(&stdout_of("launchctl", &["print", &service]));
        Status::new(instance, service, state, pid.and_then(|p| u32::try_from(p).ok()), None)
    }

    fn enable_links(&self, _: &Recipe, _: &Layout, _: Flavor, _: Option<&str>) -> Vec<LinkRecord> {
        // A daemon in /Library/LaunchDaemons with RunAtLoad starts at boot.
        Vec::new()
    }

    /// Always: a daemon with RunAtLoad starts at boot.
    fn enabled(&self, _: &std::path::Path, _: &Manifest, _: Option<&str>) -> bool {
        true
    }

    /// The plist's StandardOutPath (StandardErrorPath is the same file), unstamped.
    fn log_source(&self, m: &Manifest, instance: Option<&str>) -> LogSource {
        LogSource::File { path: console_log(&Layout::default(), &m.recipe, instance), stamp: Stamp::None }
    }

    fn signs(&self) -> Signs {
        Signs {
            running_file: None,
            pid1: &["launchd"],
            process: None,
            image_init: &[],
            installed: &["/sbin/launchd", "/Library/LaunchDaemons"],
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
        assert_eq!(parse_print(&fixture("launchd-print-running.txt")), (State::Running, Some(812)));
        assert_eq!(parse_print(&fixture("launchd-print-not-running.txt")), (State::Stopped, None));
        assert_eq!(parse_print(""), (State::Unknown, None));
    }
}
