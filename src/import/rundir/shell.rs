//! A hand-written `#!/bin/sh` run script read line by line: the exec'd
//! chain and daemon, `cd`, `umask`, `ulimit`, assignments, the sourced
//! `conf`, `sv start` dependencies, and plain setup commands. Lines of shell
//! logic are reported, never carried as code.

use super::lines::{Line, logical_lines};
use crate::import::{
    report::Report,
    words::{self, Dialect, Word},
};

/// What a shell run script says.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// The exec'd line: its line, its text after `exec`, and its words (`Err`
    /// when it is shell code, not plain words).
    pub main: Option<(usize, String, Result<Vec<Word>, String>)>,
    /// Whether the main command is exec'd (the script is replaced by it).
    pub exec: bool,
    /// `NAME=value` (with `export` or not), in order.
    pub assigns: Vec<(usize, String, Word, bool)>,
    /// Names marked by `export NAME`.
    pub exported: Vec<String>,
    /// Files sourced (`. ./conf`).
    pub sourced: Vec<(usize, String)>,
    pub workdir: Option<(usize, String)>,
    pub umask: Option<(usize, String)>,
    pub limits: Vec<(usize, &'static str, i64)>,
    /// Services `sv start`/`sv check` waits for.
    pub deps: Vec<(usize, String)>,
    /// Plain commands before the daemon: setup steps.
    pub steps: Vec<(usize, Vec<Word>)>,
}

fn strip_exit(t: &str) -> &str {
    t.split_once("||").map_or(t, |(a, b)| if b.trim().starts_with("exit") { a.trim() } else { t })
}

fn is_name(k: &str) -> bool {
    !k.is_empty()
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !k.starts_with(|c: char| c.is_ascii_digit())
}

/// `. FILE`, `source FILE`, or either after a `[ -r FILE ] &&` test.
fn sourced(t: &str) -> Option<String> {
    let last = t.rsplit("&&").next()?.trim();
    let file = last.strip_prefix(". ").or_else(|| last.strip_prefix("source "))?.trim();
    let guard = t.len() > last.len();
    let head = t[..t.len() - last.len()].trim().trim_end_matches("&&").trim();
    let guarded = !guard
        || ["[ -r ", "[ -f ", "[ -e ", "[ -s ", "test -r ", "test -f ", "test -e ", "test -s "]
            .iter()
            .any(|p| head.starts_with(p));
    let ws = words::split(file, Dialect::Shell).ok()?;
    (guarded && ws.len() == 1).then(|| words::plain(&ws[0])).flatten()
}

