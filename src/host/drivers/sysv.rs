//! SysV: the init script acts and reports (its LSB codes), update-rc.d or
//! chkconfig registers it on a running host, rc links under a root.

use std::path::Path;

use crate::{
    host::{
        action::{Action, State, Status},
        driver::{Ctx, Driver, Signs},
        error::Result,
        logs::LogSource,
        manifest::{self, LinkRecord, Manifest},
        run::{native, pidfile_pid, process_uptime},
    },
    recipe::Recipe,
    render::{
        Flavor, Layout,
        facts::{self, Stamp},
    },
};

pub struct Sysv;

/// The state an LSB `status` code stands for.
pub fn state_of(code: i32) -> State {
    match code {
        0 => State::Running,
        1 | 2 => State::Dead,
        3 => State::Stopped,
        _ => State::Unknown,
    }
}

/// The registration tool of a family, with its add and remove arguments.
fn tool(flavor: Flavor, name: &str) -> (&'static str, Vec<String>, Vec<String>) {
    let v = |a: &[&str]| a.iter().map(|s| s.replace("{}", name)).collect();
    match flavor {
        Flavor::Debian => ("update-rc.d", v(&["{}", "defaults"]), v(&["-f", "{}", "remove"])),
        Flavor::Rhel => ("chkconfig", v(&["--add", "{}"]), v(&["--del", "{}"])),
    }
}

/// Whether the running host has its family's registration tool.
fn has_tool(flavor: Flavor) -> bool {
    let (t, _, _) = tool(flavor, "");
    ["/usr/sbin", "/sbin", "/usr/bin"].iter().any(|d| Path::new(d).join(t).exists())
}

impl Driver for Sysv {
    fn act(&self, ctx: &Ctx<'_>, action: Action, instances: &[Option<String>]) -> i32 {
        let mut code = 0;
        for i in instances {
            let mut args = vec![action.verb().to_owned()];
            args.extend(i.clone());
            let c = native(&format!("/etc/init.d/{}", ctx.name), &args);
            if code == 0 {
                code = c;
            }
        }
        code
    }

    fn status(&self, name: &str, instance: Option<&str>) -> Status {
        let script = format!("/etc/init.d/{name}");
        let code = std::process::Command::new(&script)
            .arg("status")
            .args(instance)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()
            .and_then(|s| s.code())
            .unwrap_or(4);
        let pid = pidfile_pid(&facts::pidfile(name, instance));
        Status::new(instance, script, state_of(code), pid, pid.and_then(process_uptime))
    }

    fn enable_links(&self, recipe: &Recipe, _: &Layout, flavor: Flavor, _: Option<&str>) -> Vec<LinkRecord> {
        let name = &recipe.name;
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

    fn enables_once(&self) -> bool {
        true
    }

    fn enables_natively(&self, flavor: Flavor) -> bool {
        has_tool(flavor)
    }

    fn after_change(&self, m: &mut Manifest, enable: bool) -> Result<bool> {
        if !enable || m.registered_with.is_some() || !has_tool(m.flavor) {
            return Ok(false);
        }
        let (t, add, _) = tool(m.flavor, &m.recipe);
        if native(t, &add) == 0 {
            m.registered_with = Some(t.to_owned());
            manifest::save(&crate::host::scope::Place::system(Path::new("/")), m)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// One script serves every instance: it is disabled as a whole, never
    /// for one instance.
    fn disable_natively(&self, m: &mut Manifest, instance: Option<&str>) -> bool {
        if instance.is_some() {
            return false;
        }
        let Some(registered) = m.registered_with.take() else { return false };
        let (t, _, remove) = tool(m.flavor, &m.recipe);
        if t == registered {
            native(t, &remove);
        }
        true
    }

    /// Registered with update-rc.d or chkconfig, or its rc links made.
    fn enabled(&self, _: &Path, m: &Manifest, _: Option<&str>) -> bool {
        m.registered_with.is_some() || !m.links.is_empty()
    }

    /// The console log the script sends the daemon's output to: its lines
    /// as the daemon wrote them.
    fn log_source(&self, m: &Manifest, instance: Option<&str>) -> LogSource {
        LogSource::File { path: facts::console_log(&Layout::default(), &m.recipe, instance), stamp: Stamp::None }
    }

    fn signs(&self) -> Signs {
        Signs {
            running_file: None,
            pid1: &["init"],
            process: None,
            image_init: &[],
            installed: &["/etc/init.d"],
            fallback: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsb_codes_map_to_states_and_back() {
        for code in [0, 1, 3, 4] {
            assert_eq!(state_of(code).lsb(), code);
        }
        assert_eq!(state_of(2), State::Dead);
        assert_eq!(tool(Flavor::Rhel, "x").2, ["--del", "x"]);
    }
}
