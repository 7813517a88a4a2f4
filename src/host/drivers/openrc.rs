//! OpenRC: `rc-service NAME.INSTANCE` acts and reports, `NAME.INSTANCE`
//! links to the script make instances, `rc-update` (or its link) enables.

use std::path::Path;

use super::sysv::state_of;
use crate::{
    host::{
        action::{Action, State, Status},
        driver::{Ctx, Driver, Signs},
        error::Result,
        logs::LogSource,
        manifest::{LinkRecord, Manifest},
        run::{native, pidfile_pid, process_uptime, stdout_of, which},
    },
    recipe::Recipe,
    render::{
        Flavor, Layout,
        facts::{self, Stamp},
    },
};

pub struct Openrc;

/// An OpenRC service name: `redis.a` for an instance, as OpenRC names them.
pub fn service(name: &str, instance: Option<&str>) -> String {
    match instance {
        Some(i) => format!("{name}.{i}"),
        None => name.to_owned(),
    }
}

/// The state `rc-service NAME status` reports: its exit code (our script's
/// LSB codes, or openrc-run's own: 8 starting, 32 crashed), else its text.
pub fn parse_status(code: i32, text: &str) -> State {
    match code {
        8 => State::Starting,
        32 => State::Failed,
        0..=3 => state_of(code),
        _ => match text.trim().strip_prefix("* status: ") {
            Some("started") => State::Running,
            Some("stopped") => State::Stopped,
            Some("starting") => State::Starting,
            Some("crashed") => State::Failed,
            _ => State::Unknown,
        },
    }
}

impl Driver for Openrc {
    fn act(&self, ctx: &Ctx<'_>, action: Action, instances: &[Option<String>]) -> i32 {
        let mut code = 0;
        for i in instances {
            // openrc-run's restart is a stop and a start: the script's own
            // command hands the sockets over where the recipe says how.
            let verb = match action {
                Action::Restart if ctx.recipe.restart.handover.is_some() => "handover",
                Action::Start | Action::Stop | Action::Restart | Action::Reload => action.verb(),
            };
            let c = native("rc-service", &[service(ctx.name, i.as_deref()), verb.to_owned()]);
            if code == 0 {
                code = c;
            }
        }
        code
    }

    fn status(&self, name: &str, instance: Option<&str>) -> Status {
        let svc = service(name, instance);
        let out = std::process::Command::new("rc-service").args([svc.as_str(), "status"]).output();
        let (code, text) = out.map_or((4, String::new()), |o| {
            (o.status.code().unwrap_or(4), String::from_utf8_lossy(&o.stdout).into_owned())
        });
        let pid = pidfile_pid(&facts::pidfile(name, instance));
        Status::new(instance, svc, parse_status(code, &text), pid, pid.and_then(process_uptime))
    }

    fn enable_links(&self, recipe: &Recipe, _: &Layout, _: Flavor, instance: Option<&str>) -> Vec<LinkRecord> {
        // What `rc-update add SERVICE default` makes.
        let svc = service(&recipe.name, instance);
        vec![LinkRecord {
            path: format!("/etc/runlevels/default/{svc}"),
            target: format!("/etc/init.d/{svc}"),
            instance: instance.map(str::to_owned),
            backup: None,
        }]
    }

    fn instance_links(&self, recipe: &Recipe, instance: Option<&str>) -> Vec<LinkRecord> {
        // A recipe without instances is its script itself.
        let Some(instance) = instance else { return Vec::new() };
        vec![LinkRecord {
            path: format!("/etc/init.d/{}", service(&recipe.name, Some(instance))),
            target: recipe.name.clone(),
            instance: Some(instance.to_owned()),
            backup: None,
        }]
    }

    fn enables_natively(&self, _: Flavor) -> bool {
        Path::new("/run/openrc/softlevel").exists() && which("rc-update")
    }

    fn after_change(&self, m: &mut Manifest, enable: bool) -> Result<bool> {
        if enable && self.enables_natively(m.flavor) {
            let instances: Vec<Option<&str>> = if m.instances.is_empty() {
                vec![None]
            } else {
                m.instances.iter().map(|i| Some(i.as_str())).collect()
            };
            for i in instances {
                native("rc-update", &["add".to_owned(), service(&m.recipe, i), "default".to_owned()]);
            }
        }
        Ok(false)
    }

    fn disable_natively(&self, m: &mut Manifest, instance: Option<&str>) -> bool {
        if self.enables_natively(m.flavor) {
            let instances: Vec<Option<&str>> = match instance {
                Some(i) => vec![Some(i)],
                None if m.instances.is_empty() => vec![None],
                None => m.instances.iter().map(|i| Some(i.as_str())).collect(),
            };
            for i in instances {
                let svc = service(&m.recipe, i);
                if !stdout_of("rc-update", &["show", "default"]).contains(&svc) {
                    continue;
                }
                native("rc-update", &["del".to_owned(), svc, "default".to_owned()]);
            }
        }
        false
    }

    /// Recorded links, or rc-update's own link in the default runlevel.
    fn enabled(&self, root: &Path, m: &Manifest, instance: Option<&str>) -> bool {
        m.links.iter().any(|l| l.instance.as_deref() == instance && l.path.starts_with("/etc/runlevels/"))
            || crate::host::manifest::under(root, "/etc/runlevels/default").join(service(&m.recipe, instance)).exists()
    }

    /// The console log, as SysV's: the script is built on the same library.
    fn log_source(&self, m: &Manifest, instance: Option<&str>) -> LogSource {
        LogSource::File { path: facts::console_log(&Layout::default(), &m.recipe, instance), stamp: Stamp::None }
    }

    fn signs(&self) -> Signs {
        Signs {
            running_file: Some("/run/openrc/softlevel"),
            pid1: &["openrc-init"],
            process: None,
            image_init: &["openrc-init"],
            installed: &[],
            fallback: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::drivers::fixture;

    #[test]
    fn parses_recorded_outputs() {
        assert_eq!(parse_status(0, &fixture("openrc-rc-service-status-started.txt")), State::Running);
        assert_eq!(parse_status(3, &fixture("openrc-rc-service-status-stopped.txt")), State::Stopped);
        assert_eq!(parse_status(8, &fixture("openrc-rc-service-status-starting.txt")), State::Starting);
        // openrc-run's own status, with a code that says nothing: the text decides.
        assert_eq!(parse_status(64, &fixture("openrc-rc-service-status-started.txt")), State::Running);
        assert_eq!(parse_status(64, &fixture("openrc-rc-service-status-unsupervised.txt")), State::Unknown);
        assert_eq!(service("redis", Some("a")), "redis.a");
    }
}
