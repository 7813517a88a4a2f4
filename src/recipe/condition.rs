//! `[conditions]`: what must hold of the machine for a start to happen at
//! all, as systemd's `Condition…=` settings test it. An unmet condition skips
//! the start (it does not fail it); of `[conditions.any]`, one holding is
//! enough (systemd's triggering `|` conditions).

use super::{
    capability::Capability,
    security::Security,
    template::Template,
    text::{self, Kind},
    virtualization::{self, Virtualization},
};

/// What a start condition tests about a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathTest {
    Exists,
    IsDirectory,
    FileNotEmpty,
    FileIsExecutable,
    DirectoryNotEmpty,
    IsReadWrite,
    IsMountPoint,
    IsSymbolicLink,
}

impl PathTest {
    /// Each test with its recipe key and systemd's `Condition…=` name.
    pub const ALL: [(PathTest, &'static str, &'static str); 8] = [
        (PathTest::Exists, "path_exists", "ConditionPathExists"),
        (PathTest::IsDirectory, "path_is_directory", "ConditionPathIsDirectory"),
        (PathTest::FileNotEmpty, "file_not_empty", "ConditionFileNotEmpty"),
        (PathTest::FileIsExecutable, "file_is_executable", "ConditionFileIsExecutable"),
        (PathTest::DirectoryNotEmpty, "directory_not_empty", "ConditionDirectoryNotEmpty"),
        (PathTest::IsReadWrite, "path_is_read_write", "ConditionPathIsReadWrite"),
        (PathTest::IsMountPoint, "path_is_mount_point", "ConditionPathIsMountPoint"),
        (PathTest::IsSymbolicLink, "path_is_symbolic_link", "ConditionPathIsSymbolicLink"),
    ];

    pub fn key(self) -> &'static str {
        Self::ALL.iter().find(|(t, _, _)| *t == self).map_or("", |e| e.1)
    }

    pub fn systemd(self) -> &'static str {
        Self::ALL.iter().find(|(t, _, _)| *t == self).map_or("", |e| e.2)
    }

    /// What must hold of the path, after "must", for messages.
    pub fn describe(self) -> &'static str {
        match self {
            PathTest::Exists => "exist",
            PathTest::IsDirectory => "be a directory",
            PathTest::FileNotEmpty => "be a file that is not empty",
            PathTest::FileIsExecutable => "be an executable file",
            PathTest::DirectoryNotEmpty => "be a directory that is not empty",
            PathTest::IsReadWrite => "be on a file system mounted read-write",
            PathTest::IsMountPoint => "be a mount point",
            PathTest::IsSymbolicLink => "be a symbolic link",
        }
    }
}

/// The kinds of condition: each a key of `[conditions]` (and of
/// `[conditions.any]`) and a systemd `Condition…=` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Path(PathTest),
    Virtualization,
    Capability,
    KernelCommandLine,
    AcPower,
    Security,
}

impl Key {
    /// Every kind, in the order a recipe's conditions are read and rendered.
    pub const ALL: [Key; 13] = [
        Key::Path(PathTest::Exists),
        Key::Path(PathTest::IsDirectory),
        Key::Path(PathTest::FileNotEmpty),
        Key::Path(PathTest::FileIsExecutable),
        Key::Path(PathTest::DirectoryNotEmpty),
        Key::Path(PathTest::IsReadWrite),
        Key::Path(PathTest::IsMountPoint),
        Key::Path(PathTest::IsSymbolicLink),
        Key::Virtualization,
        Key::Capability,
        Key::KernelCommandLine,
        Key::AcPower,
        Key::Security,
    ];

