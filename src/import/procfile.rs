//! Procfiles (foreman, Heroku): one recipe per process type, run in the
//! Procfile's directory as its owner; `$PORT` becomes the instance name.

use super::{
    Source,
    draft::{Draft, lit},
    ini::Problem,
    report::Report,
    words::{self, Dialect},
};

pub fn import(src: &Source) -> Result<Vec<(String, Draft, Report)>, Vec<Problem>> {
    let file = src.file.as_str();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut skipped: Vec<Report> = Vec::new();
    let app =
        src.dir.as_deref().and_then(|d| std::path::Path::new(d).file_name()).and_then(|n| n.to_str()).unwrap_or("app");
    for (i, line) in src.text.lines().enumerate() {
        let l = i + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let Some((kind, command)) = t
            .split_once(':')
            .filter(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
        else {
            problems.push(Problem { file: file.into(), line: l, message: "not `type: command`".into() });
            continue;
        };
        let command = command.trim();
        if kind == "release" {
            let mut r = Report::default();
            r.dropped(
                file,
                l,
                kind,
                "Heroku's release phase runs once per deploy: it is not a process to keep running",
            );
            skipped.push(r);
            continue;
        }
        let name = super::recipe_name(&format!("{app}-{kind}"));
        let mut d = Draft::new(&name, &format!("{app} {kind} process (from a Procfile)"));
        let mut r = Report::default();
        d.set_list::<&str>(&[], "needs", &["network"]);
        let uses_port = command.contains("$PORT") || command.contains("${PORT}");
        // The line is the app's own shell command, kept whole as the
        // argument of `sh -c`: what the Procfile says, never re-parsed.
        let direct = words::split(command, Dialect::Shell).ok().filter(|ws| {
            ws.first().and_then(words::plain).is_some_and(|w| w.starts_with('/'))
                && words::vars(ws).iter().all(|v| v == "PORT")
        });
        if let Some(ws) = direct {
            let argv: Vec<String> = ws.iter().map(|w| words::template_with_instance(w, Some("PORT"))).collect();
            d.set_list(&["run"], "command", &argv);
            r.carried(file, l, kind);
        } else {
            // `exec` makes a simple command the service's process; a compound
            // one (`a && b`) keeps the shell, which `exec` would cut short.
            let simple = words::split(command, Dialect::Shell).is_ok();
            let line = if simple { format!("exec {command}") } else { command.to_owned() };
            d.set_list(&["run"], "command", &["/bin/sh".to_owned(), "-c".to_owned(), lit(&line)]);
            r.approximated(
                file,
                l,
                kind,
                if simple {
                    "run by /bin/sh -c in the app's directory, as foreman runs it"
                } else {
                    "run by /bin/sh -c in the app's directory; the shell stays the service's process (a compound command)"
                },
            );
        }
        d.set(&["run"], "user", src.owner.as_deref().unwrap_or("root"));
        if let Some(dir) = &src.dir {
            d.set(&["run"], "working_directory", lit(dir));
        }
        if uses_port {
            d.set(&["run", "environment"], "PORT", "{instance}");
            d.set(&["instances"], "default", "5000");
            r.approximated(
                file,
                l,
                &format!("{kind} $PORT"),
                "each instance is a port: `initkit install NAME@5000 NAME@5001` runs two",
            );
        }
        d.set(&["restart"], "policy", "always");
        out.push((name, d, r));
    }
    // What was left out is reported with the first recipe of the file.
    if let Some((_, _, first)) = out.first_mut() {
        for r in skipped {
            first.entries.extend(r.entries);
        }
    }
    if out.is_empty() && problems.is_empty() {
        problems.push(Problem { file: file.into(), line: 1, message: "no process types: not a Procfile".into() });
    }
    if out.is_empty() { Err(problems) } else { Ok(out) }
}
