//! What `conditions.virtualization` may ask, as systemd's
//! `ConditionVirtualization=` does: any virtualization, a kind of it, or one
//! technology by the name `systemd-detect-virt --list` prints.

use std::fmt;

/// The technologies systemd detects (systemd 252's `systemd-detect-virt
/// --list`, without `none`), each a virtual machine or a container.
pub const TECHNOLOGIES: [(&str, Kind); 30] = [
    ("kvm", Kind::Vm),
    ("amazon", Kind::Vm),
    ("qemu", Kind::Vm),
    ("bochs", Kind::Vm),
    ("xen", Kind::Vm),
    ("uml", Kind::Vm),
    ("vmware", Kind::Vm),
    ("oracle", Kind::Vm),
    ("microsoft", Kind::Vm),
    ("zvm", Kind::Vm),
    ("parallels", Kind::Vm),
    ("bhyve", Kind::Vm),
    ("qnx", Kind::Vm),
    ("acrn", Kind::Vm),
    ("powervm", Kind::Vm),
    ("apple", Kind::Vm),
    ("sre", Kind::Vm),
    ("google", Kind::Vm),
    ("vm-other", Kind::Vm),
    ("systemd-nspawn", Kind::Container),
    ("lxc-libvirt", Kind::Container),
    ("lxc", Kind::Container),
    ("openvz", Kind::Container),
    ("docker", Kind::Container),
    ("podman", Kind::Container),
    ("rkt", Kind::Container),
    ("wsl", Kind::Container),
    ("proot", Kind::Container),
    ("pouch", Kind::Container),
    ("container-other", Kind::Container),
];

/// A kind of virtualization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Vm,
    Container,
}

/// The question: `yes`, `no`, `vm`, `container`, `private-users`, or a technology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Virtualization {
    /// Any virtual machine or container.
    Yes,
    /// Neither.
    No,
    Vm,
    Container,
    /// A user namespace (systemd-detect-virt `--private-users`).
    PrivateUsers,
    Technology(&'static str, Kind),
}

impl Virtualization {
    /// The value `text` is, or why not. systemd also takes its other booleans
    /// (`true`, `1`, `off`…); a recipe writes `yes` or `no`, and the import
    /// reads those others as them.
    pub fn parse(text: &str) -> Result<Virtualization, String> {
        Ok(match text {
            "yes" => Virtualization::Yes,
            "no" => Virtualization::No,
            "vm" => Virtualization::Vm,
            "container" => Virtualization::Container,
            "private-users" => Virtualization::PrivateUsers,
            other => {
                if let Some((name, kind)) = TECHNOLOGIES.iter().find(|(name, _)| *name == other) {
                    return Ok(Virtualization::Technology(name, *kind));
                }
                let names: Vec<&str> = TECHNOLOGIES.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "`{text}` is not a virtualization systemd detects: use yes, no, vm, container, private-users, or one of {}",
                    names.join(", ")
                ));
            }
        })
    }

    /// As a recipe and a unit write it.
    pub fn name(self) -> &'static str {
        match self {
            Virtualization::Yes => "yes",
            Virtualization::No => "no",
            Virtualization::Vm => "vm",
            Virtualization::Container => "container",
            Virtualization::PrivateUsers => "private-users",
            Virtualization::Technology(name, _) => name,
        }
    }

    /// What holds, in words, and whether those words say the opposite of the
    /// value (`no` is "virtualized", negated), for messages.
    pub fn describe(self) -> (&'static str, bool) {
        match self {
            Virtualization::Yes => ("run in a virtual machine or a container", false),
            Virtualization::No => ("run in a virtual machine or a container", true),
            Virtualization::Vm => ("run in a virtual machine", false),
            Virtualization::Container => ("run in a container", false),
            Virtualization::PrivateUsers => ("run in a user namespace", false),
            Virtualization::Technology(_, Kind::Vm) => ("run in a virtual machine of this technology", false),
            Virtualization::Technology(_, Kind::Container) => ("run in a container of this technology", false),
        }
    }
}

impl fmt::Display for Virtualization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// systemd's booleans (`parse_boolean`), as `yes` or `no`.
pub fn boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_as_written() {
        for text in ["yes", "no", "vm", "container", "private-users", "kvm", "docker", "systemd-nspawn", "vm-other"] {
            assert_eq!(Virtualization::parse(text).unwrap().name(), text);
        }
        assert_eq!(Virtualization::parse("docker").unwrap(), Virtualization::Technology("docker", Kind::Container));
    }

    #[test]
    fn an_unknown_value_lists_the_known_ones() {
        let e = Virtualization::parse("virtualbox").unwrap_err();
        assert!(
            e.starts_with("`virtualbox` is not a virtualization systemd detects: use yes, no, vm, container"),
            "{e}"
        );
        assert!(e.contains("oracle") && e.contains("podman"), "{e}");
    }
}
