//! Procfiles (foreman, Heroku): one recipe per process type, run in the
//! Procfile's directory as its owner; `$PORT` becomes the instance name.

use super::{
    Source,
    draft::{Draft, lit},
    ini::Problem,
    report::Report,
    words::{self, Dialect},
};

/// One process type of a Procfile (or a package.json script): its name, its
/// shell command line as written, and the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: String,
    pub command: String,
    pub line: usize,
}

/// Every `type: command` line of a Procfile; each line that is not one (or
/// names a type already named) is a problem, and reading goes on.
pub fn entries(file: &str, text: &str) -> (Vec<Entry>, Vec<Problem>) {
    let mut out: Vec<Entry> = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
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
        if let Some(first) = out.iter().find(|e| e.kind == kind) {
            problems.push(Problem {
                file: file.into(),
                line: l,
                message: format!("the process type `{kind}` is already on line {}", first.line),
            });
            continue;
        }
        let command = command.trim();
        if command.is_empty() {
            problems.push(Problem { file: file.into(), line: l, message: format!("`{kind}` has no command") });
            continue;
        }
        out.push(Entry { kind: kind.to_owned(), command: command.to_owned(), line: l });
    }
    (out, problems)
}

/// What sh reads as more than words: keywords and builtins, which are no
/// program to find (`cd`, `export`, `if`...).
const SHELL_WORDS: &[&str] = &[
    "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then", "until", "while",
    ".", ":", "alias", "bg", "break", "cd", "command", "continue", "eval", "exit", "export", "fc", "fg", "getopts",
    "hash", "jobs", "read", "readonly", "return", "set", "shift", "source", "times", "trap", "type", "ulimit", "umask",
    "unalias", "unset", "wait",
];

/// The words of a line that is a plain command, as sh would run it: split
/// the shell's way, no setting but `$PORT`, nothing sh expands or reads as
/// code (a glob, `~`, a comment, an assignment before the command, a
/// builtin); a leading `exec` is dropped. `Err` says why it is shell.
pub fn argv(command: &str) -> Result<Vec<words::Word>, String> {
    let mut ws = words::split(command, Dialect::Shell)?;
    if ws.first().and_then(words::plain).as_deref() == Some("exec") {
        ws.remove(0);
    }
    if let Some(var) = words::vars(&ws).into_iter().find(|v| v != "PORT") {
        return Err(format!("it reads `${var}`"));
    }
    if let Some(c) = command.chars().find(|c| matches!(c, '*' | '?' | '[' | '~' | '#')) {
        return Err(format!("sh gives `{c}` a meaning"));
    }
    let Some(first) = ws.first().map(|w| words::plain(w).ok_or("its program is a setting")).transpose()? else {
        return Err("no command".into());
    };
    if first.contains('=') {
        return Err(format!("`{first}` sets a variable for the command"));
    }
    if SHELL_WORDS.contains(&first.as_str()) {
        return Err(format!("`{first}` is the shell's own"));
    }
    Ok(ws)
}

/// The line as the argument of `/bin/sh -c`, kept whole: `exec` makes a
/// simple command the service's process; a compound one (`a && b`) keeps
/// the shell, which `exec` would cut short. The flag says which.
pub fn shell_line(command: &str) -> (String, bool) {
    let simple = words::split(command, Dialect::Shell).is_ok();
    let execs = command.strip_prefix("exec").is_some_and(|rest| rest.starts_with(char::is_whitespace));
    (if simple && !execs { format!("exec {command}") } else { command.to_owned() }, simple)
}

/// Whether the command reads `$PORT`, the port foreman gives each process.
pub fn uses_port(command: &str) -> bool {
    command.contains("$PORT") || command.contains("${PORT}")
}

pub fn import(src: &Source) -> Result<Vec<(String, Draft, Report)>, Vec<Problem>> {
    let file = src.file.as_str();
    let mut out = Vec::new();
    let mut skipped: Vec<Report> = Vec::new();
    let app =
        src.dir.as_deref().and_then(|d| std::path::Path::new(d).file_name()).and_then(|n| n.to_str()).unwrap_or("app");
    let (entries, mut problems) = entries(file, &src.text);
    for Entry { kind, command, line: l } in &entries {
        let (kind, command, l) = (kind.as_str(), command.as_str(), *l);
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
        let uses_port = uses_port(command);
        // The line is the app's own shell command, kept whole as the
        // argument of `sh -c`: what the Procfile says, never re-parsed.
        let direct =
            argv(command).ok().filter(|ws| ws.first().and_then(words::plain).is_some_and(|w| w.starts_with('/')));
        if let Some(ws) = direct {
            let argv: Vec<String> = ws.iter().map(|w| words::template_with_instance(w, Some("PORT"))).collect();
            d.set_list(&["run"], "command", &argv);
            r.carried(file, l, kind);
        } else {
            let (line, simple) = shell_line(command);
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
    // What was left out, and every line that is no process type, is
    // reported with the first recipe of the file: nothing goes unsaid.
    if let Some((_, _, first)) = out.first_mut() {
        for r in skipped {
            first.entries.extend(r.entries);
        }
        for p in problems.drain(..) {
            first.dropped(&p.file, p.line, &format!("line {}", p.line), p.message);
        }
    }
    if out.is_empty() && problems.is_empty() {
        problems.push(Problem { file: file.into(), line: 1, message: "no process types: not a Procfile".into() });
    }
    if out.is_empty() { Err(problems) } else { Ok(out) }
}
