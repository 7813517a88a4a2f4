//! How a service stands to other services and units: ordering and
//! dependencies, and the targets that start it.

use std::fmt;

use super::ServiceSpec;

/// Another service, or a unit only systemd has (a target, a socket, a mount).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dep {
    /// A service by its name, as every init system calls it (`postgresql`,
    /// `redis@a`); `x.service` is written as `x`.
    Service(ServiceSpec),
    /// The same instance of another service with instances
    /// (`postgresql@{instance}`): a backup of cluster `15-main` after the
    /// cluster `15-main` itself. Only in a recipe with `[instances]`.
    Instance(String),
    /// A systemd unit of another type (`network.target`, `dbus.socket`,
    /// `srv-data.mount`), or a service no recipe could be named after
    /// (`NetworkManager.service`), kept as written.
    Unit(String),
}

/// How a dependency names the same instance of another service.
pub const SAME_INSTANCE: &str = "@{instance}";

/// The unit types a dependency may name besides services.
pub const UNIT_SUFFIXES: [&str; 10] =
    [".target", ".socket", ".mount", ".automount", ".device", ".path", ".slice", ".swap", ".timer", ".scope"];

impl Dep {
    /// Parses `NAME[@INSTANCE]`, `NAME[@INSTANCE].service`, or a unit name
    /// with one of [`UNIT_SUFFIXES`].
    pub fn parse(text: &str) -> Result<Dep, String> {
        if let Some(suffix) = UNIT_SUFFIXES.iter().find(|s| text.ends_with(*s)) {
            let stem = &text[..text.len() - suffix.len()];
            return if unit_stem(stem) {
                Ok(Dep::Unit(text.to_owned()))
            } else {
                Err(format!("`{text}` is not a unit name: letters, digits, `:`, `_`, `.`, `-`, `\\`, `@`"))
            };
        }
        let spec = text.strip_suffix(".service").unwrap_or(text);
        if let Some(name) = spec.strip_suffix(SAME_INSTANCE) {
            return match crate::recipe::check_recipe_name(name) {
                Ok(()) => Ok(Dep::Instance(name.to_owned())),
                Err(e) => Err(format!("{e}, before `{SAME_INSTANCE}`")),
            };
        }
        match ServiceSpec::parse(spec) {
            Ok(spec) => Ok(Dep::Service(spec)),
            // A service no recipe could be named after (`NetworkManager.service`)
            // is systemd's alone, kept as written.
            Err(_) if spec.len() < text.len() && unit_stem(spec) => Ok(Dep::Unit(text.to_owned())),
            Err(e) => Err(format!(
                "{e}; or name a systemd unit with its type, such as `network-online.target`, `dbus.socket` or \
                 `NetworkManager.service`"
            )),
        }
    }

    /// The systemd unit it is: `x.service`, `x@i.service`, `x@%i.service`
    /// (the unit's own instance), or the unit as written.
    pub fn unit(&self) -> String {
        match self {
            Dep::Service(s) => format!("{s}.service"),
            Dep::Instance(name) => format!("{name}@%i.service"),
            Dep::Unit(u) => u.clone(),
        }
    }

    /// The service's name, for a dependency on a service.
    pub fn service_name(&self) -> Option<&str> {
        match self {
            Dep::Service(s) => Some(&s.name),
            Dep::Instance(name) => Some(name),
            Dep::Unit(_) => None,
        }
    }

    /// The unit's type suffix (`.target`), for a unit that is not a service.
    pub fn unit_type(&self) -> Option<&str> {
        match self {
            Dep::Service(_) | Dep::Instance(_) => None,
            Dep::Unit(u) => UNIT_SUFFIXES.iter().copied().find(|s| u.ends_with(s)),
        }
    }
}

/// The name of a systemd unit before its type suffix, as systemd takes it.
fn unit_stem(stem: &str) -> bool {
    !stem.is_empty()
        && stem.len() <= 200
        && stem.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '.' | '-' | '\\' | '@'))
}

impl fmt::Display for Dep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dep::Service(s) => write!(f, "{s}"),
            Dep::Instance(name) => write!(f, "{name}{SAME_INSTANCE}"),
            Dep::Unit(u) => f.write_str(u),
        }
    }
}

/// The relations of `[depends]`, each a list of services or units.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Depends {
    /// Started after these, when they are started too (ordering only).
    pub after: Vec<Dep>,
    /// Started before these.
    pub before: Vec<Dep>,
    /// Started along with this one; their failure does not matter.
    pub wants: Vec<Dep>,
    /// Started along with this one, which fails when they fail to start.
    pub requires: Vec<Dep>,
    /// As `requires`, and stopped as soon as one of them stops.
    pub binds_to: Vec<Dep>,
    /// Stopped and restarted when one of them is.
    pub part_of: Vec<Dep>,
    /// Never runs at the same time as these.
    pub conflicts: Vec<Dep>,
    /// Paths whose file systems must be mounted first (systemd `RequiresMountsFor=`).
    /// A path may name the instance (`/var/lib/postgresql/{instance_path}`).
    pub mounts: Vec<super::Template>,
    /// Reloaded when one of these is (systemd `ReloadPropagatedFrom=`): a
    /// PostgreSQL cluster when `postgresql`, the umbrella of all, reloads.
    pub reload_from: Vec<Dep>,
}

/// The relation names of `[depends]` with their lists, in a fixed order.
pub const RELATIONS: [&str; 7] = ["after", "before", "wants", "requires", "binds_to", "part_of", "conflicts"];

impl Depends {
    /// Each relation's name with its list, in [`RELATIONS`] order.
    pub fn relations(&self) -> [(&'static str, &Vec<Dep>); 7] {
        [
            ("after", &self.after),
            ("before", &self.before),
            ("wants", &self.wants),
            ("requires", &self.requires),
            ("binds_to", &self.binds_to),
            ("part_of", &self.part_of),
            ("conflicts", &self.conflicts),
        ]
    }

    pub fn relation_mut(&mut self, name: &str) -> Option<&mut Vec<Dep>> {
        Some(match name {
            "after" => &mut self.after,
            "before" => &mut self.before,
            "wants" => &mut self.wants,
            "requires" => &mut self.requires,
            "binds_to" => &mut self.binds_to,
            "part_of" => &mut self.part_of,
            "conflicts" => &mut self.conflicts,
            _ => return None,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.relations().iter().all(|(_, l)| l.is_empty()) && self.mounts.is_empty() && self.reload_from.is_empty()
    }

    /// What must be up before this starts (`requires` and `binds_to`).
    pub fn required(&self) -> impl Iterator<Item = &Dep> {
        self.requires.iter().chain(&self.binds_to)
    }

    /// What this starts after when present (`after` and `wants`, not already required).
    pub fn ordered_after(&self) -> Vec<&Dep> {
        let mut out: Vec<&Dep> = Vec::new();
        for d in self.after.iter().chain(&self.wants) {
            if !out.contains(&d) && !self.required().any(|r| r == d) {
                out.push(d);
            }
        }
        out
    }
}

/// A systemd target the service is started by at boot (`multi-user.target`).
pub fn is_target(text: &str) -> bool {
    matches!(Dep::parse(text), Ok(Dep::Unit(u)) if u.ends_with(".target"))
}
