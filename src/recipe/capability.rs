//! Linux capabilities by name and number (linux/capability.h, capabilities(7)),
//! for `conditions.capability`: systemd's `ConditionCapability=` takes the
//! name; initkit's scripts test the bit of that number in the bounding set.

/// Every capability Linux 6.x defines, in the order of its number.
pub const CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// A capability: its name and its bit in the kernel's masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capability {
    pub name: &'static str,
    pub bit: u8,
}

impl Capability {
    /// The capability `name` is (as written, `CAP_` and upper case), or why not.
    pub fn parse(name: &str) -> Result<Capability, String> {
        if let Some(bit) = CAPABILITIES.iter().position(|c| *c == name) {
            return Ok(Capability { name: CAPABILITIES[bit], bit: u8::try_from(bit).unwrap_or(u8::MAX) });
        }
        let upper = format!("CAP_{}", name.to_ascii_uppercase().trim_start_matches("CAP_"));
        let hint = if CAPABILITIES.contains(&upper.as_str()) && upper != name {
            format!(": write `{upper}`")
        } else {
            ": use a name of capabilities(7) such as CAP_NET_ADMIN or CAP_SYS_MODULE".to_owned()
        };
        Err(format!("`{name}` is not a capability Linux has{hint}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_the_kernels() {
        // linux/capability.h: the first, a few in between, and the last.
        let bit = |n| Capability::parse(n).unwrap().bit;
        assert_eq!(bit("CAP_CHOWN"), 0);
        assert_eq!(bit("CAP_NET_ADMIN"), 12);
        assert_eq!(bit("CAP_SYS_MODULE"), 16);
        assert_eq!(bit("CAP_SYS_ADMIN"), 21);
        assert_eq!(bit("CAP_SYS_TIME"), 25);
        assert_eq!(bit("CAP_SYSLOG"), 34);
        assert_eq!(bit("CAP_CHECKPOINT_RESTORE"), 40);
    }

    #[test]
    fn unknown_names_say_what_to_write() {
        assert_eq!(
            Capability::parse("cap_sys_admin").unwrap_err(),
            "`cap_sys_admin` is not a capability Linux has: write `CAP_SYS_ADMIN`"
        );
        assert_eq!(
            Capability::parse("SYS_ADMIN").unwrap_err(),
            "`SYS_ADMIN` is not a capability Linux has: write `CAP_SYS_ADMIN`"
        );
        assert!(Capability::parse("CAP_FLY").unwrap_err().contains("capabilities(7)"));
    }
}
