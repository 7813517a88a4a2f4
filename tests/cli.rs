//! The command line, asserted on exit code, stdout and stderr.

mod common;

use std::{fs, process::Output};

use common::initkit;

fn run(args: &[&str]) -> Output {
    initkit().args(args).env("XDG_CONFIG_HOME", "/nonexistent-initkit-test").output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn list_names_every_catalogue_recipe() {
    let o = run(&["list", "--json"]);
    assert!(o.status.success());
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    let embedded: Vec<&str> = initkit::catalogue::EMBEDDED.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, embedded);
    assert!(names.contains(&"redis") && names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    let text = stdout(&run(&["list"]));
    assert!(text.contains("redis@…") && text.contains("Redis, an in-memory data store"), "{text}");
}

#[test]
fn render_prints_one_unit_to_stdout() {
    let o = run(&["render", "redis@cache", "--target", "systemd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("# ==> /etc/systemd/system/redis@.service <=="), "{text}");
    assert!(text.contains("# ==> /etc/default/redis.d/cache <=="), "{text}");
    assert!(text.contains("#port=6379"), "{text}");
    let o = run(&["render", "nginx", "--target", "systemd"]);
    assert!(stdout(&o).starts_with("# Rendered by initkit"), "one artifact has no header");
}

#[test]
fn render_writes_under_out_with_modes() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let o =
        run(&["render", "memcached", "--target", "sysv", "--flavor", "rhel", "--out", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let script = dir.path().join("etc/init.d/memcached");
    assert_eq!(fs::metadata(&script).unwrap().permissions().mode() & 0o777, 0o755);
    assert!(fs::read_to_string(&script).unwrap().contains("# chkconfig: 2345 80 20"));
    assert!(dir.path().join("etc/logrotate.d/initkit-memcached").exists());
}

#[test]
fn unknown_recipe_is_a_clear_error() {
    let o = run(&["render", "rediss", "--target", "sysv"]);
    assert_eq!(o.status.code(), Some(1));
    let names: Vec<&str> = initkit::catalogue::EMBEDDED.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        stderr(&o),
        format!(
            "error: no recipe named `rediss`\n  = help: did you mean `redis`?\n  = help: the catalogue has: {}; or give a path to a .toml file\n",
            names.join(", ")
        )
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn unknown_target_is_refused_by_the_parser() {
    let o = run(&["render", "redis", "--target", "upstartx"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("invalid value 'upstartx' for '--target <TARGET>'"), "{}", stderr(&o));
}

#[test]
fn unsafe_instance_names_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["a/b", "..", "-x", "a\nb", "a b", "it's", "$(id)", "a:b", ""] {
        let o = run(&["render", &format!("redis@{bad}"), "--target", "sysv", "--out", dir.path().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{bad:?}");
        let want = if bad.is_empty() { "an empty name".to_owned() } else { format!("{bad:?}") };
        assert_eq!(
            stderr(&o),
            format!(
                "error: {want} is not an instance name: use letters, digits, `_`, `.` and `-`, starting with a letter, digit or `_` (at most 64)\n"
            )
        );
    }
    let o = run(&["render", "nginx@x", "--target", "sysv", "--out", dir.path().to_str().unwrap()]);
    assert_eq!(stderr(&o), "error: recipe `nginx` has no [instances], so `nginx@x` does not exist\n");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "something was written");
}

#[test]
fn a_malformed_recipe_reports_every_problem_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    fs::write(
        &path,
        "name = \"Bad Name\"\nsummary = \"x\"\n[run]\ncommand = [\"redis-server\", \"{prot}\"]\nuser = 7\ncolour = \"blue\"\n[stop]\ntimeout = \"10\"\n",
    )
    .unwrap();
    let o = run(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let p = path.display();
    let want = format!(
        "error: {p}:1:8: name: `Bad Name` is not a recipe name: use lowercase letters, digits, `-` and `_`
  |
1 | name = \"Bad Name\"
  |        ^^^^^^^^^^

error: {p}:4:12: run.command[0]: the program must be an absolute path without variables
  |
4 | command = [\"redis-server\", \"{{prot}}\"]
  |            ^^^^^^^^^^^^^^
  = help: init systems do not search PATH the same way; write for example \"/usr/bin/redis-server\"

error: {p}:4:28: run.command[1]: unknown variable `{{prot}}`: declare it under [vars], or use one of {{name}}, {{instance}}, {{instance_path}}, {{runtime_dir}}, {{state_dir}}, {{logs_dir}}
  |
4 | command = [\"redis-server\", \"{{prot}}\"]
  |                            ^^^^^^^^

error: {p}:5:8: run.user: expected a string, found an integer
  |
5 | user = 7
  |        ^

error: {p}:6:1: run.colour: unknown field `colour`
  |
6 | colour = \"blue\"
  | ^^^^^^
  = help: expected one of: command, type, pidfile, remain, executable, user, group, working_directory, environment, environment_file, umask, limits, success_codes, nice, oom_score_adjust, io_class, io_priority

error: {p}:8:11: stop.timeout: `10` is not a duration: write a number with a unit, such as `500ms`, `10s`, `5m` or `1h`
  |
8 | timeout = \"10\"
  |           ^^^^
6 problem(s) in 1 file(s)
"
    );
    assert_eq!(stderr(&o), want);
}

#[test]
fn a_trial_start_takes_no_command_user_or_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trial.toml");
    let head = "name = \"t\"\nsummary = \"x\"\n[run]\ncommand = [\"/bin/sleep\", \"60\"]\nuser = \"nobody\"\n";
    fs::write(&path, format!("{head}[check]\ntrial = true\ncommand = [\"/bin/true\"]\ntimeout = \"5s\"\n")).unwrap();
    let o = run(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains(":8:1: check.command: `command` does not go with `trial`"), "{err}");
    assert!(err.contains(":9:1: check.timeout: `timeout` does not go with `trial`"), "{err}");
    assert!(err.contains("2 problem(s) in 1 file(s)"), "{err}");

    fs::write(&path, format!("{head}[check]\ntrial = false\n")).unwrap();
    let err = stderr(&run(&["check", path.to_str().unwrap()]));
    assert!(err.contains("check.trial: `trial = false` says nothing"), "{err}");

    fs::write(&path, format!("{head}[check]\ntrial = true\n")).unwrap();
    let o = run(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The script's gate is the trial; a plain start does not run one first.
    let o = run(&["render", path.to_str().unwrap(), "--target", "sysv"]);
    let script = String::from_utf8_lossy(&o.stdout);
    assert!(script.contains("GATE=trial") && script.contains("    ik_trial\n"), "{script}");
    // systemd: no ExecStartPre (the front-end runs the trial before a restart).
    let o = run(&["render", path.to_str().unwrap(), "--target", "systemd"]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("ExecStartPre="));
}

#[test]
fn a_toml_syntax_error_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("syntax.toml");
    fs::write(&path, "name = \"x\"\nsummary = \n").unwrap();
    let o = run(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with(&format!("error: {}:2:11: ", path.display())), "{}", stderr(&o));
}

#[test]
fn every_catalogue_recipe_checks_clean() {
    let paths: Vec<String> = fs::read_dir("recipes")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    let mut args = vec!["check"];
    args.extend(paths.iter().map(String::as_str));
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), initkit::catalogue::EMBEDDED.len());
    assert!(paths.len() >= 40, "the catalogue has {} recipes", paths.len());
}

#[test]
fn new_writes_a_recipe_that_validates_and_renders() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("myapp.toml");
    let p = path.to_str().unwrap();
    let o = run(&[
        "new",
        "myapp",
        "--user",
        "nobody",
        "--port",
        "8080",
        "--config-test",
        "/usr/bin/myapp --check 'a b'",
        "--reload-signal",
        "hup",
        "--env",
        "MODE=prod {x}",
        "--out",
        p,
        "--",
        "/usr/bin/myapp",
        "--listen",
        "{port}",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("command = [\"/usr/bin/myapp\", \"--check\", \"a b\"]"), "{text}");
    assert!(text.contains("\"{{port}}\""), "a literal brace must be escaped: {text}");
    let check = run(&["check", p]);
    assert!(check.status.success(), "{}", stderr(&check));
    let unit = run(&["render", p, "--target", "systemd"]);
    assert!(stdout(&unit).contains("ExecReload=/bin/kill -s HUP $MAINPID"), "{}", stdout(&unit));
    // A second write refuses without --force.
    let again = run(&["new", "myapp", "--out", p, "--", "/bin/true"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("exists; nothing was written (use --force to replace it)"));
}

/// `new` for an app: an interpreter's relative script is made absolute and
/// the app runs in its directory; a version-manager shim is replaced by the
/// program the manager selects; `--port` reaches the app as PORT; the
/// default user is one named after the app, not root; each step is a note.
#[test]
fn new_resolves_an_apps_script_shim_and_directory_and_says_so() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    fs::create_dir_all(h.join(".pyenv/shims")).unwrap();
    fs::create_dir_all(h.join(".pyenv/bin")).unwrap();
    fs::create_dir_all(h.join("app")).unwrap();
    let exe = |p: &std::path::Path, text: &str| {
        use std::os::unix::fs::PermissionsExt;
        fs::write(p, text).unwrap();
        fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
    };
    exe(&h.join(".pyenv/shims/python3"), "#!/bin/sh\nexit 1\n");
    // The fake manager selects /bin/sh for `python3` in the app's directory only.
    exe(
        &h.join(".pyenv/bin/pyenv"),
        "#!/bin/sh\n[ \"$1 $2\" = 'which python3' ] && [ -f .python-version ] && echo /bin/sh\n",
    );
    fs::write(h.join("app/.python-version"), "3.11\n").unwrap();
    exe(&h.join("app/app.py"), "#!/usr/bin/env sh\necho hi\n");
    let path = format!("{}:/usr/bin:/bin", h.join(".pyenv/shims").display());
    let o = initkit()
        .args(["new", "pyapp", "--port", "8085", "--env", "MODE=prod", "--", "python3", "app.py"])
        .current_dir(h.join("app"))
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let app = h.join("app");
    let recipe = initkit::recipe::parse_recipe(std::path::Path::new("pyapp.toml"), &text).unwrap();
    let command: Vec<String> = recipe.run.command.iter().map(ToString::to_string).collect();
    assert_eq!(command, ["/bin/sh".to_owned(), app.join("app.py").display().to_string()]);
    assert_eq!(recipe.run.user, "pyapp");
    assert_eq!(recipe.run.working_directory.as_ref().map(ToString::to_string), Some(app.display().to_string()));
    assert!(text.contains(r#"environment = { MODE = "prod", PORT = "{port}" }"#), "{text}");
    let notes = stderr(&o);
    assert!(notes.contains("is a pyenv shim: the service runs `/bin/sh`"), "{notes}");
    assert!(notes.contains(&format!("it runs in {} (the current directory", app.display())), "{notes}");
    assert!(notes.contains("it runs as the user `pyapp`"), "{notes}");
    // The shim's manager naming nothing is an error, not a recipe with the shim in it.
    let o =
        initkit().args(["new", "pyapp", "--", "python3", "app.py"]).current_dir(h).env("PATH", &path).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("did not name a program"), "{}", stderr(&o));
    // A script named directly keeps its `#!`; the note names the interpreter the service's PATH finds.
    let o = initkit()
        .args([
            "new",
            "shapp",
            "--user",
            "nobody",
            "--cwd",
            app.to_str().unwrap(),
            "--env-file",
            "env",
            "--",
            "./app.py",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains(&format!("command = [\"{}\"]", app.join("app.py").display())), "{text}");
    assert!(text.contains(&format!("environment_file = \"{}\"", app.join("env").display())), "{text}");
    assert!(
        stderr(&o).contains("its `#!` line runs it with /usr/bin/sh")
            || stderr(&o).contains("its `#!` line runs it with /bin/sh"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("does not exist yet"), "{}", stderr(&o));
}

#[test]
fn show_says_where_a_recipe_came_from_and_overrides_win() {
    let o = run(&["show", "redis"]);
    assert!(stdout(&o).starts_with("# recipe redis: from embedded in initkit\n"), "{}", stdout(&o));
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("initkit/recipes");
    fs::create_dir_all(&dir).unwrap();
    let text = initkit::catalogue::EMBEDDED
        .iter()
        .find(|(n, _)| *n == "redis")
        .unwrap()
        .1
        .replace("Redis, an in-memory", "My redis, an in-memory");
    fs::write(dir.join("redis.toml"), text).unwrap();
    let o = initkit().args(["show", "redis", "--json"]).env("XDG_CONFIG_HOME", home.path()).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["source"], dir.join("redis.toml").display().to_string());
    assert_eq!(v["overrides"][0], "embedded in initkit");
    assert_eq!(v["summary"], "My redis, an in-memory data store");
}

#[test]
fn detect_names_an_init_system_with_evidence() {
    let o = run(&["detect", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        ["systemd", "sysv", "openrc", "runit", "s6", "upstart", "launchd", "unknown"]
            .contains(&v["init"].as_str().unwrap())
    );
    assert!(!v["evidence"].as_array().unwrap().is_empty());
}