/// Reads the script, reporting each line that is not one of the things it carries.
#[allow(clippy::many_single_char_names)] // (script, line, text, report) in every arm
pub fn read(text: &str, file: &str, r: &mut Report) -> Script {
    let mut s = Script::default();
    let lines = logical_lines(text);
    let mut after_exec = false;
    // Lines inside `if … fi`, `case … esac`, loops and functions run only
    // sometimes: none of them is carried as if it always ran.
    let mut depth = 0usize;
    for Line { n, text: t } in &lines {
        let (n, t) = (*n, t.as_str());
        let first = t.split_whitespace().next().unwrap_or("");
        let last = t.split_whitespace().last().unwrap_or("");
        let opens = matches!(first, "if" | "case" | "for" | "while" | "until") || t.ends_with('{');
        let closes = |w: &str| matches!(w, "fi" | "esac" | "done" | "}") || w.ends_with(";;");
        if opens && !closes(last) || depth > 0 {
            if opens && !closes(last) {
                depth += 1;
            } else if closes(first) || closes(last) && !opens {
                depth = depth.saturating_sub(1);
            }
            r.dropped(
                file,
                n,
                &format!("`{}`", first.chars().take(40).collect::<String>()),
                "shell logic (a block that runs only sometimes) the import does not follow",
            );
            continue;
        }
        if after_exec {
            r.dropped(file, n, "a line after the exec", "never runs: the exec'd command replaced the script");
            continue;
        }
        if let Some(rest) = t.strip_prefix("exec ").map(str::trim) {
            if rest == "2>&1" {
                r.carried(file, n, "exec 2>&1");
            } else if rest.starts_with(['<', '>'])
                || rest.starts_with(|c: char| c.is_ascii_digit()) && rest[1..].starts_with(['<', '>'])
            {
                r.dropped(
                    file,
                    n,
                    "exec redirection",
                    "initkit gives the daemon /dev/null as stdin and logs its output",
                );
            } else {
                s.main = Some((n, rest.to_owned(), words::split(rest, Dialect::Shell)));
                s.exec = true;
                after_exec = true;
            }
            continue;
        }
        if let Some(dir) = t.strip_prefix("cd ").map(|d| strip_exit(d).trim()) {
            match words::split(dir, Dialect::Shell).ok().as_deref() {
                Some([w]) if words::plain(w).is_some() => s.workdir = words::plain(w).map(|d| (n, d)),
                _ => r.dropped(file, n, "cd", format!("`{dir}` is not a plain directory")),
            }
            continue;
        }
        if let Some(mask) = t.strip_prefix("umask ").map(str::trim) {
            if mask.len() <= 4 && !mask.is_empty() && mask.chars().all(|c| c.is_digit(8)) {
                s.umask = Some((n, format!("{mask:0>4}")));
            } else {
                r.dropped(file, n, "umask", format!("`{mask}` is not an octal mask"));
            }
            continue;
        }
        if let Some(rest) = t.strip_prefix("ulimit ") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let letter = f.first().and_then(|o| o.trim_start_matches('-').chars().last());
            match (letter.and_then(super::chain::limit_key), f.get(1).and_then(|v| v.parse::<i64>().ok())) {
                (Some(key), Some(v)) if f.len() == 2 && v >= 0 => s.limits.push((n, key, v)),
                _ => r.dropped(
                    file,
                    n,
                    "ulimit",
                    format!("`{rest}`: initkit sets nofile, nproc, core and memlock, as numbers"),
                ),
            }
            continue;
        }
        if let Some(f) = sourced(t) {
            s.sourced.push((n, f));
            continue;
        }
        if let Some(rest) = t.strip_prefix("sv ") {
            let rest = strip_exit(rest).replace(">/dev/null", "").replace("2>&1", "");
            let f: Vec<&str> = rest.split_whitespace().collect();
            let verb = f.iter().position(|w| matches!(*w, "start" | "check" | "up" | "u"));
            match verb {
                Some(v) if f.len() > v + 1 => {
                    for dep in &f[v + 1..] {
                        s.deps.push((
                            n,
                            dep.trim_start_matches("/etc/service/").trim_start_matches("/var/service/").to_owned(),
                        ));
                    }
                }
                _ => r.dropped(file, n, "sv", format!("`sv {rest}` is not a wait for another service")),
            }
            continue;
        }
        // `: ${NAME:=default}`: a default the environment may override.
        if let Some(inner) = t.strip_prefix(": ").map(|x| x.trim().trim_matches('"'))
            && let Some((k, v)) =
                inner.strip_prefix("${").and_then(|x| x.strip_suffix('}')).and_then(|x| x.split_once(":="))
            && is_name(k)
        {
            match words::split(v, Dialect::Shell).ok().as_deref() {
                Some([w]) => s.assigns.push((n, k.to_owned(), w.clone(), false)),
                Some([]) => s.assigns.push((n, k.to_owned(), Vec::new(), false)),
                _ => r.dropped(file, n, k, "its default is shell code, not a value"),
            }
            continue;
        }
        let (exported, body) = t.strip_prefix("export ").map_or((false, t), |b| (true, b.trim()));
        if let Some((k, v)) = body.split_once('=')
            && is_name(k)
        {
            match words::split(v, Dialect::Shell).ok().as_deref() {
                Some([w]) => s.assigns.push((n, k.to_owned(), w.clone(), exported)),
                Some([]) => s.assigns.push((n, k.to_owned(), Vec::new(), exported)),
                _ => r.dropped(file, n, k, "its value is shell code or several words, not a value"),
            }
            continue;
        }
        if exported && body.split_whitespace().all(is_name) {
            s.exported.extend(body.split_whitespace().map(str::to_owned));
            continue;
        }
        if let Some(opts) = t.strip_prefix("set ") {
            r.approximated(
                file,
                n,
                &format!("set {opts}"),
                "options of the script's own shell; the daemon is not affected",
            );
            continue;
        }
        let first = t.split_whitespace().next().unwrap_or("");
        if matches!(first, "echo" | "printf" | "logger") {
            r.dropped(file, n, first, "a message of the script: initkit logs its own");
            continue;
        }
        match words::split(t, Dialect::Shell) {
            Ok(ws)
                if ws.first().and_then(words::plain).is_some_and(|w| {
                    !w.contains('=')
                        && ![
                            "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done",
                            "{", "}", "!", "[", "[[", "test", "return", "exit", "trap", "wait", "shift", "local",
                            "readonly", "unset", "eval",
                        ]
                        .contains(&w.as_str())
                }) =>
            {
                s.steps.push((n, ws));
            }
            _ => r.dropped(
                file,
                n,
                &format!("`{}`", first.chars().take(40).collect::<String>()),
                "shell logic the import does not follow",
            ),
        }
    }
    // No exec: the script's last command is the daemon (runsv supervises the shell).
    if s.main.is_none()
        && let Some((n, ws)) = s.steps.pop()
    {
        let text = lines.iter().find(|l| l.n == n).map(|l| l.text.clone()).unwrap_or_default();
        s.main = Some((n, text, Ok(ws)));
    }
    s
}
