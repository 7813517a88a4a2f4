//! Every `--json` output parses, has the documented keys, and is the example
//! docs/json.md shows: the examples are produced here (INITKIT_WRITE_DOCS=1
//! writes them), so the document cannot drift from the code.

mod common;

use std::{collections::BTreeSet, fs, path::Path, process::Output};

use common::initkit;
use initkit::{
    cli::{Row, TestReport},
    host::action::{State, Status},
};
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    initkit().args(args).env("XDG_CONFIG_HOME", "/nonexistent-initkit-test").output().unwrap()
}

/// The keys of every object in `v` (an object, or an array of them).
fn keys(v: &Value) -> BTreeSet<String> {
    match v {
        Value::Array(items) => items.iter().flat_map(keys).collect(),
        Value::Object(map) => map.keys().cloned().collect(),
        _ => BTreeSet::new(),
    }
}

fn assert_keys(what: &str, v: &Value, want: &[&str]) {
    assert_eq!(keys(v), want.iter().map(|k| (*k).to_owned()).collect(), "{what}: the keys docs/json.md documents");
}

/// Parses a command's stdout, which must be JSON.
fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}

/// A scratch root with systemd running, two redis instances installed.
fn image() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for d in ["etc/systemd/system", "run/systemd/system", "var/lib"] {
        fs::create_dir_all(root.path().join(d)).unwrap();
    }
    fs::write(root.path().join("etc/os-release"), "ID=debian\n").unwrap();
    let r = root.path().to_str().unwrap();
    let o = run(&["install", "redis@a", "redis@b", "--root", r, "--set", "a:port=7001", "--set", "b:port=7002"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(run(&["enable", "redis@a", "--root", r]).status.success());
    root
}

/// Every example, by the name its block has in docs/json.md.
fn examples() -> Vec<(&'static str, String)> {
    let root = image();
    let r = root.path().to_str().unwrap();
    // The scratch root's path is shown as an image's would be.
    let shown = |o: &Output| String::from_utf8_lossy(&o.stdout).replace(r, "/srv/image");
    let mut out = Vec::new();

    let o = run(&["list", "--json"]);
    let v = json(&o);
    assert_keys("list", &v, &["gate", "instances", "name", "ran_on", "source", "summary"]);
    let first: Vec<Value> = v.as_array().unwrap().iter().take(2).cloned().collect();
    out.push(("list", serde_json::to_string_pretty(&first).unwrap() + "\n"));

    let o = run(&["list", "--installed", "--json", "--root", r]);
    let v = json(&o);
    assert_keys("list --installed", &v, &["enabled", "files", "flavor", "instances", "links", "name", "target"]);
    assert_eq!(v[0]["enabled"], serde_json::json!(["a"]));
    out.push(("list --installed", shown(&o)));

    let o = run(&["show", "memcached", "--json"]);
    let v = json(&o);
    assert_keys(
        "show",
        &v,
        &["instance", "instances", "name", "overrides", "source", "summary", "text", "values", "vars"],
    );
    let mut short = v.clone();
    short["text"] = Value::String("name = \"memcached\"\n…the recipe file's text…".to_owned());
    out.push(("show", serde_json::to_string_pretty(&short).unwrap() + "\n"));

    let o = run(&["detect", "--json", "--root", r]);
    let v = json(&o);
    assert_keys("detect", &v, &["evidence", "family", "init"]);
    assert_keys("detect evidence", &v["evidence"], &["fact", "points_to"]);
    out.push(("detect", shown(&o)));

    let bad = root.path().join("app.toml");
    fs::write(&bad, "name = \"app\"\nsummary = 3\n").unwrap();
    let o = run(&["check", "--json", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "a recipe with problems fails the check");
    let v = json(&o);
    assert_keys("check", &v, &["file", "problems", "recipe"]);
    assert_keys("check problems", &v[0]["problems"], &["column", "field", "help", "line", "message"]);
    assert_eq!(v[0]["problems"].as_array().unwrap().len(), 2, "every problem at once");
    out.push(("check", shown(&o)));

    let unit = root.path().join("queue.service");
    fs::write(
        &unit,
        "[Unit]\nDescription=The job queue\n[Service]\nUser=queue\nExecStart=/usr/bin/queued --port 7070\nPAMName=login\n",
    )
    .unwrap();
    let o = run(&["import", "--json", unit.to_str().unwrap(), root.path().join("nothing.txt").to_str().unwrap()]);
    let v = json(&o);
    assert_keys("import", &v, &["imports", "problems"]);
    assert_keys(
        "import imports",
        &v["imports"],
        &["approximated", "carried", "catalogue", "dropped", "format", "name", "recipe", "report", "source"],
    );
    assert_keys("import report", &v["imports"][0]["report"], &["file", "line", "outcome", "setting", "why"]);
    assert_keys("import problems", &v["problems"], &["file", "line", "message"]);
    out.push(("import", shown(&o)));

    // status and configtest ask the running init system: their rows are
    // built here with the types the commands print (the e2e suites parse the
    // real output against the same keys).
    let rows = vec![
        Row {
            service: "redis@a".to_owned(),
            target: "systemd",
            enabled: true,
            status: Status::new(Some("a"), "redis@a.service".to_owned(), State::Running, Some(4242), Some(3600)),
        },
        Row {
            service: "redis@b".to_owned(),
            target: "systemd",
            enabled: false,
            status: Status::new(Some("b"), "redis@b.service".to_owned(), State::Stopped, None, None)
                .with_last_exit(Some("signal KILL".to_owned())),
        },
    ];
    let v = serde_json::to_value(&rows).unwrap();
    assert_keys(
        "status",
        &v,
        &["code", "enabled", "instance", "last_exit", "pid", "service", "state", "target", "unit", "uptime_seconds"],
    );
    out.push(("status", serde_json::to_string_pretty(&v).unwrap() + "\n"));

    let reports = vec![
        TestReport {
            service: "nginx".to_owned(),
            instance: None,
            result: "failed",
            message: "nginx: [emerg] unknown directive \"lsten\" in /etc/nginx/nginx.conf:12".to_owned(),
        },
        TestReport {
            service: "redis".to_owned(),
            instance: Some("a".to_owned()),
            result: "none",
            message: String::new(),
        },
    ];
    let v = serde_json::to_value(&reports).unwrap();
    assert_keys("configtest", &v, &["instance", "message", "result", "service"]);
    out.push(("configtest", serde_json::to_string_pretty(&v).unwrap() + "\n"));

    // logs reads under --root: an instance's multilog file (daemontools),
    // its TAI64N stamps decoded, shown here in UTC.
    let logs_root = tempfile::tempdir().unwrap();
    let lr = logs_root.path().to_str().unwrap();
    let o = run(&["install", "memcached@main", "--root", lr, "--target", "daemontools"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = logs_root.path().join("var/log/initkit/memcached/main/current");
    fs::create_dir_all(log.parent().unwrap()).unwrap();
    fs::write(
        &log,
        "@4000000065a4f0861dcd6500 server listening (tcp) on 127.0.0.1:11211\n@4000000065a4f09600000000 <28 new auto-negotiating client connection\n",
    )
    .unwrap();
    let o = initkit().args(["logs", "memcached", "--json", "--root", lr]).env("TZ", "UTC").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    assert_keys("logs", &v, &["text", "time"]);
    out.push(("logs", String::from_utf8_lossy(&o.stdout).into_owned()));

    // history reads the records under --root: two known good configs of
    // redis@a (as a restart that came back ready writes them), the newer in use.
    let conf = "/etc/redis/a.conf";
    fs::create_dir_all(root.path().join("etc/redis")).unwrap();
    fs::write(root.path().join(&conf[1..]), "port 7001\nmaxmemory 64mb\n").unwrap();
    for (time_ms, content) in
        [(1_705_308_284_500_u64, "port 7001\n"), (1_705_311_000_000, "port 7001\nmaxmemory 64mb\n")]
    {
        let dir = root.path().join(format!("var/lib/initkit/good/redis/a/{time_ms}"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("0"), content).unwrap();
        let record = serde_json::json!({
            "time_ms": time_ms,
            "files": [{"path": conf, "hash": initkit::host::manifest::hash(content.as_bytes()), "uid": 0, "gid": 0, "mode": 0o644}],
        });
        fs::write(dir.join("record.json"), record.to_string()).unwrap();
    }
    let o = initkit().args(["history", "redis@a", "--json", "--root", r]).env("TZ", "UTC").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    assert_keys("history", &v, &["files", "in_use", "time"]);
    assert_keys("history files", &v[0]["files"], &["gid", "hash", "mode", "path", "uid"]);
    assert_eq!((v[0]["in_use"].clone(), v[1]["in_use"].clone()), (Value::Bool(true), Value::Bool(false)));
    out.push(("history", String::from_utf8_lossy(&o.stdout).into_owned()));
    // The text form shows the change from the older to the newer as a diff.
    let o = initkit().args(["history", "redis@a", "--root", r]).env("TZ", "UTC").output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("2 known good configs") && text.contains("+maxmemory 64mb"), "{text}");
    out
}

#[test]
fn every_json_output_is_the_documented_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json.md");
    let mut doc = fs::read_to_string(&path).unwrap();
    let write = std::env::var("INITKIT_WRITE_DOCS").as_deref() == Ok("1");
    for (name, example) in examples() {
        let begin = format!("<!-- example: initkit {name} --json -->\n```json\n");
        let end = "```\n<!-- end of example -->\n";
        let start = doc.find(&begin).unwrap_or_else(|| panic!("docs/json.md has no block for `{name}`")) + begin.len();
        let stop = start + doc[start..].find(end).expect("the block's end marker");
        if write {
            doc.replace_range(start..stop, &example);
        } else {
            assert_eq!(
                &doc[start..stop],
                example,
                "docs/json.md is stale for `{name}`: run INITKIT_WRITE_DOCS=1 cargo test --test json"
            );
        }
    }
    if write {
        fs::write(&path, doc).unwrap();
    }
}

#[test]
fn commands_that_report_nothing_refuse_json() {
    for args in [["start", "redis", "--json"], ["install", "redis", "--json"], ["enable", "redis", "--json"]] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("unexpected argument '--json'"), "{args:?}");
    }
}
