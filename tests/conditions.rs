//! `[conditions]` and `[conditions.any]`: every bad value reported at once
//! with its field and span, the systemd lines each condition renders to, the
//! targets that refuse them, a unit's conditions imported with their lines,
//! and a recipe's conditions read back from its own unit unchanged.

mod common;

use std::path::Path;

use initkit::{
    import::{self, Format, Source},
    recipe::{Condition, Recipe, parse_recipe},
    render::{Options, Target, render},
};

/// A recipe with `conditions` as its `[conditions]` table (and what follows it).
fn text(conditions: &str) -> String {
    format!(
        "name = \"probe\"\nsummary = \"a probe\"\n\n[conditions]\n{conditions}\n\n[run]\ntype = \"oneshot\"\ncommand = [\"/bin/true\"]\nuser = \"root\"\n"
    )
}

fn recipe(conditions: &str) -> Recipe {
    let text = text(conditions);
    parse_recipe(Path::new("probe.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Each diagnostic as (field, message, the recipe text its span covers).
fn problems(conditions: &str) -> Vec<(String, String, String)> {
    let text = text(conditions);
    let e = parse_recipe(Path::new("probe.toml"), &text).expect_err("refused");
    e.diagnostics
        .iter()
        .map(|d| {
            let at = d.span.clone().map(|s| text[s].to_owned()).unwrap_or_default();
            (d.field.clone(), d.message.clone(), at)
        })
        .collect()
}

fn unit_conditions(recipe: &Recipe) -> Vec<String> {
    let unit = &render(recipe, Target::Systemd, &Options::default()).unwrap()[0];
    unit.content.lines().filter(|l| l.starts_with("Condition")).map(str::to_owned).collect()
}

#[test]
fn every_bad_condition_is_reported_at_once_with_its_field_and_span() {
    let got = problems(
        r#"capability = ["CAP_SYS_MODULE", "CAP_FLY"]
virtualization = ["!kvmm"]
kernel_command_line = ["a b"]
path_exists = ["etc/x"]
ac_power = "yes"
security = ["tpm3", "cvm"]

[conditions.any]
capability = ["cap_net_admin"]
setting = "ENABLED""#,
    );
    let virt = "`kvmm` is not a virtualization systemd detects: use yes, no, vm, container, private-users, or one of kvm, amazon, qemu, bochs, xen, uml, vmware, oracle, microsoft, zvm, parallels, bhyve, qnx, acrn, powervm, apple, sre, google, vm-other, systemd-nspawn, lxc-libvirt, lxc, openvz, docker, podman, rkt, wsl, proot, pouch, container-other";
    let word = "`a b` is not one word of the kernel command line: write a word (`quiet`) or an assignment (`modules-load=dm_mod`), with no whitespace, quotes or `\\`, and `!` before it for \"does not have\"";
    let want = [
        (
            "conditions.capability[1]",
            "`CAP_FLY` is not a capability Linux has: use a name of capabilities(7) such as CAP_NET_ADMIN or CAP_SYS_MODULE",
            "\"CAP_FLY\"",
        ),
        ("conditions.virtualization[0]", virt, "\"!kvmm\""),
        ("conditions.kernel_command_line[0]", word, "\"a b\""),
        ("conditions.path_exists[0]", "must be an absolute path, with `!` before it for \"does not\"", "\"etc/x\""),
        ("conditions.ac_power", "expected a boolean, found a string", "\"yes\""),
        (
            "conditions.security[0]",
            "`tpm3` is not a security test initkit has: use selinux, apparmor, smack, tomoyo, ima, audit, uefi-secureboot, tpm2, measured-uki",
            "\"tpm3\"",
        ),
        (
            "conditions.security[1]",
            "`cvm` is not a security test initkit has (`cvm` asks the CPU, which initkit's scripts cannot): use selinux, apparmor, smack, tomoyo, ima, audit, uefi-secureboot, tpm2, measured-uki",
            "\"cvm\"",
        ),
        (
            "conditions.any.capability[0]",
            "`cap_net_admin` is not a capability Linux has: write `CAP_NET_ADMIN`",
            "\"cap_net_admin\"",
        ),
        ("conditions.any.setting", "unknown field `setting`", "setting"),
    ];
    let want: Vec<(String, String, String)> =
        want.iter().map(|(f, m, a)| ((*f).to_owned(), (*m).to_owned(), (*a).to_owned())).collect();
    assert_eq!(got, want);
}

#[test]
fn an_any_group_needs_two_conditions() {
    assert_eq!(
        problems("[conditions.any]\npath_exists = [\"/etc/a\"]"),
        [(
            "conditions.any".to_owned(),
            "`any` holds one condition, which must then hold like any other".to_owned(),
            "any".to_owned()
        )]
    );
    assert_eq!(problems("[conditions.any]")[0].1, "`any` holds no condition");
    // With two, it is a group; its help names the fix.
    let r = recipe("[conditions.any]\npath_exists = [\"/etc/a\"]\nkernel_command_line = [\"a\"]");
    assert_eq!(r.conditions.any.len(), 2);
}

#[test]
fn a_problem_is_drawn_at_its_line_and_column() {
    let text = text("virtualization = [\"vm\", \"kvmm\"]");
    let e = parse_recipe(Path::new("probe.toml"), &text).unwrap_err().to_string();
    assert!(e.contains("probe.toml:5:"), "{e}");
    assert!(e.contains("conditions.virtualization[1]"), "{e}");
}

#[test]
fn each_condition_renders_its_systemd_line_with_specifiers_doubled() {
    let r = recipe(
        r#"capability = ["CAP_SYS_MODULE", "!CAP_SYS_ADMIN"]
virtualization = ["!container", "no"]
kernel_command_line = ["!nomodeset", "50%"]
path_is_read_write = ["/proc/sys/net/"]
path_is_mount_point = ["!/proc/sys/fs/binfmt_misc"]
ac_power = true
security = ["tpm2", "!selinux"]

[conditions.any]
directory_not_empty = ["/etc/modules-load.d", "/run/modules-load.d"]
path_is_symbolic_link = ["/system-update"]
path_exists = ["/a%ib"]
kernel_command_line = ["modules-load"]
ac_power = false"#,
    );
    assert_eq!(
        unit_conditions(&r),
        [
            "ConditionPathIsReadWrite=/proc/sys/net/",
            "ConditionPathIsMountPoint=!/proc/sys/fs/binfmt_misc",
            "ConditionVirtualization=!container",
            "ConditionVirtualization=no",
            "ConditionCapability=CAP_SYS_MODULE",
            "ConditionCapability=!CAP_SYS_ADMIN",
            "ConditionKernelCommandLine=!nomodeset",
            "ConditionKernelCommandLine=50%%",
            "ConditionACPower=true",
            "ConditionSecurity=tpm2",
            "ConditionSecurity=!selinux",
            "ConditionPathExists=|/a%%ib",
            "ConditionDirectoryNotEmpty=|/etc/modules-load.d",
            "ConditionDirectoryNotEmpty=|/run/modules-load.d",
            "ConditionPathIsSymbolicLink=|/system-update",
            "ConditionKernelCommandLine=|modules-load",
            "ConditionACPower=|false",
        ]
    );
}

#[test]
fn targets_that_cannot_skip_a_start_refuse_each_kind_with_the_reason() {
    for (conditions, field) in [
        ("capability = [\"CAP_NET_ADMIN\"]", "conditions.capability"),
        ("virtualization = [\"vm\"]", "conditions.virtualization"),
        ("kernel_command_line = [\"quiet\"]", "conditions.kernel_command_line"),
        ("ac_power = true", "conditions.ac_power"),
        ("security = [\"apparmor\"]", "conditions.security"),
        ("path_is_mount_point = [\"/srv\"]", "conditions.path_exists and the like"),
        ("[conditions.any]\npath_exists = [\"/a\"]\ncapability = [\"CAP_KILL\"]", "[conditions.any]"),
    ] {
        let r = recipe(conditions);
        for target in [Target::Sysv, Target::Openrc, Target::Systemd] {
            assert!(render(&r, target, &Options::default()).is_ok(), "{} {conditions}", target.name());
        }
        for target in [Target::Runit, Target::S6, Target::Daemontools, Target::Supervisord, Target::Upstart] {
            let e = render(&r, target, &Options::default()).unwrap_err().to_string();
            assert!(
                e.contains(field) && e.contains("a skipped start would be retried by the supervisor forever"),
                "{}: {e}",
                target.name()
            );
        }
    }
}

#[test]
fn virtualization_is_noted_where_initkit_guesses_it() {
    let r = recipe("virtualization = [\"!container\"]");
    let notes = initkit::render::features::notes(&r, Target::Sysv);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("conditions.virtualization: systemd-detect-virt where installed"), "{notes:?}");
}

fn import_unit(unit: &str) -> (Recipe, import::Imported) {
    let mut imported = import::import(&Source::new("probe.service", unit), Format::Systemd).unwrap();
    let one = imported.remove(0);
    let recipe = parse_recipe(Path::new("x.toml"), &one.recipe).unwrap_or_else(|e| panic!("{e}\n{}", one.recipe));
    (recipe, one)
}

/// Each report line of the import: (line, setting, outcome, reason).
fn report(imported: &import::Imported) -> Vec<(usize, String, String)> {
    imported
        .report
        .entries
        .iter()
        .filter(|e| e.setting.contains("Condition") || e.setting.contains("Assert"))
        .map(|e| (e.line, e.setting.clone(), format!("{:?}", e.outcome)))
        .collect()
}

fn values(list: &[Condition]) -> Vec<String> {
    list.iter().map(|c| format!("{}={}", c.probe.key().key(), c.value())).collect()
}

#[test]
fn a_units_triggering_conditions_become_any_and_host_conditions_are_carried_with_their_lines() {
    // As Debian's kmod.service and systemd-timesyncd.service write them.
    let (r, i) = import_unit(
        "[Unit]
Description=Load Kernel Modules
ConditionCapability=CAP_SYS_MODULE
ConditionDirectoryNotEmpty=|/lib/modules-load.d
ConditionDirectoryNotEmpty=| /etc/modules-load.d
ConditionKernelCommandLine=|modules-load
ConditionKernelCommandLine=|rd.modules_load
ConditionVirtualization=!container
ConditionVirtualization=false
ConditionPathIsReadWrite=/proc/sys/net/
ConditionPathIsMountPoint=/proc/sys/fs/binfmt_misc
ConditionPathIsSymbolicLink=!/system-update
ConditionACPower=true
AssertCapability=cap_sys_time
ConditionSecurity=tpm2

[Service]
Type=oneshot
ExecStart=/lib/systemd/systemd-modules-load
",
    );
    assert_eq!(
        values(&r.conditions.all),
        [
            "path_is_read_write=/proc/sys/net/",
            "path_is_mount_point=/proc/sys/fs/binfmt_misc",
            "path_is_symbolic_link=!/system-update",
            "virtualization=!container",
            "virtualization=no",
            "capability=CAP_SYS_MODULE",
            "capability=CAP_SYS_TIME",
            "ac_power=true",
            "security=tpm2",
        ]
    );
    assert_eq!(
        values(&r.conditions.any),
        [
            "directory_not_empty=/lib/modules-load.d",
            "directory_not_empty=/etc/modules-load.d",
            "kernel_command_line=modules-load",
            "kernel_command_line=rd.modules_load",
        ]
    );
    let carried = |line: usize, setting: &str| (line, format!("[Unit] {setting}"), "Carried".to_owned());
    let mut want = vec![
        carried(3, "ConditionCapability"),
        carried(4, "ConditionDirectoryNotEmpty"),
        carried(5, "ConditionDirectoryNotEmpty"),
        carried(6, "ConditionKernelCommandLine"),
        carried(7, "ConditionKernelCommandLine"),
        carried(8, "ConditionVirtualization"),
        carried(9, "ConditionVirtualization"),
        carried(10, "ConditionPathIsReadWrite"),
        carried(11, "ConditionPathIsMountPoint"),
        carried(12, "ConditionPathIsSymbolicLink"),
        carried(13, "ConditionACPower"),
    ];
    want.push((
        14,
        "[Unit] AssertCapability".to_owned(),
        "Approximated(\"an unmet assertion skips the start instead of failing it\")".to_owned(),
    ));
    want.push(carried(15, "ConditionSecurity"));
    assert_eq!(report(&i), want);
}

#[test]
fn security_is_noted_where_initkit_guesses_it() {
    let r = recipe("security = [\"tpm2\"]");
    for target in [Target::Sysv, Target::Openrc] {
        let notes = initkit::render::features::notes(&r, target);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with("conditions.security: the kernel's files"), "{notes:?}");
    }
    assert!(initkit::render::features::notes(&r, Target::Systemd).is_empty());
}

#[test]
fn a_value_a_recipe_cannot_hold_is_dropped_with_the_reason() {
    let (r, i) = import_unit(
        "[Unit]
ConditionCapability=CAP_FLY
ConditionVirtualization=virtualbox
ConditionKernelCommandLine=\"a b\"
ConditionPathExists=/etc/%I.conf
ConditionSecurity=cvm
ConditionPathExists=|/etc/a
ConditionPathExists=|/etc/%i
[Service]
ExecStart=/usr/bin/probe
",
    );
    let got = report(&i);
    let dropped = |line: usize| got.iter().find(|e| e.0 == line).map(|e| e.2.clone()).unwrap();
    assert!(dropped(2).starts_with("Dropped(\"`CAP_FLY` is not a capability Linux has"), "{got:?}");
    assert!(dropped(3).starts_with("Dropped(\"`virtualbox` is not a virtualization systemd detects"), "{got:?}");
    assert!(dropped(4).starts_with("Dropped(\"`\\\"a b\\\"` is not one word"), "{got:?}");
    assert!(dropped(5).contains("the specifier `%I`: the unit is no template: there is no instance"), "{got:?}");
    assert!(dropped(6).contains("(`cvm` asks the CPU, which initkit's scripts cannot)"), "{got:?}");
    assert_eq!(dropped(7), "Carried");
    // Its partner dropped, the one left of the group must hold alone: a plain condition.
    assert_eq!(values(&r.conditions.all), ["path_exists=/etc/a"]);
    assert!(r.conditions.any.is_empty());
}

#[test]
fn a_second_triggering_group_of_assertions_is_dropped() {
    let (r, i) = import_unit(
        "[Unit]
ConditionPathExists=|/etc/a
ConditionPathExists=|/etc/b
AssertPathExists=|/etc/c
AssertPathExists=|/etc/d
[Service]
ExecStart=/usr/bin/probe
",
    );
    assert_eq!(values(&r.conditions.any), ["path_exists=/etc/a", "path_exists=/etc/b"]);
    let got = report(&i);
    assert!(got[2].2.contains("a second group of triggering"), "{got:?}");
    assert!(got[3].2.contains("a second group of triggering"), "{got:?}");
    // Assertions alone in `|` form a group of their own: read as `any`.
    let (r, _) =
        import_unit("[Unit]\nAssertPathExists=|/etc/c\nAssertPathExists=|/etc/d\n[Service]\nExecStart=/usr/bin/p\n");
    assert_eq!(values(&r.conditions.any), ["path_exists=/etc/c", "path_exists=/etc/d"]);
}

#[test]
fn a_recipes_conditions_read_back_from_its_unit_unchanged() {
    let r = recipe(common::EVERY_CONDITION);
    let unit = &render(&r, Target::Systemd, &Options::default()).unwrap()[0];
    let (back, i) = import_unit(&unit.content);
    assert_eq!(back.conditions, r.conditions, "{}\n{}", unit.content, i.recipe);
    assert!(report(&i).iter().all(|e| e.2 == "Carried"), "{:?}", report(&i));
}

/// A template unit's `%i` and `%I` in a condition's path are the recipe's
/// `{instance}` and `{instance_path}`, rendered back as the specifiers; a
/// literal brace stays literal.
#[test]
fn a_template_units_paths_name_the_instance() {
    let unit = "[Unit]\nAssertPathExists=/etc/postgresql/%I/postgresql.conf\nConditionPathExists=!/run/{x}/%i.off\n\
                [Service]\nExecStart=/usr/bin/probe %i\n";
    let mut imported = import::import(&Source::new("probe@.service", unit), Format::Systemd).unwrap();
    let one = imported.remove(0);
    let recipe = parse_recipe(Path::new("x.toml"), &one.recipe).unwrap_or_else(|e| panic!("{e}\n{}", one.recipe));
    assert_eq!(
        values(&recipe.conditions.all),
        ["path_exists=/etc/postgresql/{instance_path}/postgresql.conf", "path_exists=!/run/{{x}}/{instance}.off"]
    );
    assert!(report(&one).iter().all(|e| !e.2.starts_with("Dropped")), "{:?}", report(&one));
    let unit = render(&recipe, Target::Systemd, &Options::default()).unwrap()[0].content.clone();
    assert!(unit.contains("ConditionPathExists=/etc/postgresql/%I/postgresql.conf\n"), "{unit}");
    assert!(unit.contains("ConditionPathExists=!/run/{x}/%i.off\n"), "{unit}");
}

#[test]
fn a_path_names_the_instance_only_in_a_recipe_with_instances() {
    let text = "name = \"x\"\nsummary = \"x\"\n[conditions]\npath_exists = [\"/etc/{instance}.conf\", \"/etc/{port}\"]\n\
                [run]\ncommand = [\"/bin/true\"]\nuser = \"root\"\n";
    let e = parse_recipe(Path::new("x.toml"), text).unwrap_err();
    let messages: Vec<&str> = e.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "`{instance}` is used but the recipe has no [instances] table",
            "`{port}` cannot be used in a condition: only `{name}`, `{instance}` and `{instance_path}` can (write `{{` for a literal brace)"
        ]
    );
}
