//! package.json read as process types: what `npm start` runs (`scripts.start`,
//! or `node server.js` when there is none and the file exists, as npm does)
//! as the `web` process, and other scripts asked for by name, each with the
//! line it is on.

use serde_json::Value;

use super::{ini::Problem, procfile::Entry};

/// The process types of a package.json, notes on what `npm start` would do
/// that the service will not, and every problem at once. `server_js` says
/// whether `server.js` is beside the file (npm's default start).
pub fn entries(file: &str, text: &str, scripts: &[String], server_js: bool) -> (Vec<Entry>, Vec<String>, Vec<Problem>) {
    let problem = |line: usize, message: String| Problem { file: file.to_owned(), line, message };
    let json: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return (Vec::new(), Vec::new(), vec![problem(e.line(), format!("not JSON: {e}"))]),
    };
    let defined = json.get("scripts").and_then(Value::as_object);
    let script = |name: &str| defined.and_then(|s| s.get(name));
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut problems = Vec::new();
    match script("start") {
        Some(Value::String(command)) if !command.trim().is_empty() => {
            out.push(Entry { kind: "web".into(), command: command.trim().to_owned(), line: line_of(text, "start") });
        }
        Some(_) => problems.push(problem(line_of(text, "start"), "`scripts.start` is not a command".into())),
        None if server_js => {
            notes.push(
                "package.json has no `scripts.start`: the web process runs `node server.js`, as `npm start` does"
                    .into(),
            );
            out.push(Entry { kind: "web".into(), command: "node server.js".into(), line: 1 });
        }
        None => problems.push(problem(
            1,
            "no `scripts.start`, and no server.js for npm's default: add a start script, or give a Procfile".into(),
        )),
    }
    for name in scripts {
        match script(name) {
            Some(Value::String(command)) if !command.trim().is_empty() => {
                out.push(Entry { kind: name.clone(), command: command.trim().to_owned(), line: line_of(text, name) });
            }
            Some(_) => problems.push(problem(line_of(text, name), format!("`scripts.{name}` is not a command"))),
            None => problems.push(problem(1, format!("--script {name}: package.json has no `scripts.{name}`"))),
        }
    }
    // npm runs `preX` and `postX` around `X`; a service runs `X` alone.
    for kind in std::iter::once("start").chain(scripts.iter().map(String::as_str)) {
        for hook in [format!("pre{kind}"), format!("post{kind}")] {
            if let Some(Value::String(command)) = script(&hook) {
                notes.push(format!(
                    "{file}:{}: `{hook}` ({command}) is not run: the service runs the `{kind}` script's command alone; run it before installing",
                    line_of(text, &hook)
                ));
            }
        }
    }
    (out, notes, problems)
}

/// The line of `"key":` inside the `"scripts"` object, found in the text
/// (serde_json keeps no positions); the `"scripts"` line when it is not
/// found there, line 1 without one.
fn line_of(text: &str, key: &str) -> usize {
    let quoted = serde_json::to_string(key).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let Some(scripts) = lines.iter().position(|l| l.contains("\"scripts\"")) else {
        return 1;
    };
    let key_at = lines
        .iter()
        .enumerate()
        .skip(scripts)
        .find(|(_, l)| l.split(&quoted).nth(1).is_some_and(|rest| rest.trim_start().starts_with(':')));
    key_at.map_or(scripts, |(i, _)| i) + 1
}

#[cfg(test)]
mod tests {
    use super::entries;

    const PKG: &str = r#"{
  "name": "shop",
  "scripts": {
    "prestart": "npm run build",
    "start": "node server.js",
    "worker": "node jobs.js --queue=mail",
    "test": "jest"
  }
}
"#;

    #[test]
    fn start_is_web_and_named_scripts_are_their_own_types_with_their_lines() {
        let (out, notes, problems) = entries("package.json", PKG, &["worker".into()], false);
        assert!(problems.is_empty(), "{problems:?}");
        let got: Vec<(&str, &str, usize)> = out.iter().map(|e| (e.kind.as_str(), e.command.as_str(), e.line)).collect();
        assert_eq!(got, [("web", "node server.js", 5), ("worker", "node jobs.js --queue=mail", 6)]);
        assert_eq!(
            notes,
            [
                "package.json:4: `prestart` (npm run build) is not run: the service runs the `start` script's command alone; run it before installing"
            ]
        );
    }

    #[test]
    fn every_problem_at_once() {
        let (out, _, problems) = entries("p.json", r#"{"scripts": {"start": 3}}"#, &["nope".into()], false);
        assert!(out.is_empty());
        let got: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "p.json:1: `scripts.start` is not a command",
                "p.json:1: --script nope: package.json has no `scripts.nope`"
            ]
        );
        let (_, _, problems) = entries("p.json", "{\n  \"scripts\": {\n", &[], false);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].to_string().starts_with("p.json:3: not JSON: "), "{}", problems[0]);
    }

    #[test]
    fn npm_starts_server_js_when_there_is_no_start_script() {
        let (out, notes, problems) = entries("package.json", "{}", &[], true);
        assert!(problems.is_empty());
        assert_eq!(out[0].command, "node server.js");
        assert!(notes[0].contains("as `npm start` does"), "{notes:?}");
        let (out, _, problems) = entries("package.json", "{}", &[], false);
        assert!(out.is_empty());
        assert!(problems[0].message.contains("no `scripts.start`, and no server.js"), "{problems:?}");
    }
}
