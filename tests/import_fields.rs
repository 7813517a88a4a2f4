//! The fields real services need that the import corpus found missing:
//! a template's conditions and dependencies on its own instance, a timer's
//! fixed random delay, `IgnoreOnIsolate=`, a task's several commands; and an
//! LSB script's values from the settings file it sources, resolved in order.
//! Each imported, validated, and rendered where it has meaning.

mod common;

use std::{fs, path::Path, process::Command};

use common::report_entry;
use initkit::{
    recipe::{Dep, HookAction, Recipe, RunKind, parse_recipe},
    render::{Options, Target, render},
};

fn dropped(json: &serde_json::Value) -> Vec<String> {
    json["report"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "dropped")
        .map(|e| format!("{} {}", e["setting"], e["why"]))
        .collect()
}

fn rendered(recipe: &Recipe, target: Target) -> String {
    render(recipe, target, &Options::default()).unwrap_or_else(|e| panic!("{e}"))[0].content.clone()
}

/// Debian's pg_dump@: a dump of one cluster after that cluster, weekly
/// with a fixed random delay, two commands in turn.
const PG_DUMP: &str = "[Unit]\nDescription=Dump of PostgreSQL Cluster %i\n\
    AssertPathExists=/etc/postgresql/%I/postgresql.conf\nWants=postgresql@%i.service\n\
    After=postgresql@%i.service\nIgnoreOnIsolate=yes\n\n[Service]\nType=oneshot\nUser=postgres\n\
    ExecStart=/usr/bin/pg_backupcluster %i dump\nExecStart=/usr/bin/pg_backupcluster %i expiredumps 3\n";
const PG_DUMP_TIMER: &str = "[Unit]\nDescription=Weekly\n\n[Timer]\nOnCalendar=weekly\nRandomizedDelaySec=1h\n\
    FixedRandomDelay=true\n";

#[test]
fn a_template_units_instance_relations_timer_and_commands_are_carried() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("pg_dump@.service"), PG_DUMP).unwrap();
    fs::write(dir.path().join("pg_dump@.timer"), PG_DUMP_TIMER).unwrap();
    let (r, json) = common::import_json_in(dir.path(), &["pg_dump@.service"]).remove(0);
    assert_eq!(dropped(&json), Vec::<String>::new());
    assert_eq!(r.conditions.all[0].value(), "/etc/postgresql/{instance_path}/postgresql.conf");
    assert_eq!(r.depends.wants, [Dep::Instance("postgresql".into())]);
    assert_eq!(r.depends.after, [Dep::Instance("postgresql".into())]);
    let schedule = r.schedule.as_ref().unwrap();
    assert_eq!((schedule.random_delay_ms, schedule.fixed_random_delay), (Some(3_600_000), true));
    assert!(r.systemd.ignore_on_isolate);
    // The dump is a step before the last command, not lost.
    assert_eq!(r.run.command.iter().map(ToString::to_string).collect::<Vec<_>>()[2], "expiredumps");
    let HookAction::Run(step) = &r.start.before[0].action else { panic!("{:?}", r.start.before) };
    assert_eq!(
        step.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["/usr/bin/pg_backupcluster", "{instance}", "dump"]
    );
    assert_eq!(report_entry(&json, "[Service] ExecStart").1, "carried");
    assert!(json.to_string().contains("a command of the task before its last"), "{json:#}");

    let all = render(&r, Target::Systemd, &Options::default()).unwrap();
    let unit = &all.iter().find(|a| a.path.ends_with("pg_dump@.service")).unwrap().content;
    for line in [
        "After=postgresql@%i.service\n",
        "Wants=postgresql@%i.service\n",
        "ConditionPathExists=/etc/postgresql/%I/postgresql.conf\n",
        "IgnoreOnIsolate=yes\n",
    ] {
        assert!(unit.contains(line), "{line}{unit}");
    }
    let timer = &all.iter().find(|a| a.path.ends_with("pg_dump@.timer")).unwrap().content;
    assert!(timer.contains("\nFixedRandomDelay=yes\n"), "{timer}");
    // The unit's `%i` in its description is initkit's own ` (%i)`.
    assert!(unit.contains("Description=Dump of PostgreSQL Cluster (%i)\n"), "{unit}");
    // LSB orders after the script of every cluster; cron has no delay at all.
    let sysv = render(&r, Target::Sysv, &Options::default()).unwrap();
    assert!(sysv[0].content.contains("# Should-Start:      postgresql\n"), "{}", sysv[0].content);
    let cron = sysv.iter().find(|a| a.path.contains("cron.d")).unwrap();
    assert!(cron.content.contains("without systemd's random delay"), "{}", cron.content);
}

