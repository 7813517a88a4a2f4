//! The shell's `ik_conditions`, run: the function SysV and OpenRC scripts
//! call before a start, with the library's tests of the machine, under `sh`
//! in a temporary directory. Path tests and `[conditions.any]` on real
//! files; the capability, kernel command line, mount and power supply tests
//! on stand-in files (the test puts their paths in place of `/proc/…` and
//! `/sys/…` in the library it runs) and on this host's own, compared with
//! what the host says; virtualization through a stand-in
//! `systemd-detect-virt`, and without one against the real one; security
//! tests on stand-ins, and on this host against `systemd-analyze condition`.

mod common;

use std::{
    fs,
    os::unix::fs::{PermissionsExt, symlink},
    path::{Path, PathBuf},
    process::Command,
};

use initkit::{
    recipe::parse_recipe,
    render::{
        Options,
        shell::{
            self,
            generated::{self, Drop, Exec},
        },
    },
};

/// A recipe's TOML string for `s`.
fn q(s: &str) -> String {
    toml_edit::Value::from(s).to_string()
}

/// Where the script runs: stand-ins for files of the machine, and the
/// programs on its PATH.
struct Host {
    dir: tempfile::TempDir,
    /// (the library's path, its stand-in)
    files: Vec<(&'static str, PathBuf)>,
    /// What a stand-in `systemd-detect-virt` detects (container, vm); without
    /// one, PATH has none and the library guesses.
    detect: Option<(&'static str, &'static str)>,
}

impl Host {
    fn new() -> Host {
        Host { dir: tempfile::tempdir().unwrap(), files: Vec::new(), detect: Some(("none", "none")) }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `real` (a path the library reads) is `content` here.
    fn file(&mut self, real: &'static str, content: &[u8]) -> &mut Host {
        let stand_in = self.path(&real.replace('/', "_"));
        fs::write(&stand_in, content).unwrap();
        self.files.push((real, stand_in));
        self
    }

    /// A directory of programs: the few the library uses, and maybe a
    /// `systemd-detect-virt` that answers as `self.detect` says.
    fn bin(&self) -> PathBuf {
        let bin = self.path("bin");
        fs::create_dir_all(&bin).unwrap();
        for tool in ["cat", "tr", "sed", "grep", "readlink", "ls", "od"] {
            let o = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().unwrap();
            let found = String::from_utf8(o.stdout).unwrap();
            let _ = symlink(found.trim(), bin.join(tool));
        }
        let fake = bin.join("systemd-detect-virt");
        let _ = fs::remove_file(&fake);
        if let Some((container, vm)) = self.detect {
            // systemd-detect-virt(1): the container first, `none` and exit 1 when there is nothing.
            let script = format!(
                "#!/bin/sh\nquiet=0 what=any\nfor a; do case $a in -q) quiet=1 ;; --container) what=c ;; --vm) what=v ;; --private-users) what=u ;; esac; done\n\
                 case $what in c) r={container} ;; v) r={vm} ;; u) r=none ;; *) r={container}; [ $r = none ] && r={vm} ;; esac\n\
                 [ $quiet = 1 ] || echo $r\n[ $r != none ]\n"
            );
            fs::write(&fake, script).unwrap();
            fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
        }
        bin
    }

    /// The library, with the stand-ins in place of the files they stand for.
    fn library(&self) -> String {
        let mut lib: String = shell::library().into_iter().map(|(_, body)| body + "\n").collect();
        for (real, stand_in) in &self.files {
            lib = lib.replace(real, stand_in.to_str().unwrap());
        }
        lib
    }

    /// Runs `main` after the library and `functions` under sh: its exit code and stdout.
    fn sh(&self, functions: &str, main: &str) -> (i32, String) {
        let script = format!("{}\n{functions}\n{main}\n", self.library());
        let o = Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .env_clear()
            .env("PATH", self.bin())
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(o.stderr.is_empty(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
        (o.status.code().unwrap_or(-1), String::from_utf8(o.stdout).unwrap())
    }

    /// `ik_conditions` of a recipe with these `[conditions]`: whether they
    /// hold, and `$ik_unmet` when they do not.
    fn conditions(&self, conditions: &str) -> Result<(), String> {
        let text = format!(
            "name = \"probe\"\nsummary = \"p\"\n[conditions]\n{conditions}\n[run]\ncommand = [\"/bin/true\"]\nuser = \"root\"\n"
        );
        let recipe = parse_recipe(Path::new("probe.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let exec = Exec { drop: Drop::Setpriv, setsid: true, dies_with_parent: false };
        let functions = generated::functions(&recipe, &Options::default(), exec, None);
        let (_, f) = functions.iter().find(|(n, _)| n == "ik_conditions").unwrap();
        let (code, out) = self.sh(f, "if ik_conditions; then echo held; else printf '%s' \"$ik_unmet\"; fi");
        assert_eq!(code, 0);
        if out == "held\n" { Ok(()) } else { Err(out) }
    }
}

#[test]
fn path_tests_hold_and_fail_on_real_files() {
    let host = Host::new();
    let p = |name: &str| host.path(name).to_str().unwrap().to_owned();
    fs::write(host.path("file"), "x").unwrap();
    fs::write(host.path("empty"), "").unwrap();
    fs::write(host.path("run"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(host.path("run"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::create_dir(host.path("dir")).unwrap();
    fs::create_dir(host.path("full")).unwrap();
    fs::write(host.path("full/a.conf"), "").unwrap();
    // What systemd does not count: hidden entries and backups.
    fs::create_dir(host.path("leftovers")).unwrap();
    for name in [".hidden", "a.conf~", "a.conf.dpkg-old", "b.conf.rpmnew", "c.bak", "lost+found"] {
        fs::write(host.path("leftovers").join(name), "").unwrap();
    }
    // A name that is the glob itself, and one with a newline, are entries.
    for (dir, name) in [("star", "*"), ("newline", "a\nb.conf")] {
        fs::create_dir(host.path(dir)).unwrap();
        fs::write(host.path(dir).join(name), "").unwrap();
    }
    symlink(host.path("file"), host.path("link")).unwrap();
    for (key, path, holds) in [
        ("path_exists", "file", true),
        ("path_exists", "missing", false),
        ("path_exists", "link", true),
        ("path_is_directory", "dir", true),
        ("path_is_directory", "file", false),
        ("file_not_empty", "file", true),
        ("file_not_empty", "empty", false),
        ("file_not_empty", "dir", false),
        ("file_is_executable", "run", true),
        ("file_is_executable", "file", false),
        ("directory_not_empty", "full", true),
        ("directory_not_empty", "dir", false),
        ("directory_not_empty", "leftovers", false),
        ("directory_not_empty", "star", true),
        ("directory_not_empty", "newline", true),
        ("directory_not_empty", "file", false),
        ("directory_not_empty", "missing", false),
        ("path_is_symbolic_link", "link", true),
        ("path_is_symbolic_link", "file", false),
    ] {
        let plain = host.conditions(&format!("{key} = [{}]", q(&p(path))));
        let negated = host.conditions(&format!("{key} = [{}]", q(&format!("!{}", p(path)))));
        assert_eq!(plain.is_ok(), holds, "{key} {path}: {plain:?}");
        assert_eq!(negated.is_ok(), !holds, "!{key} {path}: {negated:?}");
    }
    assert_eq!(
        host.conditions(&format!("path_exists = [{}]", q(&p("missing")))),
        Err(format!("{} must exist", p("missing")))
    );
    assert_eq!(
        host.conditions(&format!("path_is_directory = [{}]", q(&format!("!{}", p("dir"))))),
        Err(format!("{} must not be a directory", p("dir")))
    );
}

#[test]
fn one_condition_of_any_is_enough_and_none_names_them_all() {
    let host = Host::new();
    let p = |name: &str| host.path(name).to_str().unwrap().to_owned();
    fs::create_dir(host.path("full")).unwrap();
    fs::write(host.path("full/a.conf"), "").unwrap();
    fs::create_dir(host.path("empty")).unwrap();
    let group = |dirs: &[&str], more: &str| {
        let dirs: Vec<String> = dirs.iter().map(|d| q(&p(d))).collect();
        format!("[conditions.any]\ndirectory_not_empty = [{}]\n{more}", dirs.join(", "))
    };
    assert_eq!(host.conditions(&group(&["empty", "full"], "")), Ok(()));
    assert_eq!(host.conditions(&group(&["full", "missing"], "")), Ok(()));
    assert_eq!(
        host.conditions(&group(&["empty", "missing"], "")),
        Err(format!(
            "one of these must hold: {} must be a directory that is not empty; {} must be a directory that is not empty",
            p("empty"),
            p("missing")
        ))
    );
    // A negated alternative holds when its test fails.
    assert_eq!(
        host.conditions(&group(&["empty"], &format!("path_exists = [{}]", q(&format!("!{}", p("missing")))))),
        Ok(())
    );
    // The group and the plain conditions must all hold.
    let both = format!("path_exists = [{}]\n{}", q(&p("missing")), group(&["full", "empty"], ""));
    assert_eq!(host.conditions(&both), Err(format!("{} must exist", p("missing"))));
}

#[test]
fn hostile_paths_are_tested_as_data() {
    let host = Host::new();
    let canary = host.path("canary");
    // The script runs in the directory: `touch canary` would make it there.
    let name = "it's \"$(touch canary)\" `touch canary` ${HOME} ; | ! %n \\ * ?";
    let nasty = host.path(name);
    fs::create_dir(&nasty).unwrap();
    fs::write(nasty.join("x"), "").unwrap();
    let p = nasty.to_str().unwrap();
    // A condition's path is a template: a literal brace is written twice.
    let t = p.replace('{', "{{").replace('}', "}}");
    assert_eq!(host.conditions(&format!("path_is_directory = [{}]", q(&t))), Ok(()));
    assert_eq!(host.conditions(&format!("directory_not_empty = [{}]", q(&t))), Ok(()));
    let any = format!("[conditions.any]\npath_exists = [{}, {}]", q(&format!("{t}/missing")), q(&format!("!{t}")));
    assert_eq!(
        host.conditions(&any),
        Err(format!("one of these must hold: {p}/missing must exist; {p} must not exist"))
    );
    assert!(!canary.exists(), "a path ran as a command");
}

#[test]
fn capabilities_are_the_bits_of_the_bounding_set() {
    let mut host = Host::new();
    // CAP_SYS_MODULE (16) and CAP_CHECKPOINT_RESTORE (40), nothing else.
    host.file(
        "/proc/self/status",
        b"Name:\tsh\nCapPrm:\t000001ffffffffff\nCapBnd:\t0000010000010000\nCapAmb:\t0000000000000000\n",
    );
    assert_eq!(host.conditions("capability = [\"CAP_SYS_MODULE\", \"CAP_CHECKPOINT_RESTORE\"]"), Ok(()));
    assert_eq!(
        host.conditions("capability = [\"CAP_SYS_ADMIN\"]"),
        Err("CAP_SYS_ADMIN must be in the capability bounding set".to_owned())
    );
    assert_eq!(host.conditions("capability = [\"!CAP_CHOWN\"]"), Ok(()));
    assert!(host.conditions("capability = [\"!CAP_SYS_MODULE\"]").is_err());
    // A line the kernel never writes is not a capability.
    let mut odd = Host::new();
    odd.file("/proc/self/status", b"CapBnd:\tzz\n");
    assert!(odd.conditions("capability = [\"CAP_CHOWN\"]").is_err());
}

#[test]
fn the_hosts_own_bounding_set_answers_as_the_kernel_says() {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let mask = status.lines().find_map(|l| l.strip_prefix("CapBnd:")).unwrap().trim();
    let mask = u64::from_str_radix(mask, 16).unwrap();
    let host = Host::new();
    let calls: Vec<String> =
        (0..initkit::recipe::capability::CAPABILITIES.len()).map(|bit| format!("ik_cap {bit} && echo {bit}")).collect();
    let (_, out) = host.sh("", &calls.join("\n"));
    let held: Vec<u64> = out.lines().map(|l| l.parse().unwrap()).collect();
    let want: Vec<u64> = (0..41).filter(|bit| mask >> bit & 1 == 1).collect();
    // The shell is this test's child: the same bounding set.
    assert_eq!(held, want, "CapBnd {mask:x}");
}

#[test]
fn the_kernel_command_line_is_matched_word_by_word() {
    let mut host = Host::new();
    host.file("/proc/cmdline", b"BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro\tquiet modules-load=dm_mod,loop 50%\n");
    for (word, holds) in [
        ("quiet", true),
        ("ro", true),
        ("root", true),
        ("root=/dev/sda1", true),
        ("root=/dev/sda", false),
        ("roo", false),
        ("modules-load", true),
        ("modules_load", false),
        ("modules-load=dm_mod,loop", true),
        ("dm_mod", false),
        ("50%", true),
        ("splash", false),
        ("*", false),
    ] {
        let got = host.conditions(&format!("kernel_command_line = [{}]", q(word)));
        assert_eq!(got.is_ok(), holds, "{word}: {got:?}");
        assert_eq!(host.conditions(&format!("kernel_command_line = [{}]", q(&format!("!{word}")))).is_ok(), !holds);
    }
    assert_eq!(
        host.conditions("kernel_command_line = [\"splash\"]"),
        Err("the kernel command line must have splash".to_owned())
    );
    // In a container, PID 1's command line, as systemd reads it there.
    host.file("/proc/1/cmdline", b"/sbin/init\0splash\0");
    host.detect = Some(("docker", "none"));
    assert_eq!(host.conditions("kernel_command_line = [\"splash\", \"!quiet\"]"), Ok(()));
}

#[test]
fn mounts_are_read_from_the_mount_table() {
    let mut host = Host::new();
    let p = |name: &str| host.path(name).to_str().unwrap().to_owned();
    for d in ["ro/sub", "rw/sub", "rw/ro-again"] {
        fs::create_dir_all(host.path(d)).unwrap();
    }
    symlink(host.path("rw"), host.path("link")).unwrap();
    let table = format!(
        "/dev/vda / ext4 rw,relatime 0 0\ntmpfs {0}/ro tmpfs ro,nosuid 0 0\ntmpfs {0}/rw tmpfs rw,noexec 0 0\n\
         tmpfs {0}/rw/ro-again tmpfs rw 0 0\ntmpfs {0}/rw/ro-again tmpfs ro 0 0\n",
        host.dir.path().display()
    );
    let (ro, rw, sub, again, link, missing) =
        (p("ro"), p("rw/sub"), p("ro/sub"), p("rw/ro-again"), p("link"), p("gone"));
    host.file("/proc/self/mounts", table.as_bytes());
    let holds = |key: &str, path: &str| host.conditions(&format!("{key} = [{}]", q(path))).is_ok();
    assert!(!holds("path_is_read_write", &ro));
    assert!(!holds("path_is_read_write", &sub));
    assert!(holds("path_is_read_write", &rw));
    // The mount on top is the one that counts.
    assert!(!holds("path_is_read_write", &again));
    assert!(!holds("path_is_read_write", &missing));
    assert!(holds("path_is_mount_point", &ro));
    assert!(!holds("path_is_mount_point", &sub));
    assert!(!holds("path_is_mount_point", &missing));
    // A link is followed, as systemd follows it.
    assert!(holds("path_is_mount_point", &link));
    assert_eq!(
        host.conditions(&format!("path_is_read_write = [{}]", q(&ro))),
        Err(format!("{ro} must be on a file system mounted read-write"))
    );
}

#[test]
fn the_hosts_own_mounts_are_found() {
    // Linux mounts /proc; this test's temporary directory is no mount point.
    let host = Host::new();
    assert_eq!(host.conditions("path_is_mount_point = [\"/proc\", \"/\"]"), Ok(()));
    let dir = host.dir.path().to_str().unwrap().to_owned();
    assert!(host.conditions(&format!("path_is_mount_point = [{}]", q(&dir))).is_err());
}

#[test]
fn ac_power_is_a_mains_supply_online_or_none_at_all() {
    let case = |supplies: &[(&str, &str, &str, &str)]| {
        let mut host = Host::new();
        let root = host.path("power_supply");
        fs::create_dir(&root).unwrap();
        for (name, kind, online, scope) in supplies {
            let d = root.join(name);
            fs::create_dir(&d).unwrap();
            fs::write(d.join("type"), format!("{kind}\n")).unwrap();
            fs::write(d.join("online"), format!("{online}\n")).unwrap();
            if !scope.is_empty() {
                fs::write(d.join("scope"), format!("{scope}\n")).unwrap();
            }
        }
        host.files.push(("/sys/class/power_supply", root));
        (host.conditions("ac_power = true").is_ok(), host.conditions("ac_power = false").is_ok())
    };
    assert_eq!(case(&[]), (true, false));
    assert_eq!(case(&[("AC", "Mains", "1", "")]), (true, false));
    assert_eq!(case(&[("AC", "Mains", "0", ""), ("BAT0", "Battery", "1", "")]), (false, true));
    assert_eq!(case(&[("BAT0", "Battery", "1", "")]), (true, false));
    // A charger inside a device (a mouse's dock) is not the machine's.
    assert_eq!(case(&[("hid", "Mains", "0", "Device")]), (true, false));
    assert_eq!(case(&[("AC0", "Mains", "0", ""), ("AC1", "Mains", "1", "")]), (true, false));
}

#[test]
fn virtualization_is_asked_of_systemd_detect_virt() {
    let mut host = Host::new();
    let holds = |host: &Host, v: &str| host.conditions(&format!("virtualization = [{}]", q(v))).is_ok();
    // A container counts first: in one, the machine is not a `vm` (systemd's detect_virtualization()).
    for (container, vm, yes, want_vm, want_container) in [
        ("none", "none", false, false, false),
        ("none", "kvm", true, true, false),
        ("docker", "none", true, false, true),
        ("lxc", "qemu", true, false, true),
    ] {
        host.detect = Some((container, vm));
        assert_eq!(holds(&host, "yes"), yes, "{container} {vm}");
        assert_eq!(holds(&host, "no"), !yes, "{container} {vm}");
        assert_eq!(holds(&host, "!yes"), !yes, "{container} {vm}");
        assert_eq!(holds(&host, "vm"), want_vm, "{container} {vm}");
        assert_eq!(holds(&host, "container"), want_container, "{container} {vm}");
        assert_eq!(holds(&host, "!container"), !want_container, "{container} {vm}");
        // A technology is the one detected first: the container's.
        let first = if container == "none" { vm } else { container };
        for tech in ["kvm", "qemu", "docker", "lxc", "xen"] {
            assert_eq!(holds(&host, tech), tech == first, "{tech} on {container} {vm}");
        }
    }
    host.detect = Some(("docker", "none"));
    assert_eq!(
        host.conditions("virtualization = [\"!container\"]"),
        Err("the machine must not run in a container".into())
    );
}

#[test]
fn without_systemd_detect_virt_the_guess_agrees_with_it_on_this_host() {
    if !common::require_tool("systemd-detect-virt", "comparing initkit's guess with systemd-detect-virt") {
        return;
    }
    let asks = |args: &[&str]| Command::new("systemd-detect-virt").args(args).status().unwrap().success();
    let (container, vm) = (asks(&["-q", "--container"]), asks(&["-q", "--vm"]));
    let mut host = Host::new();
    host.detect = None;
    let holds = |v: &str| host.conditions(&format!("virtualization = [{}]", q(v))).is_ok();
    assert_eq!(holds("container"), container, "a container");
    // In a container, no `vm`; outside one, the guess reads no CPUID: a
    // hypervisor hidden from DMI and cpuinfo would be missed.
    assert_eq!(holds("vm"), vm && !container, "a virtual machine");
    assert_eq!(holds("yes"), container || vm);
    if container {
        let name = Command::new("systemd-detect-virt").arg("--container").output().unwrap().stdout;
        let name = String::from_utf8(name).unwrap();
        // docker, podman and systemd-nspawn leave their name; others may be guessed as something else.
        if ["docker", "podman", "systemd-nspawn", "lxc"].contains(&name.trim()) {
            assert!(holds(name.trim()), "{name}");
        }
    }
}

#[test]
fn security_is_read_from_the_files_the_kernel_and_firmware_show() {
    let dir = |host: &mut Host, real: &'static str, entries: &[&str]| {
        let d = host.path(&real.replace('/', "_"));
        fs::create_dir_all(&d).unwrap();
        for e in entries {
            fs::write(d.join(e), "").unwrap();
        }
        host.files.push((real, d));
    };
    let holds = |host: &Host, what: &str| host.conditions(&format!("security = [{}]", q(what)));
    let mut host = Host::new();
    host.file("/sys/fs/selinux/enforce", b"1\n").file("/sys/module/apparmor/parameters/enabled", b"Y\n");
    // The variable's four attribute bytes, then its value.
    host.file("/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c", &[6, 0, 0, 0, 1]);
    host.file("/sys/firmware/acpi/tables/TPM2", b"TPM2");
    dir(&mut host, "/sys/class/tpmrm", &["tpmrm0"]);
    host.file("/sys/firmware/efi/efivars/StubPcrKernelImage-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f", &[6, 0, 0, 0, 11]);
    for what in ["selinux", "apparmor", "uefi-secureboot", "tpm2", "measured-uki"] {
        assert_eq!(holds(&host, what), Ok(()), "{what}");
    }
    assert_eq!(holds(&host, "!selinux"), Err("SELinux must not be on".to_owned()));
    let mut off = Host::new();
    off.file("/sys/module/apparmor/parameters/enabled", b"N\n");
    off.file("/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c", &[6, 0, 0, 0, 0]);
    off.file("/sys/firmware/acpi/tables/TPM2", b"TPM2");
    dir(&mut off, "/sys/class/tpmrm", &[]);
    // Every file of the machine the test names stands in as missing.
    for (real, missing) in [
        ("/sys/fs/selinux/enforce", "selinux"),
        ("/sys/fs/smackfs/", "smack"),
        ("/sys/kernel/security/tomoyo/version", "tomoyo"),
        ("/sys/kernel/security/ima/", "ima"),
        ("/sys/kernel/security/tpm0/binary_bios_measurements", "tpm0"),
        ("/sys/firmware/efi/efivars/StubPcrKernelImage-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f", "stub"),
    ] {
        off.files.push((real, off.path(missing)));
    }
    assert_eq!(holds(&off, "selinux"), Err("SELinux must be on".to_owned()));
    for what in ["apparmor", "smack", "tomoyo", "ima", "uefi-secureboot", "tpm2", "measured-uki"] {
        assert!(holds(&off, what).is_err(), "{what}");
        assert_eq!(holds(&off, &format!("!{what}")), Ok(()), "!{what}");
    }
    assert_eq!(
        holds(&off, "tpm2"),
        Err("a TPM 2.0 the firmware measured the boot into must be on".to_owned()),
        "a TPM the kernel drives no device of"
    );
}

#[test]
fn the_hosts_own_security_answers_as_systemd_does() {
    if !common::require_tool("systemd-analyze", "comparing initkit's security tests with systemd's") {
        return;
    }
    let host = Host::new();
    for (_, what) in initkit::recipe::security::ALL {
        let systemd = Command::new("systemd-analyze")
            .args(["condition", &format!("ConditionSecurity={what}")])
            .output()
            .unwrap()
            .status
            .success();
        assert_eq!(host.conditions(&format!("security = [{}]", q(what))).is_ok(), systemd, "{what}");
    }
}

/// A path may name the instance: `{instance}` as written, `{instance_path}`
/// with each `-` as `/` (systemd's `%I`), resolved by the script for the
/// instance it starts, the literal rest (quotes, `$`, a blank) as data.
#[test]
fn a_path_names_the_instance_it_starts() {
    let host = Host::new();
    let base = host.path("it's $HOME \"x\"");
    fs::create_dir_all(base.join("15/main")).unwrap();
    fs::write(base.join("15/main/postgresql.conf"), "").unwrap();
    fs::write(base.join("solo.conf"), "x").unwrap();
    let b = base.to_str().unwrap().replace('{', "{{").replace('}', "}}");
    let text = format!(
        "name = \"probe\"\nsummary = \"p\"\n[instances]\n[conditions]\npath_exists = [{}]\nfile_not_empty = [{}]\n\
         [run]\ncommand = [\"/bin/true\"]\nuser = \"root\"\n",
        q(&format!("{b}/{{instance_path}}/postgresql.conf")),
        q(&format!("!{b}/{{instance}}.conf")),
    );
    let recipe = parse_recipe(Path::new("probe.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let exec = Exec { drop: Drop::Setpriv, setsid: true, dies_with_parent: false };
    let functions = generated::functions(&recipe, &Options::default(), exec, None);
    let f: String = ["ik_defaults", "ik_conditions"]
        .iter()
        .map(|name| functions.iter().find(|(n, _)| n == name).unwrap().1.clone())
        .collect();
    let run = |instance: &str| {
        let main = format!(
            "instance={instance}; ik_defaults; if ik_conditions; then echo held; else printf '%s' \"$ik_unmet\"; fi"
        );
        host.sh(&f, &main)
    };
    assert_eq!(run("15-main"), (0, "held\n".to_owned()));
    let dir = base.to_str().unwrap();
    assert_eq!(run("16-main"), (0, format!("{dir}/16/main/postgresql.conf must exist")));
    // `{instance}` is the name as written: no `/` in it.
    fs::create_dir_all(base.join("solo")).unwrap();
    fs::write(base.join("solo/postgresql.conf"), "").unwrap();
    assert_eq!(run("solo"), (0, format!("{dir}/solo.conf must not be a file that is not empty")));
}
