//! Per-user services (`--user`): rendered for the calling user's manager,
//! installed under a scratch --root with HOME and the XDG variables pointing
//! into it, and refused where they cannot work.

mod common;

use std::{
    fs,
    os::unix::fs::MetadataExt,
    path::Path,
    process::{Command, Output},
};

use common::initkit;
use initkit::render::{Layout, Options, Target, render, user::UserDirs};

const APP: &str = r#"name = "ikweb"
summary = "a python http.server of one's own"
[run]
command = ["/usr/bin/python3", "-m", "http.server", "19851"]
user = "nobody"
[ready]
tcp = "127.0.0.1:19851"
"#;

/// initkit as a user whose home is /home/u, with the XDG variables unset
/// (the defaults under HOME apply) unless a test sets them.
fn as_user(home: &str) -> Command {
    let mut c = initkit();
    c.env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_STATE_HOME")
        .env("XDG_RUNTIME_DIR", "/run/user/1000");
    c
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status, text(&o.stdout), text(&o.stderr));
    text(&o.stdout)
}

fn recipe(dir: &Path, body: &str) -> String {
    let path = dir.join("ikweb.toml");
    fs::write(&path, body).unwrap();
    path.display().to_string()
}

/// Every path under `root`, sorted.
fn paths(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if p.is_dir() && !p.is_symlink() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

#[test]
fn a_user_unit_has_no_user_and_is_wanted_by_the_user_managers_default_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = recipe(dir.path(), APP);
    let unit = ok(&as_user("/home/u").args(["render", &path, "--target", "systemd", "--user"]).output().unwrap());
    assert!(!unit.lines().any(|l| l.starts_with("User=") || l.starts_with("Group=")), "{unit}");
    assert!(unit.lines().any(|l| l == "WantedBy=default.target"), "{unit}");
    assert!(!unit.contains("multi-user.target"), "{unit}");
    assert!(unit.lines().any(|l| l == "EnvironmentFile=-/home/u/.config/initkit/settings/ikweb"), "{unit}");
    // What needs privilege or a mount namespace is not there; what seccomp does alone is.
    for absent in
        ["ProtectSystem=", "ProtectHome=", "PrivateTmp=", "PrivateUsers=", "CapabilityBoundingSet=", "ProtectKernel"]
    {
        assert!(!unit.contains(absent), "{absent} in a user unit:\n{unit}");
    }
    for present in ["NoNewPrivileges=yes", "SystemCallFilter=@system-service", "RestrictAddressFamilies="] {
        assert!(unit.contains(present), "{present} missing:\n{unit}");
    }
    // The system's unit of the same recipe keeps all of it.
    let system = ok(&initkit().args(["render", &path, "--target", "systemd"]).output().unwrap());
    assert!(system.contains("User=nobody\n") && system.contains("ProtectSystem=strict\n"), "{system}");
}