/// OpenRC's depend(), run: the same instance is the other service's link
/// named like this one's, as openrc-run calls it with RC_SVCNAME.
#[test]
fn openrc_depends_on_the_link_of_the_same_instance() {
    let text = "name = \"pgdump\"\nsummary = \"d\"\n[instances]\n[depends]\nrequires = [\"postgresql@{instance}\"]\n\
                wants = [\"redis@cache\"]\nafter = [\"memcached\"]\nbefore = [\"nginx\"]\n\
                [run]\ncommand = [\"/bin/true\"]\nuser = \"root\"\n";
    let r = parse_recipe(Path::new("pgdump.toml"), text).unwrap();
    let script = rendered(&r, Target::Openrc);
    let start = script.find("depend() {").unwrap();
    let end = start + script[start..].find("\n}\n").unwrap() + 3;
    let stubs = "for w in need use after before; do eval \"$w() { echo $w \\\"\\$@\\\"; }\"; done\nNAME=pgdump\n";
    for (svc, want) in [("pgdump.15-main", "postgresql.15-main"), ("pgdump", "postgresql")] {
        let sh = format!("{stubs}{}\nRC_SVCNAME={svc}\ndepend\n", &script[start..end]);
        let o = Command::new("/bin/sh").arg("-c").arg(&sh).output().unwrap();
        assert_eq!(
            String::from_utf8(o.stdout).unwrap(),
            format!(
                "use net logger dns\nafter firewall\nneed {want}\nuse redis.cache\nafter memcached\nbefore nginx\n"
            )
        );
    }
    if common::require_tool("shellcheck", "checks the OpenRC script") {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pgdump");
        fs::write(&f, &script).unwrap();
        let o = Command::new("shellcheck").arg("-s").arg("sh").arg(&f).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    }
}

#[test]
fn instance_relations_and_fixed_delays_are_validated() {
    let e = parse_recipe(
        Path::new("x.toml"),
        "name = \"x\"\nsummary = \"x\"\n[depends]\nafter = [\"postgresql@{instance}\", \"x@{instance}\", \"Bad@{instance}\"]\n\
         [schedule]\ncalendar = \"daily\"\nfixed_random_delay = true\n\
         [run]\ntype = \"oneshot\"\ncommand = [\"/bin/true\"]\nuser = \"root\"\n",
    )
    .unwrap_err();
    let got: Vec<(&str, &str)> = e.diagnostics.iter().map(|d| (d.field.as_str(), d.message.as_str())).collect();
    assert_eq!(
        got,
        [
            (
                "depends.after[0]",
                "`postgresql@{instance}` names this service's instance, but the recipe has no [instances] table"
            ),
            ("depends.after[1]", "`x@{instance}` is this service itself"),
            (
                "depends.after[2]",
                "\"Bad\" is not a recipe name: use lowercase letters, digits, `-` and `_`, starting with a letter or digit (at most 64), before `@{instance}`"
            ),
            (
                "schedule.fixed_random_delay",
                "`fixed_random_delay` says how `random_delay` is drawn, and there is no `random_delay`"
            ),
        ]
    );
}

/// opendkim's and php-fpm's shape: the script sources /etc/default/NAME,
/// then builds on what it set (`USER=$USER`, `OPTS="-u $USER $OPTS"`);
/// a pidfile from a command's output falls back to its default; clamav's
/// `[ -n "$User" ] || User=clamav` is the fallback the script takes.
#[test]
fn a_scripts_settings_file_and_its_fallbacks_are_read_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    fs::create_dir_all(etc.join("init.d")).unwrap();
    fs::create_dir_all(etc.join("default")).unwrap();
    let script = "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: dkim\n### END INIT INFO\nDAEMON=/usr/sbin/dkim\n\
        USER=nobody\nif [ -f /etc/default/dkim ] ; then\n\t. /etc/default/dkim\nfi\nUSER=$USER\n\
        CONF_PID=$(sed -n 's/^pid //p' /etc/dkim.conf)\nPIDFILE=${CONF_PID:-/run/dkim/dkim.pid}\n\
        DAEMON_OPTS=\"-u $USER -P $PIDFILE $DAEMON_OPTS\"\n[ -n \"$Group\" ] || Group=mail\n\
        case \"$1\" in\n  start)\n    start-stop-daemon --start --pidfile $PIDFILE --exec $DAEMON -- $DAEMON_OPTS -g $Group\n    ;;\nesac\n";
    fs::write(etc.join("init.d/dkim"), script).unwrap();
    fs::write(etc.join("default/dkim"), "# settings\nUSER=dkim\nRUNDIR=/run/dkim\n").unwrap();
    let (r, json) = common::import_json_in(dir.path(), &["etc/init.d/dkim"]).remove(0);
    assert_eq!(dropped(&json), Vec::<String>::new());
    assert_eq!(r.var("DAEMON_OPTS").unwrap().default.to_string(), "-u dkim -P /run/dkim/dkim.pid");
    assert!(matches!(&r.run.kind, RunKind::Forking { pidfile } if pidfile.to_string() == "/run/dkim/dkim.pid"));
    assert_eq!(
        r.run.command.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["/usr/sbin/dkim", "{DAEMON_OPTS...}", "-g", "{Group...}"]
    );
    assert_eq!(r.var("Group").unwrap().default.to_string(), "mail");
    assert_eq!(report_entry(&json, "$PIDFILE").1, "approximated");
    assert_eq!(report_entry(&json, "$Group").1, "approximated");
    assert!(json.to_string().contains("CONF_PID is set where the import cannot follow"), "{json:#}");
    // Without the settings file the script's own value stands.
    fs::remove_file(etc.join("default/dkim")).unwrap();
    let (r, _) = common::import_json_in(dir.path(), &["etc/init.d/dkim"]).remove(0);
    assert_eq!(r.var("DAEMON_OPTS").unwrap().default.to_string(), "-u nobody -P /run/dkim/dkim.pid");
}

