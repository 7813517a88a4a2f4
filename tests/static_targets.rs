//! Upstart and launchd cannot run on these machines: their artifacts are
//! validated statically. Upstart jobs parse back with our own parser into the
//! recipe's settings; plists load with Python's plistlib and pass our key checks.

mod common;

use std::{fs, process::Command};

use initkit::{
    import::upstart::{Step, parse},
    render::{Target, launchd, render, upstart},
};

#[test]
fn every_upstart_job_parses_back_into_the_recipes_settings() {
    for recipe in common::catalogue() {
        let artifacts = render(&recipe, Target::Upstart, &common::options_for(&recipe)).unwrap();
        let job_text = &artifacts.iter().find(|a| a.path == format!("/etc/init/{}.conf", recipe.name)).unwrap().content;
        let (job, unknown) = parse(job_text);
        assert!(unknown.is_empty(), "{}: stanzas the parser does not know: {unknown:?}", recipe.name);
        assert_eq!(job.description.as_deref(), Some(recipe.summary.as_str()));
        assert_eq!(job.kill_signal.as_deref(), Some(recipe.stop.signal.name()), "{}", recipe.name);
        assert_eq!(job.kill_timeout, Some(recipe.stop.timeout_ms.div_ceil(1000)), "{}", recipe.name);
        assert!(job.respawn && job.respawn_limit == Some((10, 5)), "{}", recipe.name);
        assert_eq!(job.console.as_deref(), Some("log"));
        assert_eq!(job.stop_on.as_deref(), Some("runlevel [!2345]"));
        let helper = upstart::helper_path(&recipe, &common::options_for(&recipe));
        let arg = if recipe.instances.is_some() { " \"$INSTANCE\"" } else { "" };
        assert_eq!(job.main, Some(Step::Exec(format!("{helper} run{arg}"))), "{}", recipe.name);
        // A trial start would only repeat the job's own start: no pre-start for one.
        let command = recipe.check.as_ref().and_then(|c| c.command()).is_some();
        assert_eq!(job.pre_start.is_some(), command, "{}: pre-start iff a config-test command", recipe.name);
        assert_eq!(job.pre_stop.is_some(), !recipe.stop.before.is_empty(), "{}: pre-stop iff hooks", recipe.name);
        assert_eq!(job.post_start.is_some(), recipe.ready.is_some(), "{}: post-start iff readiness", recipe.name);
        if recipe.instances.is_some() {
            assert_eq!(job.instance.as_deref(), Some("$INSTANCE"));
            assert_eq!(job.start_on, None, "{}: instances start through the -instances job", recipe.name);
            let all = &artifacts.iter().find(|a| a.path.ends_with("-instances.conf")).unwrap().content;
            let (all, unknown) = parse(all);
            assert!(unknown.is_empty() && all.task && all.start_on.as_deref() == Some("runlevel [2345]"));
            let Some(Step::Script(body)) = all.main else { panic!("{}: no script in the -instances job", recipe.name) };
            assert!(body.contains(&format!("start {} INSTANCE=\"${{f##*/}}\"", recipe.name)), "{body}");
        } else {
            assert_eq!(job.instance, None);
            assert_eq!(job.start_on.as_deref(), Some("runlevel [2345]"));
        }
    }
}

#[test]
fn the_upstart_parser_reports_what_it_does_not_know() {
    let (job, unknown) = parse(
        "description \"x \\\"y\\\"\"\nexpect fork\nkill timeout 5\npre-start script\n  echo hi\nend script\nexec /bin/x\n",
    );
    assert_eq!(job.description.as_deref(), Some("x \"y\""));
    assert_eq!(job.kill_timeout, Some(5));
    assert_eq!(job.pre_start, Some(Step::Script("  echo hi".into())));
    assert_eq!(job.main, Some(Step::Exec("/bin/x".into())));
    assert_eq!(unknown.len(), 1);
    assert_eq!((unknown[0].line, unknown[0].text.as_str()), (2, "expect fork"));
}

/// The keys launchd reads that initkit may write.
const KEYS: [&str; 13] = [
    "Label",
    "ProgramArguments",
    "UserName",
    "GroupName",
    "WorkingDirectory",
    "EnvironmentVariables",
    "Umask",
    "SoftResourceLimits",
    "HardResourceLimits",
    "StandardOutPath",
    "StandardErrorPath",
    "RunAtLoad",
    "KeepAlive",
];

#[test]
fn every_plist_loads_with_plistlib_and_passes_our_key_checks() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for recipe in common::catalogue() {
        let options = common::options_for(&recipe);
        let artifact = &render(&recipe, Target::Launchd, &options).unwrap()[0];
        let instance = options.instance.clone();
        let label = launchd::label(&recipe.name, instance.as_deref());
        assert_eq!(artifact.path, format!("/Library/LaunchDaemons/{label}.plist"));
        let value = plist::Value::from_reader_xml(artifact.content.as_bytes()).unwrap();
        let dict = value.as_dictionary().unwrap();
        for key in dict.keys() {
            assert!(KEYS.contains(&key.as_str()) || key == "ExitTimeOut", "{}: unexpected key {key}", recipe.name);
        }
        assert_eq!(dict["Label"].as_string(), Some(label.as_str()));
        let args: Vec<&str> =
            dict["ProgramArguments"].as_array().unwrap().iter().map(|v| v.as_string().unwrap()).collect();
        assert_eq!(args[0], recipe.run.command[0].as_literal().unwrap(), "{}", recipe.name);
        assert_eq!(args.len(), recipe.run.command.len());
        // launchd substitutes nothing: every variable must already be resolved.
        assert!(args.iter().all(|a| !a.contains("{instance}") && !a.contains("{port}")), "{args:?}");
        assert_eq!(
            dict.get("UserName").and_then(plist::Value::as_string),
            (recipe.run.user != "root").then_some(recipe.run.user.as_str())
        );
        assert_eq!(dict["ExitTimeOut"].as_unsigned_integer(), Some(recipe.stop.timeout_ms.div_ceil(1000)));
        let path = dir.path().join(format!("{label}.plist"));
        fs::write(&path, &artifact.content).unwrap();
        files.push(path);
    }
    if !common::require_tool("python3", "loading the plists with plistlib") {
        return;
    }
    let script = "import plistlib, sys\nfor p in sys.argv[1:]:\n    d = plistlib.load(open(p, 'rb'))\n    assert isinstance(d['ProgramArguments'], list) and d['RunAtLoad'] is True, p\nprint(len(sys.argv) - 1)\n";
    let out = Command::new("python3").arg("-c").arg(script).args(&files).output().unwrap();
    assert!(out.status.success(), "plistlib: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), files.len().to_string(), "every plist was loaded");
}