#[test]
fn a_users_directories_are_the_user_managers_specifiers_and_its_units_in_xdg_config_home() {
    let dir = tempfile::tempdir().unwrap();
    let body = APP.replace(
        "[ready]",
        "[directories]\nruntime = \"ikweb\"\nstate = \"ikweb\"\n[run.environment]\nSOCK = \"{runtime_dir}/s\"\nDATA = \"{state_dir}\"\n[ready]",
    );
    let path = recipe(dir.path(), &body);
    let out = dir.path().join("out");
    let o = as_user("/home/u")
        .env("XDG_CONFIG_HOME", "/srv/cfg")
        .args(["render", &path, "--target", "systemd", "--user", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    ok(&o);
    let unit = fs::read_to_string(out.join("srv/cfg/systemd/user/ikweb.service")).unwrap();
    assert!(unit.contains("RuntimeDirectory=ikweb\n") && unit.contains("StateDirectory=ikweb\n"), "{unit}");
    assert!(unit.contains("Environment=\"SOCK=%t/ikweb/s\"\n"), "{unit}");
    assert!(unit.contains("Environment=\"DATA=%S/ikweb\"\n"), "{unit}");
}

#[test]
fn what_needs_privilege_is_refused_all_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let body = APP.replace("user = \"nobody\"", "user = \"nobody\"\nnice = -5")
        + "[systemd]\ncapabilities = [\"CAP_NET_BIND_SERVICE\"]\n";
    let path = recipe(dir.path(), &body);
    let o = as_user("/home/u").args(["render", &path, "--target", "systemd", "--user"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "error: systemd cannot render what recipe `ikweb` asks for:\n  \
         systemd.capabilities (CAP_NET_BIND_SERVICE): a user's service cannot be given capabilities\n  \
         run.nice = -5: only root may raise a priority\n"
    );
}

#[test]
fn a_trial_start_needs_root_so_a_users_recipe_with_one_is_refused() {
    let o = as_user("/home/u").args(["render", "redis@a", "--target", "systemd", "--user"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("\n  check: a trial start needs root (its namespaces and copy-on-write layers)"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_target_without_user_services_is_refused_and_launchd_gets_a_launch_agent() {
    let dir = tempfile::tempdir().unwrap();
    let path = recipe(dir.path(), APP);
    let o = as_user("/home/u").args(["render", &path, "--target", "sysv", "--user"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).starts_with("error: sysv has no per-user services initkit can write"),
        "{}",
        text(&o.stderr)
    );
    let out = dir.path().join("out");
    ok(&as_user("/home/u")
        .args(["render", &path, "--target", "launchd", "--user", "--out"])
        .arg(&out)
        .output()
        .unwrap());
    let agent = fs::read_to_string(out.join("home/u/Library/LaunchAgents/org.initkit.ikweb.plist")).unwrap();
    assert!(agent.contains("<key>Label</key>") && !agent.contains("UserName"), "{agent}");
}

#[test]
fn install_and_uninstall_for_a_user_stay_in_the_users_directories_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir(&root).unwrap();
    let path = recipe(dir.path(), APP);
    let run = |args: &[&str]| {
        as_user("/home/u").env("XDG_STATE_HOME", "/home/u/state").args(args).arg("--root").arg(&root).output().unwrap()
    };
    let report = ok(&run(&["install", &path, "--target", "systemd", "--user", "--enable"]));
    assert!(report.contains("  created  /home/u/.config/systemd/user/ikweb.service\n"), "{report}");
    assert!(
        report.contains(
            "   linked  /home/u/.config/systemd/user/default.target.wants/ikweb.service -> /home/u/.config/systemd/user/ikweb.service\n"
        ),
        "{report}"
    );
    let manifest = fs::read_to_string(root.join("home/u/state/initkit/installed/ikweb.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert!(m["user"].is_string(), "the record says whose service it is: {manifest}");
    assert!(!root.join("var").exists() && !root.join("etc").exists(), "nothing of the system's: {:?}", paths(&root));
    // The system's record does not list it, the user's does.
    assert_eq!(
        ok(&initkit().args(["list", "--installed", "--root"]).arg(&root).output().unwrap()),
        "nothing is installed\n"
    );
    let listed = ok(&run(&["list", "--installed", "--user"]));
    assert!(listed.starts_with("ikweb  (systemd debian, 1 files, 1 links)  enabled"), "{listed}");
    assert!(ok(&run(&["install", &path, "--target", "systemd", "--user", "--enable"])).contains("nothing to do"));
    let gone = ok(&run(&["uninstall", "ikweb", "--user"]));
    assert!(gone.contains("  removed  /home/u/.config/systemd/user/ikweb.service\n"), "{gone}");
    assert_eq!(paths(&root), Vec::<String>::new(), "uninstall leaves the root as it found it");
}

#[test]
fn a_user_install_needs_home_and_refuses_create_user() {
    let dir = tempfile::tempdir().unwrap();
    let path = recipe(dir.path(), APP);
    let root = dir.path().display().to_string();
    let o = initkit()
        .env_remove("HOME")
        .args(["install", &path, "--target", "systemd", "--user", "--root", &root])
        .output()
        .unwrap();
    assert_eq!(text(&o.stderr), "error: --user needs HOME (an absolute path) to find the user's directories\n");
    let o = as_user("/home/u")
        .args(["install", &path, "--target", "systemd", "--user", "--create-user", "--root", &root])
        .output()
        .unwrap();
    assert!(text(&o.stderr).starts_with("error: --create-user makes system accounts"), "{}", text(&o.stderr));
    let o = as_user("/home/u").args(["install", &path, "--linger", "--root", &root]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "--linger without --user is a usage error");
}

#[test]
fn as_root_on_the_running_host_a_user_install_is_refused() {
    if fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("not root: the refusal is for root only");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = recipe(dir.path(), APP);
    let o = as_user("/root").args(["install", &path, "--target", "systemd", "--user"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("this is root"), "{}", text(&o.stderr));
    let o = as_user("/root").args(["status", "--user"]).output().unwrap();
    assert!(text(&o.stderr).contains("this is root"), "{}", text(&o.stderr));
}

#[test]
fn the_targets_with_user_services_are_those_docs_targets_md_lists() {
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/targets.md")).unwrap();
    let listed = doc.lines().find_map(|l| l.strip_prefix("<!-- per-user: ")?.strip_suffix(" -->")).unwrap();
    let declared: Vec<&str> =
        initkit::render::Target::ALL.iter().filter(|t| t.backend().per_user()).map(|t| t.name()).collect();
    assert_eq!(listed, declared.join(" "));
}

/// The render of `APP` for runit as the user with home `home` and runtime
/// directory `runtime`, by path.
fn runit_user(name: &str, home: &str, runtime: &str) -> std::collections::BTreeMap<String, String> {
    let recipe = initkit::recipe::parse_recipe(Path::new("ikweb.toml"), APP).unwrap();
    let user = UserDirs {
        name: name.to_owned(),
        uid: 1000,
        home: home.to_owned(),
        config: format!("{home}/.config"),
        state: format!("{home}/.local/state"),
        runtime: runtime.to_owned(),
    };
    let options = Options { layout: Layout { root: String::new(), user: Some(user) }, ..Options::default() };
    render(&recipe, Target::Runit, &options).unwrap().into_iter().map(|a| (a.path, a.content)).collect()
}

#[test]
fn a_runit_user_service_is_in_xdg_config_home_and_runs_as_the_user_without_chpst() {
    let files = runit_user("u", "/home/u", "/run/user/1000");
    let dir = "/home/u/.config/sv/ikweb";
    assert_eq!(
        files.keys().cloned().collect::<Vec<_>>(),
        ["check", "control/t", "finish", "log/run", "run"].map(|f| format!("{dir}/{f}")),
    );
    let run = &files[&format!("{dir}/run")];
    assert!(!run.contains("chpst -u"), "no drop to the recipe's user:\n{run}");
    assert!(run.lines().any(|l| l == "RUN_USER=u") && !run.contains("nobody"), "{run}");
    assert!(run.lines().any(|l| l == "PID_DIR=/run/user/1000/initkit/ikweb"), "{run}");
    assert!(run.lines().any(|l| l == "SETTINGS_FILE=/home/u/.config/initkit/settings/ikweb"), "{run}");
    assert_eq!(
        files[&format!("{dir}/log/run")],
        "#!/bin/sh\nmkdir -p /home/u/.config/log/initkit/ikweb/ikweb\nexec svlogd -tt /home/u/.config/log/initkit/ikweb/ikweb\n"
    );
    let finish = &files[&format!("{dir}/finish")];
    assert!(finish.lines().any(|l| l == "PID_DIR=/run/user/1000/initkit/ikweb"), "{finish}");
    assert!(finish.contains(">\"${pidfile%.pid}.exit\"\n"), "the exit is recorded beside the pidfile: {finish}");
    // Nothing of the system's.
    for (path, text) in &files {
        assert!(
            !text.contains("/run/initkit") && !text.contains("/var/log") && !text.contains("/etc/"),
            "{path}:\n{text}"
        );
    }
}

#[test]
fn what_needs_privilege_is_refused_for_runit_as_for_systemd() {
    let dir = tempfile::tempdir().unwrap();
    let body = APP.replace("user = \"nobody\"", "user = \"nobody\"\nnice = -5\noom_score_adjust = -100")
        + "[[stop.before]]\ndescription = \"flush\"\nrun = [\"/bin/true\"]\ntimeout = \"5s\"\nuser = \"root\"\n";
    let path = recipe(dir.path(), &body);
    let o = as_user("/home/u").args(["render", &path, "--target", "runit", "--user"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "error: runit cannot render what recipe `ikweb` asks for:\n  \
         run.nice = -5: only root may raise a priority\n  \
         run.oom_score_adjust = -100: only root may lower it\n  \
         a step runs as `root`: a user's service runs everything as that user\n"
    );
}

#[test]
fn a_runit_user_install_links_into_home_service_and_uninstall_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir(&root).unwrap();
    let path = recipe(dir.path(), APP);
    let run = |args: &[&str]| as_user("/home/u").args(args).arg("--root").arg(&root).output().unwrap();
    let report = ok(&run(&["install", &path, "--target", "runit", "--user", "--enable"]));
    assert!(report.contains("  created  /home/u/.config/sv/ikweb/run\n"), "{report}");
    assert!(report.contains("   linked  /home/u/service/ikweb -> /home/u/.config/sv/ikweb\n"), "{report}");
    assert_eq!(fs::read_link(root.join("home/u/service/ikweb")).unwrap(), Path::new("/home/u/.config/sv/ikweb"));
    assert!(root.join("home/u/.local/state/initkit/installed/ikweb.json").is_file());
    assert_eq!(
        paths(&root).into_iter().filter(|p| !p.starts_with("home")).collect::<Vec<_>>(),
        Vec::<String>::new(),
        "nothing outside the user's home"
    );
    let listed = ok(&run(&["list", "--installed", "--user"]));
    assert!(listed.starts_with("ikweb  (runit debian, 5 files, 1 links)  enabled"), "{listed}");
    let gone = ok(&run(&["uninstall", "ikweb", "--user"]));
    assert!(gone.contains("  removed  /home/u/.config/sv/ikweb/run\n"), "{gone}");
    assert_eq!(paths(&root), Vec::<String>::new(), "uninstall leaves the root as it found it");
}

#[test]
fn on_the_running_host_a_runit_user_install_without_a_runsvdir_of_ones_own_is_refused_before_writing() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let home = dir.path().join("home it's");
    fs::create_dir(&home).unwrap();
    fs::set_permissions(&home, fs::Permissions::from_mode(0o777)).unwrap();
    let path = recipe(dir.path(), APP);
    // As root, as nobody: root is refused earlier, and this is a user's refusal.
    let mut cmd = if fs::metadata("/proc/self").unwrap().uid() == 0 {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(env!("CARGO_BIN_EXE_initkit"));
        c
    } else {
        initkit()
    };
    let o = cmd
        .env("HOME", &home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_STATE_HOME")
        .env("XDG_RUNTIME_DIR", dir.path().join("run"))
        .args(["install", &path, "--target", "runit", "--user", "--enable"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "over {}/service, so nothing would start a service linked there; nothing was written\n",
            home.display()
        )),
        "{err}"
    );
    let q = format!("'{}/home it'\\''s/service'", dir.path().display());
    assert!(err.contains(&format!("`mkdir -p {q} && setsid runsvdir -P {q} </dev/null")), "quoted for sh: {err}");
    assert!(err.contains(&format!("`@reboot runsvdir -P {q}`")), "{err}");
    assert_eq!(paths(&home), Vec::<String>::new(), "nothing was written");
    assert!(!dir.path().join("run").exists(), "not even a lock");
}

/// Hostile text in HOME and XDG_RUNTIME_DIR (quotes, `$()`, backquotes,
/// spaces, newlines) lands in the runit scripts as data: the finish script
/// writes the exit file at that very path, and log/run hands svlogd that very
/// directory, byte for byte.
#[test]
fn hostile_user_directories_stay_data_in_the_runit_scripts() {
    use proptest::prelude::*;
    let pieces: Vec<&str> =
        common::PIECES.iter().copied().filter(|p| !p.contains(['/', '\0'])).chain(["\n", " ", "\t"]).collect();
    let name = prop::collection::vec(prop::sample::select(pieces), 1..6).prop_map(|v| v.concat());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(24));
    let scratch = tempfile::tempdir().unwrap();
    let me = text(&Command::new("id").arg("-un").output().unwrap().stdout).trim().to_owned();
    runner
        .run(&name, |piece| {
            let base = tempfile::tempdir_in(scratch.path()).unwrap();
            let home = format!("{}/h{piece}", base.path().display());
            let runtime = format!("{}/r{piece}", base.path().display());
            // The scripts run as the calling user, who must exist.
            let files = runit_user(&me, &home, &runtime);
            let dir = format!("{home}/.config/sv/ikweb");
            let bin = base.path().join("bin");
            fs::create_dir(&bin).unwrap();
            // A stand-in svlogd that records its arguments, NUL-separated.
            let args = base.path().join("svlogd.args");
            fs::write(bin.join("svlogd"), format!("#!/bin/sh\nprintf '%s\\0' \"$@\" >'{}'\n", args.display())).unwrap();
            Command::new("chmod").arg("+x").arg(bin.join("svlogd")).status().unwrap();
            let sh = |script: &str, arg: &str| {
                Command::new("sh")
                    .arg("-c")
                    .arg(script)
                    .arg("sh")
                    .arg(arg)
                    .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
                    .output()
                    .unwrap()
            };
            let o = sh(&files[&format!("{dir}/finish")], "3");
            prop_assert!(o.status.success(), "{}", text(&o.stderr));
            let exit = fs::read_to_string(format!("{runtime}/initkit/ikweb/ikweb.exit")).ok();
            prop_assert_eq!(exit.as_deref(), Some("3\n"), "{}{}", text(&o.stdout), text(&o.stderr));
            let o = sh(&files[&format!("{dir}/log/run")], "");
            prop_assert!(o.status.success(), "{}", text(&o.stderr));
            let logs = format!("{home}/.config/log/initkit/ikweb/ikweb");
            prop_assert_eq!(fs::read(&args).unwrap(), format!("-tt\0{logs}\0").into_bytes());
            prop_assert!(Path::new(&logs).is_dir());
            Ok(())
        })
        .unwrap();
}
