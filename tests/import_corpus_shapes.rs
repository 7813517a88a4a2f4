//! Shapes of units this host's corpus has, imported as the corpus run
//! (tests/e2e/import_corpus.py) found them: each setting carried or
//! approximated with its line, and what is carried rendered back.

mod common;

use common::report_entry;

use std::{fs, path::Path};

use initkit::{
    recipe::{Dep, Recipe, Reload, parse_recipe},
    render::{Target, features, render},
};

/// `import --json` of one unit written to a temporary directory.
fn import_unit(name: &str, unit: &str) -> (Recipe, serde_json::Value) {
    import_units(name, &[(name, unit)])
}

/// `import --json` of the unit `name`, with the other units beside it.
fn import_units(name: &str, units: &[(&str, &str)]) -> (Recipe, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    for (file, text) in units {
        fs::write(dir.path().join(file), text).unwrap();
    }
    let o = common::initkit().args(["import", "--json", name]).current_dir(dir.path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let i = json["imports"][0].clone();
    (parse_recipe(Path::new("x.toml"), i["recipe"].as_str().unwrap()).unwrap(), i)
}

fn unit_text(recipe: &Recipe) -> String {
    render(recipe, Target::Systemd, &common::options_for(recipe)).unwrap()[0].content.clone()
}

/// nats-server and clamav-clamonacc stop with `kill -SIG $MAINPID`: the
/// recipe's stop signal, approximated (systemd signalled what was left at
/// once, a recipe waits for the daemon).
#[test]
fn a_kill_of_the_main_pid_as_exec_stop_is_the_stop_signal() {
    let (r, i) = import_unit(
        "nats.service",
        "[Service]\nExecStart=/usr/bin/nats-server\nExecReload=/bin/kill -s HUP $MAINPID\nExecStop=/bin/kill -s SIGINT $MAINPID\n",
    );
    assert_eq!(r.stop.signal.name(), "INT");
    assert!(r.stop.command.is_none());
    assert!(matches!(r.reload, Some(Reload::Signal(s)) if s.name() == "HUP"));
    assert_eq!(report_entry(&i, "[Service] ExecStop"), ("nats.service:4".to_owned(), "approximated".to_owned()));
    assert_eq!(i["dropped"], 0, "{i:#}");
    assert!(unit_text(&r).contains("KillSignal=SIGINT\n"), "{}", unit_text(&r));
}

/// pdns writes the older StartLimitInterval= in [Service], where systemd still reads it.
#[test]
fn start_limits_in_the_service_section_are_the_restart_limit() {
    let (r, i) = import_unit(
        "pdns.service",
        "[Service]\nType=notify\nExecStart=/usr/sbin/pdns_server\nStartLimitInterval=0\nStartLimitBurst=3\n",
    );
    assert_eq!((r.restart.burst, r.restart.interval_ms), (Some(3), Some(0)));
    assert_eq!(report_entry(&i, "[Service] StartLimitInterval").1, "carried");
    assert_eq!(report_entry(&i, "[Service] StartLimitBurst").1, "carried");
    assert!(unit_text(&r).contains("StartLimitBurst=3\nStartLimitIntervalSec=0\n"), "{}", unit_text(&r));
}

/// postgresql.service and tor.service: an umbrella task whose reload is
/// `/bin/true`, there only to pass a reload on; another reload is dropped.
#[test]
fn a_tasks_reload_that_does_nothing_is_approximated_and_another_dropped() {
    let unit = "[Service]\nType=oneshot\nExecStart=/bin/true\nExecReload=/bin/true\nRemainAfterExit=yes\n";
    let (r, i) = import_unit("postgresql.service", unit);
    assert!(r.reload.is_none());
    assert_eq!(
        report_entry(&i, "[Service] ExecReload"),
        ("postgresql.service:4".to_owned(), "approximated".to_owned())
    );
    assert_eq!(i["dropped"], 0, "{i:#}");
    let (_, i) = import_unit("t.service", &unit.replace("ExecReload=/bin/true", "ExecReload=/usr/bin/t --reload"));
    assert_eq!(report_entry(&i, "[Service] ExecReload"), ("t.service:4".to_owned(), "dropped".to_owned()));
}

/// apt-daily orders after NetworkManager.service, which no recipe could be
/// named: it stays a systemd unit, written as it was, left out elsewhere.
#[test]
fn a_service_no_recipe_could_be_named_is_kept_as_a_unit() {
    let (r, i) = import_unit(
        "apt-daily.service",
        "[Unit]\nAfter=network.target NetworkManager.service connman.service\n[Service]\nType=oneshot\nExecStart=/usr/lib/apt/apt.systemd.daily update\n",
    );
    assert_eq!(
        r.depends.after,
        [Dep::Unit("NetworkManager.service".to_owned()), Dep::parse("connman").unwrap()],
        "{:?}",
        r.depends.after
    );
    assert_eq!(report_entry(&i, "[Unit] After").1, "approximated", "network.target is implied");
    assert_eq!(i["dropped"], 0, "{i:#}");
    assert!(unit_text(&r).contains("After=NetworkManager.service connman.service\n"), "{}", unit_text(&r));
    let sysv = render(&r, Target::Sysv, &common::options_for(&r)).unwrap();
    assert!(!sysv[0].content.contains("NetworkManager"), "left out of the LSB header");
    assert!(features::notes(&r, Target::Sysv).iter().any(|n| n.contains("left out: there is no such unit")));
    // A name that is no unit at all is still refused, with what to write.
    let e = Dep::parse("Bad Name.service").unwrap_err();
    assert!(e.contains("`NetworkManager.service`"), "{e}");
}

/// systemd-logind and systemd-networkd keep descriptors in systemd's store.
#[test]
fn a_descriptor_store_is_carried_and_noted_where_there_is_none() {
    let (r, i) = import_unit(
        "logind.service",
        "[Service]\nType=notify\nExecStart=/lib/systemd/systemd-logind\nFileDescriptorStoreMax=512\n",
    );
    assert_eq!(r.systemd.fd_store_max, Some(512));
    assert_eq!(
        report_entry(&i, "[Service] FileDescriptorStoreMax"),
        ("logind.service:4".to_owned(), "carried".to_owned())
    );
    assert!(unit_text(&r).contains("FileDescriptorStoreMax=512\n"), "{}", unit_text(&r));
    for target in [Target::Sysv, Target::Openrc, Target::Runit] {
        let notes = features::notes(&r, target);
        assert!(notes.iter().any(|n| n.starts_with("systemd.fd_store_max: no descriptor store")), "{notes:?}");
    }
    // A recipe's value is a number, checked where it is written.
    let bad =
        "name = \"x\"\nsummary = \"x\"\n[run]\ncommand = [\"/bin/x\"]\nuser = \"root\"\n[systemd]\nfd_store_max = -1\n";
    let e = parse_recipe(Path::new("x.toml"), bad).unwrap_err().to_string();
    assert!(e.contains("systemd.fd_store_max"), "{e}");
}

/// coturn's InaccessibleDirectories= is the older name of InaccessiblePaths=.
#[test]
fn older_sandbox_names_are_initkits_own_sandbox() {
    let (_, i) =
        import_unit("coturn.service", "[Service]\nExecStart=/usr/bin/turnserver\nInaccessibleDirectories=/home\n");
    assert_eq!(report_entry(&i, "[Service] InaccessibleDirectories").1, "approximated");
    assert_eq!(i["dropped"], 0, "{i:#}");
}

/// systemd-fsckd's, uwsgi's and epmd's sockets: the mode, owner and IPv6
/// binding of a socket carried and written back into the `.socket`.
#[test]
fn a_sockets_mode_owner_and_ipv6_binding_are_carried() {
    let socket = "[Socket]\nListenStream=/run/app.sock\nListenStream=[::]:4369\nSocketMode=0660\nSocketUser=www-data\nSocketGroup=www-data\nBindIPv6Only=both\n";
    let (r, i) =
        import_units("app.service", &[("app.service", "[Service]\nExecStart=/usr/bin/appd\n"), ("app.socket", socket)]);
    let s = r.socket.as_ref().unwrap();
    assert_eq!(
        (s.mode.as_deref(), s.user.as_deref(), s.group.as_deref(), s.ipv6_only.as_deref()),
        (Some("0660"), Some("www-data"), Some("www-data"), Some("both"))
    );
    for setting in ["SocketMode", "SocketUser", "SocketGroup", "BindIPv6Only"] {
        assert_eq!(report_entry(&i, &format!("[Socket] {setting}")).1, "carried", "{setting}");
    }
    assert_eq!(i["dropped"], 0, "{i:#}");
    let artifacts = render(&r, Target::Systemd, &common::options_for(&r)).unwrap();
    let unit = &artifacts.iter().find(|a| a.path.ends_with(".socket")).unwrap().content;
    assert!(unit.contains("SocketMode=0660\nSocketUser=www-data\nSocketGroup=www-data\nBindIPv6Only=both\n"), "{unit}");
    // The other targets refuse a socket as before.
    assert!(render(&r, Target::Sysv, &common::options_for(&r)).is_err());
    // A socket with no address a recipe listens on (initctl's FIFO) goes, with its settings.
    let fifo = "[Socket]\nListenFIFO=/run/initctl\nSocketMode=0600\n";
    let (r, i) =
        import_units("fifo.service", &[("fifo.service", "[Service]\nExecStart=/usr/bin/f\n"), ("fifo.socket", fifo)]);
    assert!(r.socket.is_none());
    assert_eq!(report_entry(&i, "[Socket] SocketMode"), ("fifo.socket:3".to_owned(), "dropped".to_owned()));
}

/// Every bad socket value at once, each with its field.
#[test]
fn bad_socket_values_are_each_reported() {
    let text = "name = \"x\"\nsummary = \"x\"\n[run]\ncommand = [\"/bin/x\"]\nuser = \"root\"\n[socket]\nstream = [\"/run/x.sock\"]\nmode = \"rw\"\nuser = \"Bad User\"\ngroup = \"g\\n\"\nipv6_only = \"yes\"\n";
    let e = parse_recipe(Path::new("x.toml"), text).unwrap_err().to_string();
    for want in [
        "socket.mode: `rw` is not a file mode: write three or four octal digits, such as \"0660\"",
        "socket.user: `Bad User` is not a user name",
        "socket.group:",
        "socket.ipv6_only: `yes` is not one of default, both, ipv6-only",
    ] {
        assert!(e.contains(want), "{want}\n{e}");
    }
}

/// etcd and tor@ say `PermissionsStartOnly=yes`: `User=` applies to
/// `ExecStart=` alone, so the recipe's steps and config test run as root.
#[test]
fn permissions_start_only_runs_the_steps_and_the_check_as_root() {
    let unit = "[Service]\nUser=etcd\nPermissionsStartOnly=yes\nExecStartPre=/usr/bin/install -d /run/etcd\n\
                ExecStartPre=/usr/bin/etcd --check\nExecStart=/usr/bin/etcd\nExecStartPost=/usr/bin/etcd-ready\n\
                ExecStopPost=/bin/rm -f /run/etcd/lock\n";
    let (r, i) = import_unit("etcd.service", unit);
    assert_eq!(report_entry(&i, "[Service] PermissionsStartOnly"), ("etcd.service:3".to_owned(), "carried".to_owned()));
    assert_eq!(i["dropped"], 0, "{i:#}");
    assert_eq!(r.run.user, "etcd");
    for hook in r.start.before.iter().chain(&r.start.after).chain(&r.stop.after) {
        assert_eq!(hook.user.as_deref(), Some("root"), "{hook:?}");
    }
    assert_eq!(r.check.as_ref().and_then(|c| c.user.as_deref()), Some("root"));
    let text = unit_text(&r);
    assert!(text.contains("ExecStartPre=+/usr/bin/timeout -k 2 90 /usr/bin/install -d /run/etcd\n"), "{text}");
    assert!(text.contains("ExecStopPost=-+/usr/bin/timeout -k 2 90 /bin/rm -f /run/etcd/lock\n"), "{text}");
}

/// Without it, the steps run as the service's user, as systemd runs them.
#[test]
fn without_permissions_start_only_the_steps_run_as_the_service_user() {
    let unit = "[Service]\nUser=etcd\nPermissionsStartOnly=no\nExecStartPre=/usr/bin/install -d /run/etcd\nExecStart=/usr/bin/etcd\n";
    let (r, i) = import_unit("etcd.service", unit);
    assert_eq!(report_entry(&i, "[Service] PermissionsStartOnly").1, "carried");
    assert_eq!(r.start.before[0].user, None);
}

/// tor@ has no `User=` (tor drops its privileges itself): every command
/// runs as root whatever the setting says.
#[test]
fn permissions_start_only_without_a_user_is_carried() {
    let unit =
        "[Service]\nPermissionsStartOnly=yes\nExecStartPre=/usr/bin/install -d /run/tor\nExecStart=/usr/bin/tor\n";
    let (r, i) = import_unit("tor.service", unit);
    assert_eq!(report_entry(&i, "[Service] PermissionsStartOnly").1, "carried");
    assert_eq!(i["dropped"], 0, "{i:#}");
    assert_eq!(r.run.user, "root");
}

/// A stop or reload command has no `user` in a recipe: it would run as the
/// service's user, not as root, so the setting is dropped and says why.
#[test]
fn permissions_start_only_with_a_reload_command_is_dropped() {
    let unit = "[Service]\nUser=d\nPermissionsStartOnly=yes\nExecStart=/usr/bin/d\nExecReload=/usr/bin/d-reload\n";
    let (_, i) = import_unit("d.service", unit);
    assert_eq!(report_entry(&i, "[Service] PermissionsStartOnly").1, "dropped");
    let why = i["report"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["setting"] == "[Service] PermissionsStartOnly")
        .unwrap()["why"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(why.contains("ExecReload= runs as the service's user"), "{why}");
    // Root and a group: root steps keep the group in a recipe.
    let unit = "[Service]\nGroup=g\nPermissionsStartOnly=yes\nExecStartPre=/bin/true\nExecStart=/usr/bin/d\n";
    let (_, i) = import_unit("d.service", unit);
    assert_eq!(report_entry(&i, "[Service] PermissionsStartOnly").1, "dropped");
}

/// prosody says `StandardInput=null`, the default: nothing to carry. A
/// terminal (the rescue shells') is dropped.
#[test]
fn standard_input_null_is_the_default_and_a_terminal_is_dropped() {
    let (_, i) = import_unit("p.service", "[Service]\nExecStart=/usr/bin/p\nStandardInput=null\n");
    assert_eq!(report_entry(&i, "[Service] StandardInput").1, "carried");
    assert_eq!(i["dropped"], 0, "{i:#}");
    let (_, i) = import_unit("p.service", "[Service]\nExecStart=/usr/bin/p\nStandardInput=tty-force\n");
    assert_eq!(report_entry(&i, "[Service] StandardInput").1, "dropped");
}

/// prosody says `NonBlocking=true` with no socket: it applies only to the
/// descriptors socket activation passes, so without a socket nothing is lost.
#[test]
fn non_blocking_matters_only_with_a_socket() {
    let (_, i) = import_unit("p.service", "[Service]\nExecStart=/usr/bin/p\nNonBlocking=true\n");
    assert_eq!(report_entry(&i, "[Service] NonBlocking").1, "carried");
    assert_eq!(i["dropped"], 0, "{i:#}");
    let (r, i) = import_units(
        "p.service",
        &[
            ("p.service", "[Service]\nExecStart=/usr/bin/p\nNonBlocking=true\n"),
            ("p.socket", "[Socket]\nListenStream=/run/p.sock\n"),
        ],
    );
    assert!(r.socket.is_some());
    assert_eq!(report_entry(&i, "[Service] NonBlocking").1, "dropped");
    let (_, i) = import_unit("p.service", "[Service]\nExecStart=/usr/bin/p\nNonBlocking=maybe\n");
    assert_eq!(report_entry(&i, "[Service] NonBlocking").1, "dropped");
}
