//! Rendering: a pure function from a validated recipe to native artifacts (text and paths).

pub mod cron;
pub mod daemontools;
pub mod envfile;
pub mod facts;
pub mod features;
pub mod launchd;
pub mod logrotate;
pub mod openrc;
pub mod runit;
pub mod s6;
pub mod service_dir;
pub mod settings_file;
pub mod sh;
pub mod shell;
pub mod supervisord;
pub mod systemd;
pub mod systemd_escape;
pub mod sysv;
pub mod target;
pub mod upstart;
pub mod user;
pub mod values;

use serde::Serialize;

use crate::recipe::{Recipe, check_instance_name};

pub use features::Feature;
pub use target::{Backend, Practice, Support, Target};

/// The distribution family: where settings live and how services are registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// `/etc/default`, update-rc.d.
    #[default]
    Debian,
    /// `/etc/sysconfig`, chkconfig, `/var/lock/subsys`.
    Rhel,
}

impl Flavor {
    pub const ALL: [Flavor; 2] = [Flavor::Debian, Flavor::Rhel];

    pub fn name(self) -> &'static str {
        match self {
            Flavor::Debian => "debian",
            Flavor::Rhel => "rhel",
        }
    }
}

/// Where the host keeps things. `root` is prefixed to every path; it is empty
/// on a real host and a scratch directory in tests. With `user`, the
/// services are that user's (`initkit install --user`): their units,
/// settings and directories are in the user's own directories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub root: String,
    pub user: Option<user::UserDirs>,
}

impl Layout {
    pub fn etc(&self) -> String {
        format!("{}/etc", self.root)
    }
    /// A service's runtime, state and log directories are under these; a
    /// user's where systemd 252 (Debian 12) puts them for a user manager:
    /// `$XDG_RUNTIME_DIR`, `$XDG_CONFIG_HOME`, `$XDG_CONFIG_HOME/log`.
    pub fn run(&self) -> String {
        match &self.user {
            Some(u) => format!("{}{}", self.root, u.runtime),
            None => format!("{}/run", self.root),
        }
    }
    pub fn state(&self) -> String {
        match &self.user {
            Some(u) => format!("{}{}", self.root, u.config),
            None => format!("{}/var/lib", self.root),
        }
    }
    pub fn log(&self) -> String {
        match &self.user {
            Some(u) => format!("{}{}/log", self.root, u.config),
            None => format!("{}/var/log", self.root),
        }
    }
    pub fn lock(&self) -> String {
        format!("{}/var/lock/subsys", self.root)
    }
    /// initkit's own configuration: `/etc/initkit`, or the user's `~/.config/initkit`.
    pub fn initkit_config(&self) -> String {
        match &self.user {
            Some(u) => format!("{}{}/initkit", self.root, u.config),
            None => format!("{}/initkit", self.etc()),
        }
    }
    /// Where systemd reads units: the system's, or the user manager's.
    pub fn systemd_units(&self) -> String {
        match &self.user {
            Some(u) => format!("{}{}/systemd/user", self.root, u.config),
            None => format!("{}/systemd/system", self.etc()),
        }
    }
    /// The directory of per-service settings for a flavour; a user's are
    /// in `~/.config/initkit/settings` on every distribution.
    pub fn settings(&self, flavor: Flavor) -> String {
        match (&self.user, flavor) {
            (Some(_), _) => format!("{}/settings", self.initkit_config()),
            (None, Flavor::Debian) => format!("{}/default", self.etc()),
            (None, Flavor::Rhel) => format!("{}/sysconfig", self.etc()),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub flavor: Flavor,
    pub layout: Layout,
    /// With an instance, its settings file (holding the defaults) is rendered too.
    pub instance: Option<String>,
}

/// One file to write: its absolute path on the target host, mode and content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Artifact {
    pub path: String,
    pub mode: u32,
    pub content: String,
    /// Shared by every instance on a target that renders one service per
    /// instance (the environment file): installed with the first, removed with the last.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

impl Artifact {
    pub fn new(path: String, mode: u32, content: String) -> Artifact {
        Artifact { path, mode, content, shared: false }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RenderError {
    #[error("recipe `{0}` has no [instances], so `{0}@{1}` does not exist")]
    NotMultiInstance(String, String),
    #[error("{0}")]
    BadInstance(String),
    #[error("{target} runs one service per instance: name one, as `{name}@INSTANCE`")]
    NeedsInstance { target: &'static str, name: String },
    #[error(
        "{0} has no per-user services initkit can write: --user works with systemd (a user manager), runit and s6 (a runsvdir or s6-svscan of the user's own) and launchd (a LaunchAgent)"
    )]
    NoUserServices(&'static str),
    #[error("{target} cannot render what recipe `{name}` asks for:\n  {}", .fields.join("\n  "))]
    Unsupported { target: &'static str, name: String, fields: Vec<String> },
}

/// Renders `recipe` for `target`; with an instance, its settings file (holding
/// the defaults) comes too.
pub fn render(recipe: &Recipe, target: Target, options: &Options) -> Result<Vec<Artifact>, RenderError> {
    let mut out = artifacts(recipe, target, options)?;
    if let Some(instance) = &options.instance {
        out.push(settings_file(recipe, target, options, instance));
    }
    Ok(out)
}

/// The artifacts of `recipe` for `target`: for per-instance targets, those of
/// `options.instance` (or the recipe's default instance).
pub fn artifacts(recipe: &Recipe, target: Target, options: &Options) -> Result<Vec<Artifact>, RenderError> {
    if let Some(instance) = &options.instance {
        if recipe.instances.is_none() {
            return Err(RenderError::NotMultiInstance(recipe.name.clone(), instance.clone()));
        }
        check_instance_name(instance).map_err(|e| RenderError::BadInstance(e.to_string()))?;
    }
    let mut refused = features::refusals(recipe, target);
    if options.layout.user.is_some() {
        if !target.backend().per_user() {
            return Err(RenderError::NoUserServices(target.name()));
        }
        refused.extend(user::refusals(recipe));
    }
    if !refused.is_empty() {
        return Err(RenderError::Unsupported { target: target.name(), name: recipe.name.clone(), fields: refused });
    }
    let backend = target.backend();
    let instance = if backend.per_instance() {
        let default = recipe.instances.as_ref().and_then(|i| i.default.clone());
        match (&recipe.instances, options.instance.clone().or(default)) {
            (None, _) => None,
            (Some(_), Some(i)) => Some(i),
            (Some(_), None) => {
                return Err(RenderError::NeedsInstance { target: target.name(), name: recipe.name.clone() });
            }
        }
    } else {
        None
    };
    let mut out = backend.render(recipe, options, instance.as_deref());
    if backend.reads_env_file()
        && let Some(env) = envfile::render(recipe, &options.layout)
    {
        out.push(env);
    }
    Ok(out)
}

/// The settings file of one instance on `target`, with every default commented out.
pub fn settings_file(recipe: &Recipe, target: Target, options: &Options, instance: &str) -> Artifact {
    let settings = target.backend().settings(&recipe.name, &options.layout, options.flavor);
    settings_file::render(recipe, &settings, instance)
}

/// Seconds with millisecond precision, as `sleep` and `timeout` take them.
pub fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{}", ms / 1000) } else { format!("{}.{:03}", ms / 1000, ms % 1000) }
}