    /// The recipe key.
    pub fn key(self) -> &'static str {
        match self {
            Key::Path(test) => test.key(),
            Key::Virtualization => "virtualization",
            Key::Capability => "capability",
            Key::KernelCommandLine => "kernel_command_line",
            Key::AcPower => "ac_power",
            Key::Security => "security",
        }
    }

    /// systemd's setting.
    pub fn systemd(self) -> &'static str {
        match self {
            Key::Path(test) => test.systemd(),
            Key::Virtualization => "ConditionVirtualization",
            Key::Capability => "ConditionCapability",
            Key::KernelCommandLine => "ConditionKernelCommandLine",
            Key::AcPower => "ConditionACPower",
            Key::Security => "ConditionSecurity",
        }
    }

    /// The kind a systemd `Condition…=` or `Assert…=` setting is.
    pub fn of_systemd(setting: &str) -> Option<Key> {
        let condition = match setting.strip_prefix("Assert") {
            Some(rest) => format!("Condition{rest}"),
            None => setting.to_owned(),
        };
        Key::ALL.into_iter().find(|k| k.systemd() == condition)
    }

    /// The condition one value of this key states: `!` negates, then the
    /// value, which must be one this kind tests (`ac_power` is a boolean,
    /// read by [`Condition::ac_power`], not here).
    pub fn parse(self, text: &str) -> Result<Condition, String> {
        let (negate, value) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let probe = match self {
            Key::Path(path_test) => {
                text::check(Kind::Path, value)?;
                if !value.starts_with('/') {
                    return Err("must be an absolute path, with `!` before it for \"does not\"".to_owned());
                }
                let path = Template::parse(value).map_err(|e| e.message)?;
                if let Some(var) = path.vars().find(|v| !PATH_VARS.contains(v)) {
                    return Err(format!(
                        "`{{{var}}}` cannot be used in a condition: only `{{name}}`, `{{instance}}` and `{{instance_path}}` can (write `{{{{` for a literal brace)"
                    ));
                }
                if path.has_words() {
                    return Err("a condition's path is one path, not words (`{var...}`)".to_owned());
                }
                Probe::Path(path_test, path)
            }
            Key::Virtualization => Probe::Virtualization(Virtualization::parse(value)?),
            Key::Capability => Probe::Capability(Capability::parse(value)?),
            Key::KernelCommandLine => Probe::KernelCommandLine(kernel_word(value)?),
            Key::Security => Probe::Security(Security::parse(value)?),
            Key::AcPower => match virtualization::boolean(value) {
                Some(on) => return Ok(Condition::ac_power(on != negate)),
                None => return Err(format!("`{value}` is not a boolean: write true or false")),
            },
        };
        Ok(Condition { probe, negate })
    }
}

/// The variables a condition's path may use: the instance is known before
/// anything is read, and systemd has a specifier for each (`%N`, `%i`, `%I`).
pub const PATH_VARS: [&str; 3] = ["name", "instance", "instance_path"];

/// A word of the kernel command line as `ConditionKernelCommandLine=` takes
/// it: `quiet`, or `key=value` for that exact assignment.
fn kernel_word(value: &str) -> Result<String, String> {
    text::check(Kind::Line, value)?;
    let bad = value.is_empty()
        || value.starts_with(['=', '!', '|'])
        || value.chars().any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'));
    if bad {
        return Err(format!(
            "`{value}` is not one word of the kernel command line: write a word (`quiet`) or an assignment \
             (`modules-load=dm_mod`), with no whitespace, quotes or `\\`, and `!` before it for \"does not have\""
        ));
    }
    Ok(value.to_owned())
}

/// What one condition tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A path, which may name the instance (`/etc/postgresql/{instance_path}/postgresql.conf`).
    Path(PathTest, Template),
    Virtualization(Virtualization),
    /// In the capability bounding set (of systemd, or of the script).
    Capability(Capability),
    /// A word, or `key=value`, on the kernel command line.
    KernelCommandLine(String),
    /// On AC power, or with no AC adapter known (systemd's `on_ac_power`).
    AcPower,
    /// A security framework or boot property (`selinux`, `tpm2`).
    Security(Security),
}

impl Probe {
    pub fn key(&self) -> Key {
        match self {
            Probe::Path(test, _) => Key::Path(*test),
            Probe::Virtualization(_) => Key::Virtualization,
            Probe::Capability(_) => Key::Capability,
            Probe::KernelCommandLine(_) => Key::KernelCommandLine,
            Probe::AcPower => Key::AcPower,
            Probe::Security(_) => Key::Security,
        }
    }
}

/// One start condition; `negate` is systemd's leading `!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub probe: Probe,
    pub negate: bool,
}

impl Condition {
    /// `ac_power = true` (on AC power) or `false` (on battery).
    pub fn ac_power(on: bool) -> Condition {
        Condition { probe: Probe::AcPower, negate: !on }
    }

    /// The value as a recipe writes it in its list: `!` when negated, then
    /// the value (`ac_power`: the boolean; a path in template syntax).
    pub fn value(&self) -> String {
        let bang = if self.negate { "!" } else { "" };
        match &self.probe {
            Probe::Path(_, path) => format!("{bang}{path}"),
            Probe::Virtualization(v) => format!("{bang}{v}"),
            Probe::Capability(c) => format!("{bang}{}", c.name),
            Probe::KernelCommandLine(word) => format!("{bang}{word}"),
            Probe::AcPower => (!self.negate).to_string(),
            Probe::Security(s) => format!("{bang}{}", s.name()),
        }
    }

    /// [`Self::requirement`] as a template, its path's variables left in:
    /// a script says it with the instance's own path.
    pub fn requirement_template(&self) -> Template {
        match &self.probe {
            Probe::Path(test, path) => {
                let must = if self.negate { "must not" } else { "must" };
                let mut t = path.clone();
                t.push_literal(&format!(" {must} {}", test.describe()));
                t
            }
            Probe::Virtualization(_)
            | Probe::Capability(_)
            | Probe::KernelCommandLine(_)
            | Probe::AcPower
            | Probe::Security(_) => Template::literal(&self.requirement()),
        }
    }

