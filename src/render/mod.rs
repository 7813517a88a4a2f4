//! Rendering: a pure function from a validated recipe to native artifacts (text and paths).

pub mod launchd;
pub mod logrotate;
pub mod openrc;
pub mod service_sh;
pub mod sh;
pub mod supervised;
pub mod systemd;
pub mod systemd_escape;
pub mod sysv;
mod sysv_instance;
pub mod upstart;
pub mod values;

use serde::Serialize;

use crate::recipe::{Recipe, check_instance_name};

/// The init systems initkit renders for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Systemd,
    Sysv,
    Runit,
    S6,
    Daemontools,
    Supervisord,
    Openrc,
    Upstart,
    Launchd,
}

impl Target {
    pub const ALL: [Target; 9] = [
        Target::Systemd,
        Target::Sysv,
        Target::Runit,
        Target::S6,
        Target::Daemontools,
        Target::Supervisord,
        Target::Openrc,
        Target::Upstart,
        Target::Launchd,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Systemd => "systemd",
            Target::Sysv => "sysv",
            Target::Runit => "runit",
            Target::S6 => "s6",
            Target::Daemontools => "daemontools",
            Target::Supervisord => "supervisord",
            Target::Openrc => "openrc",
            Target::Upstart => "upstart",
            Target::Launchd => "launchd",
        }
    }

    /// Targets that render one service per instance (a directory or a program).
    pub fn per_instance(self) -> bool {
        !matches!(self, Target::Systemd | Target::Sysv | Target::Openrc | Target::Upstart)
    }
}

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
/// on a real host and a scratch directory in tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub root: String,
}

impl Layout {
    pub fn etc(&self) -> String {
        format!("{}/etc", self.root)
    }
    pub fn run(&self) -> String {
        format!("{}/run", self.root)
    }
    pub fn state(&self) -> String {
        format!("{}/var/lib", self.root)
    }
    pub fn log(&self) -> String {
        format!("{}/var/log", self.root)
    }
    pub fn lock(&self) -> String {
        format!("{}/var/lock/subsys", self.root)
    }
    /// The directory of per-service settings for a flavour.
    pub fn settings(&self, flavor: Flavor) -> String {
        match flavor {
            Flavor::Debian => format!("{}/default", self.etc()),
            Flavor::Rhel => format!("{}/sysconfig", self.etc()),
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
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RenderError {
    #[error("recipe `{0}` has no [instances], so `{0}@{1}` does not exist")]
    NotMultiInstance(String, String),
    #[error("{0}")]
    BadInstance(String),
    #[error("{target} runs one service per instance: name one, as `{name}@INSTANCE`")]
    NeedsInstance { target: &'static str, name: String },
}

/// Renders `recipe` for `target`; with an instance, its settings file (holding
/// the defaults) comes too.
pub fn render(recipe: &Recipe, target: Target, options: &Options) -> Result<Vec<Artifact>, RenderError> {
    let mut out = artifacts(recipe, target, options)?;
    if let Some(instance) = &options.instance {
        out.push(sysv_instance::render(recipe, options, instance));
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
    Ok(match target {
        Target::Systemd => vec![systemd::render(recipe, options)],
        Target::Sysv => vec![sysv::render(recipe, options), logrotate::render(recipe, options)],
        Target::Openrc => vec![openrc::render(recipe, options), logrotate::render(recipe, options)],
        Target::Upstart => upstart::render(recipe, options),
        _ => {
            let default = recipe.instances.as_ref().and_then(|i| i.default.clone());
            let instance = match (&recipe.instances, options.instance.clone().or(default)) {
                (None, _) => None,
                (Some(_), Some(i)) => Some(i),
                (Some(_), None) => {
                    return Err(RenderError::NeedsInstance { target: target.name(), name: recipe.name.clone() });
                }
            };
            if target == Target::Launchd {
                vec![launchd::render(recipe, options, instance.as_deref())]
            } else {
                supervised::render(recipe, target, options, instance.as_deref())
            }
        }
    })
}

/// The settings file of one instance, with every default commented out.
pub fn sysv_instance_file(recipe: &Recipe, options: &Options, instance: &str) -> Artifact {
    sysv_instance::render(recipe, options, instance)
}

/// Seconds with millisecond precision, as `sleep` and `timeout` take them.
pub fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{}", ms / 1000) } else { format!("{}.{:03}", ms / 1000, ms % 1000) }
}
