//! `initkit new --from`: a Procfile or a package.json becomes one recipe per
//! process type, run as the built binary and asserted on exit code, stdout,
//! stderr and the files written; hostile process names and commands come out
//! as data, in the recipe and in the rendered SysV script and systemd unit.

mod common;

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use common::{initkit, lex};
use initkit::{
    recipe::{Recipe, parse_recipe},
    render::{Options, Target, render},
};
use proptest::prelude::*;

/// The PATH the tests resolve programs on: no version manager's shims.
const PATH: &str = "/usr/bin:/bin";

fn new_from(dir: &Path, args: &[&str]) -> Output {
    initkit()
        .arg("new")
        .args(args)
        .current_dir(dir)
        .env("PATH", PATH)
        .env("XDG_CONFIG_HOME", "/nonexistent-initkit-test")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn script(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn read(path: &Path) -> Recipe {
    parse_recipe(path, &fs::read_to_string(path).unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

fn toml(path: &Path) -> toml_edit::DocumentMut {
    fs::read_to_string(path).unwrap().parse().unwrap()
}

/// The recipe's `run.command`, as written (templates).
fn command(path: &Path) -> Vec<String> {
    toml(path)["run"]["command"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// An app directory: a Procfile, a `#!/bin/sh` server script and a worker script.
fn app(procfile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("Procfile"), procfile).unwrap();
    script(&dir.path().join("server.sh"), "#!/bin/sh\nexec sleep 1000\n");
    script(&dir.path().join("work.sh"), "#!/bin/sh\nexec sleep 1000\n");
    dir
}

fn canonical(dir: &Path) -> String {
    fs::canonicalize(dir).unwrap().display().to_string()
}

#[test]
fn a_procfile_becomes_one_recipe_per_type_with_foremans_ports() {
    let dir = app("# the shop\nweb: ./server.sh --port $PORT\n\nworker: ./work.sh --queue=mail\nclock: date | cat\n");
    let d = dir.path();
    let app_dir = canonical(d);
    let o = new_from(d, &["shop", "--from", "Procfile", "--port", "8000", "--out", "recipes"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "wrote recipes/shop-web.toml\nwrote recipes/shop-worker.toml\nwrote recipes/shop-clock.toml\n"
    );
    let out = d.join("recipes");
    assert_eq!(files(&out), ["shop-clock.toml", "shop-web.toml", "shop-worker.toml"]);
    // Every written recipe is valid as `check` sees it.
    let check = initkit().arg("check").args(files(&out).iter().map(|f| out.join(f))).output().unwrap();
    assert!(check.status.success(), "{}", stderr(&check));

    let web = out.join("shop-web.toml");
    assert_eq!(command(&web), [format!("{app_dir}/server.sh"), "--port".into(), "{port}".into()]);
    let recipe = read(&web);
    assert_eq!(recipe.run.user, "shop");
    assert_eq!(toml(&web)["run"]["working_directory"].as_str(), Some(app_dir.as_str()));
    let doc = toml(&web);
    assert_eq!(doc["vars"]["port"].as_str(), Some("8000"));
    assert_eq!(doc["run"]["environment"]["PORT"].as_str(), Some("{port}"));
    assert_eq!(doc["ready"]["tcp"].as_str(), Some("127.0.0.1:{port}"), "web reads $PORT: a start waits for it");

    // foreman: the next process type's port is 100 more; it gets PORT, but a
    // start does not wait on a port its command does not read.
    let worker = out.join("shop-worker.toml");
    assert_eq!(command(&worker), [format!("{app_dir}/work.sh"), "--queue=mail".into()]);
    assert_eq!(toml(&worker)["vars"]["port"].as_str(), Some("8100"));
    assert!(toml(&worker).get("ready").is_none());

    // Shell syntax is never split into code: the line, whole, is sh's argument.
    let clock = out.join("shop-clock.toml");
    assert_eq!(command(&clock), ["/bin/sh", "-c", "date | cat"]);
    assert_eq!(toml(&clock)["vars"]["port"].as_str(), Some("8200"));

    let err = stderr(&o);
    for note in [
        format!("note: they run in {app_dir} (the directory of Procfile; --cwd to change it)\n"),
        "note: it runs as the user `shop`: `initkit install --create-user` makes it when it does not exist; --user names another (root only when it must)\n".to_owned(),
        "note: shop-web: PORT=8000 (foreman's port for it); a start waits until it listens there\n".to_owned(),
        "note: shop-worker: PORT=8100 (foreman's port for it)\n".to_owned(),
        format!("note: shop-worker: `./work.sh` is {app_dir}/work.sh (relative to the working directory)\n"),
        "note: shop-clock: its command is shell (shell syntax `|` in a command): it runs whole, as one argument, by /bin/sh -c, as foreman runs it; the shell finds its programs on the service's PATH when it starts, so none is resolved here; the shell stays the service's process\n".to_owned(),
    ] {
        assert!(err.contains(&note), "missing {note:?} in:\n{err}");
    }
}

#[test]
fn without_a_name_the_app_is_its_directory_and_foremans_base_port_is_5000() {
    let parent = tempfile::tempdir().unwrap();
    let d = parent.path().join("Billing_App");
    fs::create_dir(&d).unwrap();
    fs::write(d.join("Procfile"), "web: sleep $PORT\nworker: exec sleep 1000\n").unwrap();
    let o = new_from(parent.path(), &["--from", "Billing_App/Procfile", "--out", "Billing_App"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(files(&d), ["Procfile", "billing_app-web.toml", "billing_app-worker.toml"]);
    assert!(stderr(&o).contains(
        "note: the app is `billing_app`, its directory's name: each recipe is billing_app-TYPE (give NAME to change it)\n"
    ));
    let web = d.join("billing_app-web.toml");
    assert_eq!(command(&web), ["/usr/bin/sleep", "{port}"]);
    assert_eq!(toml(&web)["vars"]["port"].as_str(), Some("5000"));
    assert_eq!(read(&web).run.user, "billing_app");
    assert_eq!(toml(&web)["run"]["working_directory"].as_str(), Some(canonical(&d).as_str()));
    // A leading `exec` is the shell's: the program is what it runs.
    let worker = d.join("billing_app-worker.toml");
    assert_eq!(command(&worker), ["/usr/bin/sleep", "1000"]);
    assert_eq!(toml(&worker)["vars"]["port"].as_str(), Some("5100"));
}

#[test]
fn a_formation_runs_a_type_as_instances_named_by_their_ports_and_leaves_out_zero() {
    let dir = app("web: ./server.sh $PORT\nworker: ./work.sh\nrelease: ./migrate.sh\n");
    let d = dir.path();
    let o = new_from(d, &["shop", "--from", "Procfile", "-m", "all=0,web=3", "--out", "r"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(files(&d.join("r")), ["shop-web.toml"]);
    let web = d.join("r/shop-web.toml");
    let doc = toml(&web);
    assert_eq!(doc["instances"]["default"].as_str(), Some("5000"));
    assert_eq!(doc["vars"]["port"].as_str(), Some("{instance}"));
    let err = stderr(&o);
    assert!(err.contains("note: shop-web: it runs 3 times: each instance is its port, PORT=5000 to 5002; a start waits until it listens there: `initkit install shop-web@5000 shop-web@5001 shop-web@5002`\n"), "{err}");
    assert!(err.contains("note: Procfile:2: `worker` runs 0 times (--formation): no recipe for it\n"), "{err}");
    assert!(
        err.contains("note: Procfile:3: `release` is Heroku's release phase, run once per deploy: no recipe for it\n"),
        "{err}"
    );
    // The instance is the port, as the app sees it.
    let recipe = read(&web);
    let artifacts = render(&recipe, Target::Systemd, &Options { instance: Some("5001".into()), ..Options::default() });
    let unit = artifacts.unwrap().into_iter().find(|a| a.path.ends_with("shop-web@.service")).unwrap();
    assert!(unit.content.contains("Environment=\"port=%i\"\n"), "{}", unit.content);
    assert!(unit.content.contains("ExecStart=/usr/bin/env PORT=${port} "), "{}", unit.content);

    let o = new_from(d, &["shop", "--from", "Procfile", "-m", "web=2,wrker=1,web=x"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: --formation: no process type `wrker`; the file has `web`, `worker`, `release`\nerror: --formation: `web=x` is not TYPE=N (as in web=2,worker=1)\n"
    );
}

#[test]
fn every_problem_is_reported_at_once_with_its_line_and_nothing_is_written() {
    let dir = app(
        "web: ./server.sh\nthis is not a process\nworker: ./missing.sh\nWeb2: ./server.sh\nweb: ./work.sh\nshebang: ./nointerp.sh\n",
    );
    let d = dir.path();
    script(&d.join("nointerp.sh"), "#!/usr/bin/env no-such-interpreter\n");
    fs::create_dir(d.join("out")).unwrap();
    let o = new_from(d, &["shop", "--from", "Procfile", "--out", "out"]);
    assert_eq!(o.status.code(), Some(1));
    let app_dir = canonical(d);
    assert_eq!(
        stderr(&o),
        format!(
            "error: Procfile:2: not `type: command`
error: Procfile:5: the process type `web` is already on line 1
error: Procfile:3: `./missing.sh` is not a file in {app_dir}
error: Procfile:4: `shop-Web2` is not a recipe name: name the process type with lowercase letters, digits, `-` and `_`
error: Procfile:6: `{app_dir}/nointerp.sh` is a script whose `#!` line looks for `no-such-interpreter` on the service's PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin), where there is none: give the interpreter first (`-- /path/to/no-such-interpreter {app_dir}/nointerp.sh`)
nothing was written
"
        )
    );
    assert!(o.stdout.is_empty());
    assert!(files(&d.join("out")).is_empty(), "nothing was written");

    // An existing recipe is not replaced without --force, and that too is said before anything is written.
    fs::write(d.join("Procfile"), "web: ./server.sh\nworker: ./work.sh\n").unwrap();
    fs::write(d.join("out/shop-worker.toml"), "mine").unwrap();
    let o = new_from(d, &["shop", "--from", "Procfile", "--out", "out"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "error: out/shop-worker.toml exists (use --force to replace it)\nnothing was written\n");
    assert_eq!(files(&d.join("out")), ["shop-worker.toml"]);
    let o = new_from(d, &["shop", "--from", "Procfile", "--out", "out", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(files(&d.join("out")), ["shop-web.toml", "shop-worker.toml"]);

    // A file with no process type is not a Procfile.
    fs::write(d.join("Procfile"), "# nothing\n").unwrap();
    let o = new_from(d, &["shop", "--from", "Procfile"]);
    assert_eq!(stderr(&o), "error: Procfile:1: no process types: not a Procfile\nnothing was written\n");
}

#[test]
fn without_out_the_recipes_go_to_stdout_each_under_its_name() {
    let dir = app("web: ./server.sh\nworker: ./work.sh\n");
    let o = new_from(dir.path(), &["shop", "--from", "Procfile"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let web = text.find("# ==> shop-web.toml <==\n# Written by `initkit new`").unwrap();
    let worker = text.find("# ==> shop-worker.toml <==\n# Written by `initkit new`").unwrap();
    assert!(web < worker, "{text}");
}

/// A fake `node` on PATH, so the test needs no Node installation.
fn node_app(package: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("bin")).unwrap();
    fs::create_dir_all(d.join("node_modules/.bin")).unwrap();
    script(&d.join("bin/node"), "#!/bin/sh\nexit 0\n");
    script(&d.join("node_modules/.bin/serve"), "#!/bin/sh\nexit 0\n");
    fs::write(d.join("server.js"), "").unwrap();
    fs::write(d.join("jobs.js"), "").unwrap();
    fs::write(d.join("package.json"), package).unwrap();
    let path = format!("{}/bin:{PATH}", d.display());
    (dir, path)
}

#[test]
fn package_json_start_is_the_web_process_run_without_npm() {
    let (dir, path) = node_app(
        r#"{
  "name": "shop",
  "scripts": {
    "prestart": "npm run build",
    "start": "node server.js",
    "worker": "node jobs.js --queue=mail",
    "static": "serve -p $PORT",
    "both": "node jobs.js && node jobs.js",
    "test": "jest"
  }
}
"#,
    );
    let d = dir.path();
    let app_dir = canonical(d);
    let o = initkit()
        .args(["new", "shop", "--from", "package.json", "--script", "worker", "--script", "static", "--script", "both"])
        .args(["--out", "r"])
        .current_dir(d)
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let r = d.join("r");
    assert_eq!(files(&r), ["shop-both.toml", "shop-static.toml", "shop-web.toml", "shop-worker.toml"]);
    // `node server.js` runs node itself: the service's process is the app, not npm.
    assert_eq!(command(&r.join("shop-web.toml")), [format!("{app_dir}/bin/node"), format!("{app_dir}/server.js")]);
    assert_eq!(
        command(&r.join("shop-worker.toml")),
        [format!("{app_dir}/bin/node"), format!("{app_dir}/jobs.js"), "--queue=mail".into()]
    );
    // npm finds the package's own programs in node_modules/.bin first.
    assert_eq!(
        command(&r.join("shop-static.toml")),
        [format!("{app_dir}/node_modules/.bin/serve"), "-p".into(), "{port}".into()]
    );
    assert_eq!(toml(&r.join("shop-static.toml"))["vars"]["port"].as_str(), Some("5200"));
    // A compound script runs by sh, with node_modules/.bin on its PATH as npm puts it.
    let both = r.join("shop-both.toml");
    assert_eq!(command(&both), ["/bin/sh", "-c", "node jobs.js && node jobs.js"]);
    assert_eq!(
        toml(&both)["run"]["environment"]["PATH"].as_str(),
        Some(
            format!("{app_dir}/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
                .as_str()
        )
    );
    let err = stderr(&o);
    assert!(err.contains("note: the scripts run as `npm start` runs them, without npm: a plain command is the service's process (`node server.js` is node with the app's script), its program found in node_modules/.bin first; npm's `npm_package_*` settings are not given\n"), "{err}");
    assert!(err.contains("note: package.json:4: `prestart` (npm run build) is not run: the service runs the `start` script's command alone; run it before installing\n"), "{err}");

    // --script is package.json's; a script that is not there is a problem with the file's name.
    let o = initkit()
        .args(["new", "shop", "--from", "package.json", "--script", "nope"])
        .current_dir(d)
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(
        stderr(&o),
        "error: package.json:1: --script nope: package.json has no `scripts.nope`\nnothing was written\n"
    );
}

#[test]
fn package_json_without_a_start_script_runs_server_js_as_npm_does() {
    let (dir, path) = node_app("{\"name\": \"shop\"}\n");
    let o = initkit()
        .args(["new", "shop", "--from", "package.json"])
        .current_dir(dir.path())
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(&format!("command = [\"{0}/bin/node\", \"{0}/server.js\"]", canonical(dir.path()))));
    assert!(stderr(&o).contains(
        "note: package.json has no `scripts.start`: the web process runs `node server.js`, as `npm start` does\n"
    ));
}

// --- hostile text -----------------------------------------------------------

/// Pieces of hostile text (those of tests/hostile_text.rs, with what a
/// Procfile gives a meaning) that no Procfile line ends with.
fn pieces() -> Vec<&'static str> {
    common::PIECES.iter().copied().chain(["$PORT", "${PORT}", "{port}", "\t"]).collect()
}

fn hostile(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(pieces()), 0..max).prop_map(|v| v.concat())
}

/// Hostile text for a name: a `:` would end the name and begin the command.
fn name_text(max: usize) -> impl Strategy<Value = String> {
    let pieces: Vec<&str> = pieces().into_iter().filter(|p| !p.contains(':')).collect();
    prop::collection::vec(prop::sample::select(pieces), 0..max).prop_map(|v| v.concat())
}

/// A process name: now and then a plain one, else hostile text.
fn kind() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&["web", "worker", "a_1", "x-y"][..]).prop_map(str::to_owned),
        1 => name_text(4),
        1 => (name_text(3), prop::sample::select(&["\n", "\r", "\n\n"][..]), name_text(3)).prop_map(|(a, b, c)| a + b + &c),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    kind: String,
    args: Vec<String>,
    /// The arguments written raw (as shell text) rather than quoted for sh.
    raw: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (kind(), prop::collection::vec(hostile(6), 0..4), any::<bool>()).prop_map(|(kind, args, raw)| Case {
        kind,
        args,
        raw,
    })
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A recipe template's literal text (`{{` is `{`), with `{port}` as `port`.
fn untemplate(t: &str, port: &str) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("{{").or_else(|| rest.strip_prefix("}}")) {
            out.push(c);
            rest = after;
        } else if let Some(after) = rest.strip_prefix("{port}") {
            out.push_str(port);
            rest = after;
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// What a POSIX sh makes of `line` as the words after a program: run for
/// real, only for a line initkit took as plain words (no code in it).
fn sh_words(rest: &str, port: &str) -> Vec<String> {
    let o = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("for a in {rest}; do printf '%s\\0' \"$a\"; done"))
        .env("PORT", port)
        .output()
        .unwrap();
    let mut words: Vec<String> = String::from_utf8_lossy(&o.stdout).split('\0').map(str::to_owned).collect();
    words.pop();
    words
}

/// The words of the rendered SysV script and of the systemd unit's Exec lines, decoded.
fn rendered_words(recipe: &Recipe) -> (Vec<String>, Vec<String>) {
    let options = Options::default();
    let mut sh = Vec::new();
    for a in render(recipe, Target::Sysv, &options).unwrap() {
        if a.content.starts_with("#!/bin/sh") {
            let tokens = lex::sh(&a.content).unwrap_or_else(|e| panic!("the script does not lex: {e}"));
            sh.extend(tokens.iter().filter_map(|t| match t {
                lex::Tok::Word(w) => Some(lex::sh_unquote(w)),
                _ => None,
            }));
        }
    }
    let mut unit = Vec::new();
    for a in render(recipe, Target::Systemd, &options).unwrap() {
        if a.path.ends_with(".service") {
            for line in lex::unit(&a.content).unwrap_or_else(|e| panic!("the unit does not read: {e}")) {
                if let lex::UnitLine::Entry(k, v) = line
                    && k.starts_with("Exec")
                {
                    unit.extend(lex::systemd_words(&v).unwrap().iter().map(|w| lex::systemd_specifiers(w, true)));
                }
            }
        }
    }
    (sh, unit)
}

/// Checks one case; `Ok(true)` when it was written, `Ok(false)` when it was refused as it must be.
fn check_case(case: &Case) -> Result<bool, TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rest: Vec<String> = case.args.iter().map(|a| if case.raw { a.clone() } else { sh_quote(a) }).collect();
    let line = format!("/usr/bin/printf %s {}", rest.join(" ")).trim_end().to_owned();
    fs::write(d.join("Procfile"), format!("{}: {line}\n", case.kind)).unwrap();
    let o = new_from(d, &["app", "--from", "Procfile", "--out", "r"]);
    let written: Vec<PathBuf> =
        if d.join("r").is_dir() { files(&d.join("r")).iter().map(|f| d.join("r").join(f)).collect() } else { vec![] };
    // A process name that is no recipe name (or a line broken in two) is refused, with its line.
    // (A Procfile line is read trimmed: blanks and blank lines before the name are nothing.)
    let name = case.kind.trim_start();
    let name_ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
    if !o.status.success() {
        let err = stderr(&o);
        prop_assert!(!name_ok, "a plain name was refused: {err}");
        prop_assert!(written.is_empty(), "refused, yet {written:?} was written");
        prop_assert!(err.ends_with("nothing was written\n"), "{err}");
        for l in err.lines().filter(|l| *l != "nothing was written") {
            prop_assert!(l.starts_with("error: Procfile:"), "not a located problem: {l:?} in {err}");
        }
        return Ok(false);
    }
    prop_assert!(name_ok, "`{}` was taken as a process name", case.kind);
    prop_assert_eq!(written.len(), 1);
    let check = initkit().arg("check").arg(&written[0]).output().unwrap();
    prop_assert!(check.status.success(), "{}", stderr(&check));
    let cmd = command(&written[0]);
    let port = "5000";
    let literal: Vec<String> = cmd.iter().map(|t| untemplate(t, port)).collect();
    if cmd[0] == "/bin/sh" {
        // Shell: the line whole, one argument, for sh to run as foreman does.
        prop_assert_eq!(&cmd[1], "-c");
        prop_assert!(
            literal[2] == line || literal[2] == format!("exec {line}"),
            "{:?} is not the line {line:?}",
            literal[2]
        );
        let special = line.contains(['*', '?', '[', '~', '#']);
        prop_assert!(case.raw || special, "a quoted line with nothing for sh went to sh: {line:?}");
    } else {
        // Words: exactly what sh makes of them.
        prop_assert_eq!(&literal[..2], &["/usr/bin/printf".to_owned(), "%s".to_owned()]);
        prop_assert_eq!(&literal[2..], &sh_words(&rest.join(" "), port)[..], "the words differ from sh's");
        if !case.raw {
            prop_assert_eq!(&literal[2..], &case.args[..]);
        }
    }
    // The rendered script and unit hold every argument as one word of their own language.
    let recipe = read(&written[0]);
    let (sh, unit) = rendered_words(&recipe);
    for (t, arg) in cmd.iter().zip(&literal) {
        if t.contains("{port}") {
            continue;
        }
        prop_assert!(sh.contains(arg), "the SysV script has no word {arg:?}");
        prop_assert!(unit.contains(arg), "the systemd unit has no word {arg:?}");
    }
    Ok(true)
}

#[test]
fn hostile_process_names_and_commands_stay_data() {
    let cases = std::env::var("INITKIT_HOSTILE_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(96);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let (written, shell) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    let result = runner.run(&case(), |c| {
        if check_case(&c)? {
            written.set(written.get() + 1);
            shell.set(shell.get() + u32::from(c.raw));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!(
        "hostile Procfiles: {} of {cases} written and read back, {} of them raw shell text",
        written.get(),
        shell.get()
    );
    // Most cases must be written, or the property says little about the escaping.
    assert!(written.get() * 2 > cases, "only {} of {cases} cases were written", written.get());
}

#[test]
fn a_fixed_hostile_command_stays_data() {
    let nasty = "it's \"$(touch /tmp/ik-pwned)\" `id` ${HOME} %i %% \\ ; # [Service] ExecStartPre=/bin/true ]]> ü";
    for raw in [false, true] {
        let case = Case { kind: "web".into(), args: vec![nasty.into(), "$PORT".into(), "{port}".into()], raw };
        assert!(check_case(&case).unwrap(), "{case:?}");
    }
    assert!(!Path::new("/tmp/ik-pwned").exists() || fs::metadata("/tmp/ik-pwned").is_ok_and(|m| m.len() == 0));
}
