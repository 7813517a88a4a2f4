//! The host half of each init system: driving it (act and status), enabling
//! at boot, telling it about a change, where its logs are, and how to
//! recognise it. One
//! implementation per target under `drivers/`, chosen by one exhaustive match.

use super::{
    action::{Action, Status},
    drivers::{
        self,
        runit::{down_file, scan_link, starts_with_supervisor},
    },
    error::Result,
    logs::LogSource,
    manifest::{LinkRecord, Manifest},
};
use crate::{
    recipe::Recipe,
    render::{Flavor, Layout, Target},
};

/// What an action needs to know about the installed service.
pub struct Ctx<'a> {
    pub name: &'a str,
    pub recipe: &'a Recipe,
    pub flavor: Flavor,
}

impl Ctx<'_> {
    /// The progress line's text for `action` on one instance (see
    /// [`Action::waiting_on`]), named as its init system names it.
    pub fn waiting_on(&self, action: Action, instance: Option<&str>) -> String {
        action.waiting_on(&crate::render::facts::service_name(self.name, instance), self.recipe)
    }
}

/// What points to an init system on a host or in an image.
#[derive(Debug, Clone, Copy, Default)]
pub struct Signs {
    /// A file that exists only while it runs (`/run/systemd/system`).
    pub running_file: Option<&'static str>,
    /// PID 1's executable names.
    pub pid1: &'static [&'static str],
    /// The command name of its supervisor, when it runs as an ordinary process.
    pub process: Option<&'static str>,
    /// What an image's /sbin/init links to (a substring of the target).
    pub image_init: &'static [&'static str],
    /// Files that are all there when it is installed.
    pub installed: &'static [&'static str],
    /// Its installed files are the weakest evidence (every distribution has /etc/init.d).
    pub fallback: bool,
}

pub trait Driver: Sync {
    /// Carries out `action` on each instance (`None`: the service) through the
    /// native tool; the first non-zero exit code.
    fn act(&self, ctx: &Ctx<'_>, action: Action, instances: &[Option<String>]) -> i32;
    /// The state of one instance, from the native tool (needs no recipe).
    fn status(&self, name: &str, instance: Option<&str>) -> Status;
    /// The links that enable `instance` (or the whole service) at boot (a
    /// user's at login, with `layout.user`).
    fn enable_links(&self, recipe: &Recipe, layout: &Layout, flavor: Flavor, instance: Option<&str>)
    -> Vec<LinkRecord>;
    /// Links an instance (`None`: the service of a recipe without instances)
    /// needs to exist at all, not only to start at boot: its link in the
    /// scan directory, for a supervisor that has one.
    fn instance_links(&self, recipe: &Recipe, instance: Option<&str>) -> Vec<LinkRecord> {
        self.scan_dirs().map_or_else(Vec::new, |(defs, scan)| scan_link((&defs, &scan), &recipe.name, instance))
    }
    /// For a supervisor that runs whatever its scan directory links (runit,
    /// s6, daemontools): where it keeps service directories, and the scan
    /// directory. Every installed instance is linked there (so that it can be
    /// started at any time), and a `down` file in its service directory keeps
    /// one that is not enabled down when the supervisor comes up, at boot.
    fn scan_dirs(&self) -> Option<(String, String)> {
        None
    }
    /// Whether the whole service is enabled once (one script serves every instance).
    fn enables_once(&self) -> bool {
        false
    }
    /// Whether a native tool makes the enable links on the running host.
    fn enables_natively(&self, _flavor: Flavor) -> bool {
        false
    }
    /// On the running host, after files changed: tell the init system (and,
    /// with `enable`, let its own tool register the service). Returns whether
    /// the manifest changed.
    fn after_change(&self, _m: &mut Manifest, _enable: bool) -> Result<bool> {
        Ok(false)
    }
    /// Whether `instance` (or the service) starts at boot on the host under
    /// `root`, from what the manifest records: an enable link (not an
    /// instance's own link).
    fn enabled(&self, root: &std::path::Path, m: &Manifest, instance: Option<&str>) -> bool {
        match self.scan_dirs() {
            Some((defs, scan)) => starts_with_supervisor(root, m, (&defs, &scan), instance),
            None => m.links.iter().any(|l| l.instance.as_deref() == instance && self.is_enable_link(l)),
        }
    }
    /// Whether a link initkit made starts the service at boot (removed by
    /// `disable`), as opposed to one the instance needs to exist at all (a
    /// scan-directory link is the latter: a `down` file disables).
    fn is_enable_link(&self, link: &LinkRecord) -> bool {
        self.scan_dirs().is_none() && !link.path.starts_with("/etc/init.d/")
    }
    /// The `down` file that holds an instance down under a supervisor with a
    /// scan directory; `None` where links enable.
    fn down_file(&self, name: &str, instance: Option<&str>) -> Option<String> {
        self.scan_dirs().map(|(defs, scan)| down_file((&defs, &scan), name, instance))
    }
    /// On the running host, once uninstall has removed an instance's links
    /// and before its files go: a supervisor lets go of the service
    /// directory, and the state it made there goes, so that the directory
    /// can be removed.
    fn release(&self, _name: &str, _instance: Option<&str>) {}
    /// On the running host: undo what the native tool did to enable
    /// `instance` (or the service); returns whether the manifest changed.
    fn disable_natively(&self, _m: &mut Manifest, _instance: Option<&str>) -> bool {
        false
    }
    /// Where the log of `instance` (or of the service) is on the host: the
    /// journal's unit, or the file the init system or its logger writes
    /// (needs no recipe, which only root may read).
    fn log_source(&self, m: &Manifest, instance: Option<&str>) -> LogSource;
    /// How to recognise it.
    fn signs(&self) -> Signs;
}

/// The driver of an init system.
pub fn driver(target: Target) -> &'static dyn Driver {
    match target {
        Target::Systemd => &drivers::systemd::SYSTEM,
        Target::Sysv => &drivers::sysv::Sysv,
        Target::Runit => &drivers::runit::SYSTEM,
        Target::S6 => &drivers::s6::SYSTEM,
        Target::Daemontools => &drivers::daemontools::Daemontools,
        Target::Supervisord => &drivers::supervisord::Supervisord,
        Target::Openrc => &drivers::openrc::Openrc,
        Target::Upstart => &drivers::upstart::Upstart,
        Target::Launchd => &drivers::launchd::Launchd,
    }
}

/// The driver of a user's services on an init system, where initkit can
/// install and drive them (a user manager); `None` where it cannot.
pub fn user_driver(target: Target) -> Option<&'static dyn Driver> {
    match target {
        Target::Systemd => Some(&drivers::systemd::USER),
        // A runsvdir of the user's own, over ~/service.
        Target::Runit => Some(&drivers::runit::USER),
        // An s6-svscan of the user's own, over $XDG_CONFIG_HOME/s6/service.
        Target::S6 => Some(&drivers::s6::USER),
        // A LaunchAgent is rendered only: launchd does not run here.
        Target::Launchd
        | Target::Sysv
        | Target::Daemontools
        | Target::Supervisord
        | Target::Openrc
        | Target::Upstart => None,
    }
}

/// The driver of an installed service: its user's, for a user's service.
pub fn driver_of(m: &Manifest) -> &'static dyn Driver {
    driver_for(m.target, m.user.is_some())
}

/// The driver of an init system for the system's services, or for a user's.
pub fn driver_for(target: Target, user: bool) -> &'static dyn Driver {
    if user { user_driver(target).unwrap_or_else(|| driver(target)) } else { driver(target) }
}
