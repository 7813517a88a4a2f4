//! Enabling at boot: the links an init system reads, made directly (under
//! `--root`) or by the distribution's own tool on a live host.

use std::path::Path;

use super::manifest::LinkRecord;
use crate::{
    recipe::Recipe,
    render::{Flavor, Target, daemontools, facts, runit, s6},
};

pub use crate::render::facts::unit_name;

/// The links that enable `instance` (or the whole service) at boot.
pub fn links(recipe: &Recipe, target: Target, flavor: Flavor, instance: Option<&str>) -> Vec<LinkRecord> {
    let name = &recipe.name;
    match target {
        Target::Systemd => {
            let file = if recipe.instances.is_some() { format!("{name}@.service") } else { format!("{name}.service") };
            vec![LinkRecord {
                path: format!("/etc/systemd/system/multi-user.target.wants/{}", unit_name(name, instance)),
                target: format!("/etc/systemd/system/{file}"),
                instance: instance.map(str::to_owned),
                backup: None,
            }]
        }
        // One script serves every instance: it is enabled once.
        Target::Sysv => {
            let (dir, start, stop) = match flavor {
                // The LSB header says 2345 start, 016 stop; insserv would order them, 01 is its default.
                Flavor::Debian => ("/etc/rc{}.d", "S01", "K01"),
                // The chkconfig header says 2345, start 80, stop 20.
                Flavor::Rhel => ("/etc/rc.d/rc{}.d", "S80", "K20"),
            };
            (0..=6)
                .map(|level| {
                    let prefix = if (2..=5).contains(&level) { start } else { stop };
                    LinkRecord {
                        path: format!("{}/{prefix}{name}", dir.replace("{}", &level.to_string())),
                        target: format!("../init.d/{name}"),
                        instance: None,
                        backup: None,
                    }
                })
                .collect()
        }
        // A service directory is enabled by a link in the scan directory.
        Target::Runit | Target::S6 | Target::Daemontools => {
            let (defs, scan) = match target {
                Target::S6 => s6::DIRS,
                Target::Daemontools => daemontools::DIRS,
                _ => runit::DIRS,
            };
            let service = facts::service_name(&recipe.name, instance);
            vec![LinkRecord {
                path: format!("{scan}/{service}"),
                target: format!("{defs}/{service}"),
                instance: instance.map(str::to_owned),
                backup: None,
            }]
        }
        // A program in conf.d is enabled by being there; an Upstart job by its
        // `start on` (instances by NAME-instances); a launchd plist by RunAtLoad.
        Target::Supervisord | Target::Upstart | Target::Launchd => Vec::new(),
        // rc-update add SERVICE default: a link in the default runlevel.
        Target::Openrc => {
            let service = openrc_service(&recipe.name, instance);
            vec![LinkRecord {
                path: format!("/etc/runlevels/default/{service}"),
                target: format!("/etc/init.d/{service}"),
                instance: instance.map(str::to_owned),
                backup: None,
            }]
        }
    }
}

/// An OpenRC service name: `redis.a` for an instance, as OpenRC names them.
pub fn openrc_service(recipe: &str, instance: Option<&str>) -> String {
    match instance {
        Some(i) => format!("{recipe}.{i}"),
        None => recipe.to_owned(),
    }
}

/// Links an instance needs to exist at all (not only to start at boot):
/// OpenRC's `NAME.INSTANCE` links to the script.
pub fn instance_links(recipe: &Recipe, target: Target, instance: Option<&str>) -> Vec<LinkRecord> {
    match (target, instance) {
        (Target::Openrc, Some(i)) => vec![LinkRecord {
            path: format!("/etc/init.d/{}", openrc_service(&recipe.name, Some(i))),
            target: recipe.name.clone(),
            instance: Some(i.to_owned()),
            backup: None,
        }],
        _ => Vec::new(),
    }
}

/// The registration tool a live host uses for SysV scripts, when it has one.
pub fn sysv_tool(flavor: Flavor) -> Option<(&'static str, [&'static str; 2], [&'static str; 3])> {
    let (tool, add, remove) = match flavor {
        Flavor::Debian => ("update-rc.d", ["{}", "defaults"], ["-f", "{}", "remove"]),
        Flavor::Rhel => ("chkconfig", ["--add", "{}"], ["--del", "{}", ""]),
    };
    ["/usr/sbin", "/sbin", "/usr/bin"].iter().any(|d| Path::new(d).join(tool).exists()).then_some((tool, add, remove))
}
