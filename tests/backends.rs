//! The backends, checked against each other and the docs: every reload
//! signal reaches every target as that signal, and the capability matrix in
//! docs/targets.md is the one the backends declare.

use std::path::Path;

use initkit::{
    host::action::Action,
    host::drivers::{launchd, runit, upstart},
    recipe::{parse_recipe, signal::Signal},
    render::{Options, Target, features, render, target::matrix},
};

const SIGNALS: [&str; 8] = ["HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "WINCH"];

fn recipe(signal: &str) -> initkit::recipe::Recipe {
    let text = format!(
        "name = \"sig\"\nsummary = \"s\"\n[run]\ncommand = [\"/bin/sleep\", \"9\"]\nuser = \"root\"\n[reload]\nsignal = \"{signal}\"\n"
    );
    parse_recipe(Path::new("sig.toml"), &text).unwrap()
}

#[test]
fn every_reload_signal_reaches_every_target_as_itself() {
    for name in SIGNALS {
        let r = recipe(name);
        let signal = Signal::parse(name).unwrap();
        for target in Target::ALL {
            let text: String =
                render(&r, target, &Options::default()).unwrap().into_iter().map(|a| a.content).collect();
            let how = match target {
                Target::Systemd => text.contains(&format!("ExecReload=/bin/kill -s {name} $MAINPID")),
                // The scripts, and the stop wrapper the supervisor's SIGHUP reaches.
                Target::Sysv | Target::Openrc | Target::S6 | Target::Daemontools | Target::Supervisord => {
                    text.contains(&format!("kill -s {name} \"$pid\""))
                }
                Target::Runit => match runit::sv_signal(signal) {
                    Some(cmd) => {
                        let expected = match name {
                            "HUP" => "hup",
                            "USR1" => "1",
                            "USR2" => "2",
                            "INT" => "interrupt",
                            "QUIT" => "quit",
                            "TERM" => "term",
                            _ => "kill",
                        };
                        cmd == expected
                    }
                    // sv cannot send WINCH: the front-end kills the PID runsv reports.
                    None => name == "WINCH",
                },
                Target::Upstart => {
                    let plan = upstart::reload_plan(&r, "sig", None, Some(42)).unwrap();
                    if name == "HUP" {
                        plan == ("initctl".to_owned(), vec!["reload".to_owned(), "sig".to_owned()])
                    } else {
                        plan == ("kill".to_owned(), vec!["-s".to_owned(), name.to_owned(), "42".to_owned()])
                    }
                }
                Target::Launchd => {
                    launchd::args(&r, Action::Reload, "system/x".into())
                        == Some(vec!["kill".to_owned(), name.to_owned(), "system/x".to_owned()])
                }
            };
            assert!(how, "{}: a reload by SIG{name} is not sent as SIG{name}", target.name());
        }
    }
}

/// docs/targets.md holds the matrices the backends declare (practices and
/// recipe fields); with INITKIT_WRITE_DOCS=1 the test writes them there instead.
#[test]
fn the_capability_matrices_in_the_docs_are_the_backends_own() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/targets.md");
    let mut doc = std::fs::read_to_string(&path).unwrap();
    let mut stale = Vec::new();
    for (what, want) in [("matrix", matrix()), ("fields", features::matrix())] {
        let begin = format!("<!-- {what}: generated from the backends -->\n");
        let end =
            if what == "matrix" { "<!-- end of matrix -->\n".to_owned() } else { format!("<!-- end of {what} -->\n") };
        let start = doc.find(&begin).unwrap_or_else(|| panic!("the {what} start marker")) + begin.len();
        let stop = doc.find(&end).unwrap_or_else(|| panic!("the {what} end marker"));
        if doc[start..stop] != want {
            stale.push(what);
            doc = format!("{}{want}{}", &doc[..start], &doc[stop..]);
        }
    }
    if std::env::var("INITKIT_WRITE_DOCS").as_deref() == Ok("1") {
        std::fs::write(&path, doc).unwrap();
        return;
    }
    assert!(
        stale.is_empty(),
        "docs/targets.md is stale ({stale:?}): run INITKIT_WRITE_DOCS=1 cargo test --test backends"
    );
}

#[test]
fn a_runtime_directory_all_instances_share_outlives_one_instances_stop() {
    let unit = |runtime: &str, instances: bool| {
        let text = format!(
            "name = \"rt\"\nsummary = \"s\"\n[run]\ncommand = [\"/bin/sleep\", \"9\"]\nuser = \"root\"\n\
             [directories]\nruntime = \"{runtime}\"\n{}",
            if instances { "[instances]\n" } else { "" }
        );
        let r = parse_recipe(Path::new("rt.toml"), &text).unwrap();
        let text: String =
            render(&r, Target::Systemd, &Options::default()).unwrap().into_iter().map(|a| a.content).collect();
        text.lines().find(|l| l.starts_with("RuntimeDirectoryPreserve=")).map(str::to_owned)
    };
    // systemd removes a unit's runtime directory when it stops: shared, the
    // sockets of the instances still running would go with it.
    assert_eq!(unit("rt", true).as_deref(), Some("RuntimeDirectoryPreserve=yes"));
    assert_eq!(unit("rt/{instance}", true).as_deref(), Some("RuntimeDirectoryPreserve=restart"));
    assert_eq!(unit("rt", false).as_deref(), Some("RuntimeDirectoryPreserve=restart"));
}