/// `ReloadPropagatedFrom=` is `depends.reload_from`, systemd's alone (a
/// note elsewhere); a mount path names the instance as `%I` does.
#[test]
fn reloads_passed_on_and_instance_mounts_are_carried() {
    let dir = tempfile::tempdir().unwrap();
    let unit = "[Unit]\nReloadPropagatedFrom=pgbouncer.service\nRequiresMountsFor=/var/lib/pg/%I /srv\n\
                [Service]\nExecStart=/usr/bin/pgd %i\nExecReload=/bin/kill -HUP $MAINPID\n";
    fs::write(dir.path().join("pgd@.service"), unit).unwrap();
    let (r, json) = common::import_json_in(dir.path(), &["pgd@.service"]).remove(0);
    assert_eq!(dropped(&json), Vec::<String>::new());
    assert_eq!(r.depends.reload_from, [Dep::parse("pgbouncer").unwrap()]);
    let unit = rendered(&r, Target::Systemd);
    assert!(unit.contains("ReloadPropagatedFrom=pgbouncer.service\n"), "{unit}");
    assert!(unit.contains("RequiresMountsFor=/var/lib/pg/%I /srv\n"), "{unit}");
    let notes = initkit::render::features::notes(&r, Target::Sysv);
    assert!(
        notes.iter().any(|n| n.starts_with("depends.reload_from: a reload of those is not passed on")),
        "{notes:?}"
    );
    let e = parse_recipe(
        Path::new("x.toml"),
        "name = \"x\"\nsummary = \"x\"\n[depends]\nmounts = [\"/srv/{instance}\", \"/srv/{port}\"]\n\
         [run]\ncommand = [\"/bin/true\"]\nuser = \"root\"\n",
    )
    .unwrap_err();
    let got: Vec<&str> = e.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        got,
        [
            "the path names the instance, but the recipe has no [instances] table",
            "`{port}` cannot be used in a mount path: only `{name}`, `{instance}` and `{instance_path}` can"
        ]
    );
}

/// user@.service's shape: a service placed in a slice of its own.
#[test]
fn a_slice_is_carried_validated_and_rendered_where_it_exists() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("db.service"),
        "[Unit]\nDescription=db\n\n[Service]\nExecStart=/usr/bin/db\nUser=db\nSlice=system-db.slice\n",
    )
    .unwrap();
    let imported = common::import_json_in(dir.path(), &["db.service"]);
    let (r, json) = &imported[0];
    assert_eq!(r.systemd.slice.as_deref(), Some("system-db.slice"));
    assert_eq!(report_entry(json, "[Service] Slice"), ("db.service:7".into(), "carried".into()));
    assert!(dropped(json).is_empty(), "{:?}", dropped(json));
    assert!(rendered(r, Target::Systemd).contains("\nSlice=system-db.slice\n"));
    for target in [Target::Sysv, Target::Openrc, Target::Runit, Target::Supervisord, Target::Launchd] {
        assert!(!rendered(r, target).contains("system-db.slice"), "{target:?}");
    }
    let note = initkit::render::features::notes(r, Target::Runit);
    assert!(note.iter().any(|n| n.starts_with("systemd.slice: no slice")), "{note:?}");

    // A slice that is no unit name is dropped with the reason, never carried.
    fs::write(dir.path().join("bad.service"), "[Service]\nExecStart=/usr/bin/db\nUser=db\nSlice=user-%i.slice\n")
        .unwrap();
    let (_, json) = &common::import_json_in(dir.path(), &["bad.service"])[0];
    assert_eq!(
        dropped(json),
        [
            "\"[Service] Slice\" \"`user-%i.slice` has a character a unit name may not have (only letters, digits and `:_.-`)\""
        ]
    );

    let text = "name = \"x\"\nsummary = \"x\"\n[run]\ncommand = [\"/bin/x\"]\nuser = \"root\"\n\
         [systemd]\nslice = \"db\"\n";
    let e = parse_recipe(Path::new("x.toml"), text).unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!(
        (d.field.as_str(), d.message.as_str()),
        ("systemd.slice", "`db` is not a slice: its name must end in `.slice`")
    );
    assert_eq!(d.span.clone().map(|s| s.start), text.find("\"db\""));
}
