//! What `conditions.security` may ask, as systemd's `ConditionSecurity=`
//! does: a security framework the kernel runs, or a property of the boot.

/// Each answer systemd's `ConditionSecurity=` knows that initkit's scripts
/// can also test, with how the script tests it (docs/recipes.md). systemd's
/// `cvm` asks the CPU (CPUID), which a script cannot.
pub const ALL: [(Security, &str); 9] = [
    (Security::Selinux, "selinux"),
    (Security::Apparmor, "apparmor"),
    (Security::Smack, "smack"),
    (Security::Tomoyo, "tomoyo"),
    (Security::Ima, "ima"),
    (Security::Audit, "audit"),
    (Security::UefiSecureboot, "uefi-secureboot"),
    (Security::Tpm2, "tpm2"),
    (Security::MeasuredUki, "measured-uki"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Selinux,
    Apparmor,
    Smack,
    Tomoyo,
    Ima,
    /// The kernel's audit subsystem.
    Audit,
    /// UEFI Secure Boot is on.
    UefiSecureboot,
    /// The firmware measured the boot into a TPM 2.0 the kernel drives.
    Tpm2,
    /// The kernel was booted from a unified kernel image that measured itself.
    MeasuredUki,
}

impl Security {
    pub fn parse(text: &str) -> Result<Security, String> {
        ALL.iter().find(|(_, n)| *n == text).map(|(s, _)| *s).ok_or_else(|| {
            let names: Vec<&str> = ALL.iter().map(|(_, n)| *n).collect();
            let cvm = if text == "cvm" { " (`cvm` asks the CPU, which initkit's scripts cannot)" } else { "" };
            format!("`{text}` is not a security test initkit has{cvm}: use {}", names.join(", "))
        })
    }

    /// The name systemd and a recipe write.
    pub fn name(self) -> &'static str {
        ALL.iter().find(|(s, _)| *s == self).map_or("", |(_, n)| n)
    }

    /// What holds, for messages ("… must be on"): "SELinux", "UEFI Secure Boot".
    pub fn describe(self) -> &'static str {
        match self {
            Security::Selinux => "SELinux",
            Security::Apparmor => "AppArmor",
            Security::Smack => "SMACK",
            Security::Tomoyo => "TOMOYO",
            Security::Ima => "IMA",
            Security::Audit => "the kernel's audit",
            Security::UefiSecureboot => "UEFI Secure Boot",
            Security::Tpm2 => "a TPM 2.0 the firmware measured the boot into",
            Security::MeasuredUki => "a measured unified kernel image boot",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for (s, name) in ALL {
            assert_eq!(Security::parse(name), Ok(s));
            assert_eq!(s.name(), name);
        }
        assert!(Security::parse("cvm").unwrap_err().contains("asks the CPU"));
        assert!(Security::parse("SELinux").is_err());
    }
}