    /// What must hold, in words, for messages: "/etc/x must exist".
    pub fn requirement(&self) -> String {
        let must = |negate: bool| if negate { "must not" } else { "must" };
        let n = self.negate;
        match &self.probe {
            Probe::Path(test, path) => format!("{path} {} {}", must(n), test.describe()),
            Probe::Virtualization(v) => match v {
                Virtualization::Technology(name, kind) => {
                    let what = match kind {
                        virtualization::Kind::Vm => "virtual machine",
                        virtualization::Kind::Container => "container",
                    };
                    format!("the machine {} run in a {name} {what}", must(n))
                }
                other => {
                    let (words, opposite) = other.describe();
                    format!("the machine {} {words}", must(n != opposite))
                }
            },
            Probe::Capability(c) => format!("{} {} be in the capability bounding set", c.name, must(n)),
            Probe::KernelCommandLine(word) => format!("the kernel command line {} have {word}", must(n)),
            Probe::AcPower => format!("the machine {} be on AC power", must(n)),
            Probe::Security(s) => format!("{} {} be on", s.describe(), must(n)),
        }
    }
}

/// `[conditions]`: when one does not hold, a start is skipped (not failed),
/// as systemd's `Condition…=` does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conditions {
    /// Each must hold.
    pub all: Vec<Condition>,
    /// `[conditions.any]`: one of them must hold (none, or at least two).
    pub any: Vec<Condition>,
    /// A setting (a `[vars]` name) whose value must say yes (`yes`, `true`,
    /// `1`, `on`, in any case) for the service to start: the `ENABLED=`
    /// switch of Debian's `/etc/default` files.
    pub setting: Option<String>,
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        self.all.is_empty() && self.any.is_empty() && self.setting.is_none()
    }

    /// Every condition, of both groups.
    pub fn iter(&self) -> impl Iterator<Item = &Condition> {
        self.all.iter().chain(&self.any)
    }
}

/// The values a setting switch takes as yes (compared without case).
pub const YES: [&str; 4] = ["yes", "true", "1", "on"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_as_written() {
        for (key, text) in [
            (Key::Path(PathTest::IsMountPoint), "/proc/sys/fs/binfmt_misc"),
            (Key::Path(PathTest::IsReadWrite), "!/"),
            (Key::Virtualization, "!container"),
            (Key::Capability, "CAP_SYS_MODULE"),
            (Key::KernelCommandLine, "!rd.modules-load=a,b"),
        ] {
            assert_eq!(key.parse(text).unwrap().value(), text);
        }
        assert_eq!(Key::AcPower.parse("!true").unwrap(), Condition::ac_power(false));
        assert_eq!(Condition::ac_power(false).value(), "false");
    }

    #[test]
    fn systemd_names_map_to_keys_for_conditions_and_assertions() {
        assert_eq!(Key::of_systemd("ConditionPathIsSymbolicLink"), Some(Key::Path(PathTest::IsSymbolicLink)));
        assert_eq!(Key::of_systemd("AssertCapability"), Some(Key::Capability));
        assert_eq!(Key::of_systemd("ConditionACPower"), Some(Key::AcPower));
        assert_eq!(Key::of_systemd("AssertSecurity"), Some(Key::Security));
        assert_eq!(Key::of_systemd("ConditionPathExistsGlob"), None);
    }

    #[test]
    fn kernel_words_are_one_word() {
        for bad in ["", "a b", "=x", "|x", "!!x", "a\"b", "a'b", "a\\b", "a\tb"] {
            assert!(Key::KernelCommandLine.parse(bad).is_err(), "{bad:?}");
        }
        assert!(Key::KernelCommandLine.parse("50%").is_ok());
    }

    #[test]
    fn requirements_read_as_sentences() {
        let r = |k: Key, t: &str| k.parse(t).unwrap().requirement();
        assert_eq!(r(Key::Path(PathTest::Exists), "!/etc/x"), "/etc/x must not exist");
        assert_eq!(r(Key::Virtualization, "!container"), "the machine must not run in a container");
        assert_eq!(r(Key::Virtualization, "no"), "the machine must not run in a virtual machine or a container");
        assert_eq!(r(Key::Virtualization, "!no"), "the machine must run in a virtual machine or a container");
        assert_eq!(r(Key::Virtualization, "kvm"), "the machine must run in a kvm virtual machine");
        assert_eq!(r(Key::Capability, "CAP_SYS_TIME"), "CAP_SYS_TIME must be in the capability bounding set");
        assert_eq!(r(Key::KernelCommandLine, "!quiet"), "the kernel command line must not have quiet");
        assert_eq!(Condition::ac_power(true).requirement(), "the machine must be on AC power");
    }
}
