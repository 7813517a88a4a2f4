//! A script initkit rendered for OpenRC, read back exactly: its constants
//! and the functions written for its recipe (`ik_exec`, `ik_defaults`,
//! `ik_check`…), whose every value the renderer quoted for sh as one word.

use toml_edit::{InlineTable, Value};

use crate::import::{
    Source,
    draft::{Draft, lit},
    ini::Problem,
    report::Report,
    words::{self, Dialect, Piece, Word},
};
use crate::recipe::{Probe, duration::format_duration};

use super::own_conditions;

pub fn is_own(text: &str) -> bool {
    text.lines().take(6).any(|l| l.starts_with("# Rendered by initkit from the recipe "))
}

/// One statement of a generated function: continuation lines joined,
/// newlines inside quotes kept.
struct Statement {
    line: usize,
    text: String,
}

/// The statements of `name() {` … `}` (a `}` alone at the start of a line,
/// outside quotes), comments left out.
fn function(text: &str, name: &str) -> Option<Vec<Statement>> {
    let head = format!("\n{name}() {{\n");
    let at = text.find(&head)? + head.len();
    let mut line = text[..at].lines().count() + 1;
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = line;
    let mut quote: Option<char> = None;
    let mut chars = text[at..].chars().peekable();
    let mut at_line_start = true;
    while let Some(c) = chars.next() {
        if at_line_start && quote.is_none() && c == '}' && chars.peek().is_none_or(|n| *n == '\n') {
            break;
        }
        at_line_start = false;
        match (quote, c) {
            (None, '\\') if chars.peek() == Some(&'\n') => {
                chars.next();
                line += 1;
                cur.push(' ');
                at_line_start = false;
            }
            (None, '\n') => {
                let t = cur.trim();
                if !t.is_empty() && !t.starts_with('#') {
                    out.push(Statement { line: start, text: t.to_owned() });
                }
                cur.clear();
                line += 1;
                start = line;
                at_line_start = true;
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            // `\'` outside quotes is a quote character, not the start of a quote.
            (None | Some('"'), '\\') => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (_, c) => {
                if c == '\n' {
                    line += 1;
                }
                cur.push(c);
            }
        }
    }
    Some(out)
}

/// A top-level `KEY=value` the renderer wrote, as its value.
fn constant(text: &str, key: &str) -> Option<(usize, String)> {
    text.lines().enumerate().find_map(|(i, l)| {
        let v = l.strip_prefix(key)?.strip_prefix('=')?;
        let ws = words::split(v, Dialect::Shell).ok()?;
        Some((i + 1, ws.first().and_then(words::plain).unwrap_or_default()))
    })
}

/// A shell variable of the script as the recipe variable it holds.
fn recipe_var(sh: &str) -> Option<String> {
    Some(match sh {
        "instance" => "instance".to_owned(),
        "d_runtime" => "runtime_dir".to_owned(),
        "d_state" => "state_dir".to_owned(),
        "d_logs" => "logs_dir".to_owned(),
        v => v.strip_prefix("v_")?.to_owned(),
    })
}

/// A word the renderer quoted, as the template it came from.
fn template(word: &Word) -> Result<String, String> {
    word.iter()
        .map(|p| match p {
            Piece::Lit(l) => Ok(lit(l)),
            Piece::Var { name, split } => {
                let v = recipe_var(name).ok_or_else(|| format!("`${name}` is not one of the recipe's variables"))?;
                Ok(if *split { format!("{{{v}...}}") } else { format!("{{{v}}}") })
            }
        })
        .collect()
}

fn templates(words: &[Word]) -> Result<Vec<String>, String> {
    words.iter().map(template).collect()
}

/// A statement's words, with the `(set -f; …)` that guards a split argument taken off.
fn split(text: &str) -> Result<Vec<Word>, String> {
    let t = text.strip_prefix("(set -f; ").and_then(|t| t.strip_suffix(')')).unwrap_or(text);
    words::split(t, Dialect::Shell)
}

fn plain(w: Option<&Word>) -> String {
    w.and_then(words::plain).unwrap_or_default()
}

/// Seconds as the renderer writes them (`30`, `0.500`), in milliseconds.
fn millis(text: &str) -> Option<u64> {
    let (s, frac) = text.split_once('.').unwrap_or((text, "0"));
    Some(s.parse::<u64>().ok()? * 1000 + format!("{frac:0<3}")[..3].parse::<u64>().ok()?)
}

struct Reader<'a> {
    text: &'a str,
    file: String,
    d: Draft,
    r: Report,
    problems: Vec<Problem>,
    user: String,
}

impl Reader<'_> {
    fn problem(&mut self, line: usize, message: String) {
        self.problems.push(Problem { file: self.file.clone(), line, message });
    }

    fn body(&mut self, name: &str) -> Vec<Statement> {
        function(self.text, name).unwrap_or_default()
    }

    /// A hook's fields: `DESC run|poll TIMEOUT INTERVAL USER [optional|required] ARGV…`.
    fn hook(&mut self, st: &Statement, ws: &[Word], optional: bool) -> Option<Vec<(&'static str, Value)>> {
        let n = if optional { 6 } else { 5 };
        if ws.len() <= n {
            self.problem(st.line, "a step without its command".into());
            return None;
        }
        let argv = match templates(&ws[n..]) {
            Ok(a) => a,
            Err(e) => {
                self.problem(st.line, e);
                return None;
            }
        };
        let mut entries = vec![("description", Value::from(plain(ws.first())))];
        let timeout = millis(&plain(ws.get(2))).map(format_duration).unwrap_or_default();
        if plain(ws.get(1)) == "poll" {
            entries.push(("poll", crate::import::draft::strings(&argv)));
            let interval = millis(&plain(ws.get(3))).map(format_duration).unwrap_or_default();
            entries.push(("interval", Value::from(interval)));
        } else {
            entries.push(("run", crate::import::draft::strings(&argv)));
        }
        entries.push(("timeout", Value::from(timeout)));
        let user = plain(ws.get(4));
        if user != self.user {
            entries.push(("user", Value::from(user)));
        }
        if optional && plain(ws.get(5)) == "optional" {
            entries.push(("optional", Value::from(true)));
        }
        Some(entries)
    }
}

#[allow(clippy::too_many_lines)] // one function of the script after another
pub fn import(src: &Source) -> Result<(String, Draft, Report), Vec<Problem>> {
    let text = src.text.as_str();
    let file = src.file.clone();
    let Some((nl, name)) = constant(text, "NAME") else {
        return Err(vec![Problem {
            file,
            line: 1,
            message: "initkit's script without its NAME: edited by hand?".into(),
        }]);
    };
    let summary = constant(text, "description").map_or_else(|| name.clone(), |(_, s)| s);
    let user = constant(text, "RUN_USER").map_or_else(|| "root".into(), |(_, u)| u);
    let mut x = Reader {
        text,
        file: file.clone(),
        d: Draft::new(&name, &summary),
        r: Report::default(),
        problems: Vec::new(),
        user: user.clone(),
    };
    x.r.carried(&file, nl, "NAME");
    x.r.carried(&file, constant(text, "description").map_or(1, |(l, _)| l), "description");
    x.d.set(&["run"], "user", user.as_str());
    if let Some((l, g)) = constant(text, "RUN_GROUP") {
        if !g.is_empty() {
            x.d.set(&["run"], "group", g.as_str());
        }
        x.r.carried(&file, l, "RUN_GROUP");
    }
    if let Some((l, multi)) = constant(text, "MULTI")
        && multi == "1"
    {
        let mut t = InlineTable::new();
        if let Some((_, def)) = constant(text, "DEFAULT_INSTANCE").filter(|(_, d)| !d.is_empty()) {
            t.insert("default", Value::from(def));
        }
        x.d.set(&[], "instances", t);
        x.r.carried(&file, l, "MULTI");
    }
    if let Some((l, s)) = constant(text, "STOP_SIGNAL") {
        x.d.set(&["stop"], "signal", s.as_str());
        x.r.carried(&file, l, "STOP_SIGNAL");
    }
    if let Some((l, ms)) = constant(text, "STOP_TIMEOUT_MS").and_then(|(l, v)| Some((l, v.parse::<u64>().ok()?))) {
        x.d.set(&["stop"], "timeout", format_duration(ms));
        x.r.carried(&file, l, "STOP_TIMEOUT_MS");
    }
    if let Some((l, m)) = constant(text, "STOP_MODE") {
        x.d.set(&["stop"], "mode", m.as_str());
        x.r.carried(&file, l, "STOP_MODE");
    }
    if let Some((l, main)) = constant(text, "HANDOVER").filter(|(_, m)| m != "none") {
        x.d.set(
            &["restart", "handover"],
            "signal",
            constant(text, "HANDOVER_SIGNAL").map(|(_, s)| s).unwrap_or_default().as_str(),
        );
        x.d.set(&["restart", "handover"], "main", main.as_str());
        if let Some((_, finish)) = constant(text, "HANDOVER_FINISH").filter(|(_, f)| !f.is_empty()) {
            x.d.set(&["restart", "handover"], "finish", finish.as_str());
        }
        if let Some(ms) = constant(text, "HANDOVER_TIMEOUT_MS").and_then(|(_, v)| v.parse::<u64>().ok()) {
            x.d.set(&["restart", "handover"], "timeout", format_duration(ms));
        }
        x.r.carried(&file, l, "HANDOVER");
    }
    let kind = constant(text, "KIND").map_or_else(|| "foreground".into(), |(_, k)| k);
    if kind != "foreground" {
        x.d.set(&["run"], "type", kind.as_str());
    }
    if kind == "oneshot" && constant(text, "REMAIN").is_some_and(|(_, r)| r == "1") {
        x.d.set(&["run"], "remain", true);
    }
    if let Some((l, codes)) = constant(text, "SUCCESS_CODES") {
        let codes: Vec<i64> = codes.split_whitespace().filter_map(|c| c.parse().ok()).filter(|c| *c != 0).collect();
        if !codes.is_empty() {
            x.d.set_numbers(&["run"], "success_codes", &codes);
        }
        x.r.carried(&file, l, "SUCCESS_CODES");
    }

    for st in x.body("ik_defaults") {
        let Some((var, value)) = st.text.split_once('=') else { continue };
        let (Some(name), Ok(ws)) = (recipe_var(var), words::split(value, Dialect::Shell)) else {
            x.problem(st.line, format!("`{}` is not a setting's default", st.text));
            continue;
        };
        match ws.first().map_or(Ok(String::new()), template) {
            Ok(t) => {
                x.d.set(&["vars"], &name, t);
                x.r.carried(&file, st.line, &format!("setting {name}"));
            }
            Err(e) => x.problem(st.line, e),
        }
    }
    for st in x.body("ik_dirs") {
        let Some((var, value)) = st.text.split_once('=') else { continue };
        let key = match var {
            "d_runtime" => ("runtime", "/run/"),
            "d_state" => ("state", "/var/lib/"),
            "d_logs" => ("logs", "/var/log/"),
            _ => continue,
        };
        let rel = words::split(value, Dialect::Shell).ok().and_then(|ws| ws.into_iter().next()).and_then(|mut w| {
            if let Some(Piece::Lit(first)) = w.first_mut() {
                *first = first.strip_prefix(key.1)?.to_owned();
            }
            template(&w).ok()
        });
        match rel {
            Some(rel) => {
                x.d.set(&["directories"], key.0, rel);
                x.r.carried(&file, st.line, &format!("directory {}", key.0));
            }
            None => x.problem(st.line, format!("`{}` is not under {}", st.text, key.1)),
        }
    }
    if let Some(st) = x.body("ik_prepare").first()
        && let Some(mode) = st.text.split_whitespace().nth(2)
    {
        x.d.set(&["directories"], "mode", mode);
    }

    for st in x.body("ik_check") {
        if st.text == "ik_trial" {
            x.d.set(&["check"], "trial", true);
            x.r.carried(&file, st.line, "check (trial)");
            continue;
        }
        let ws = match split(&st.text) {
            Ok(ws) if plain(ws.first()) == "ik_as" && ws.len() > 6 => ws,
            _ => continue,
        };
        match templates(&ws[6..]) {
            Ok(argv) => {
                x.d.set_list(&["check"], "command", &argv);
                let cu = plain(ws.get(1));
                if cu != user {
                    x.d.set(&["check"], "user", cu.as_str());
                }
                if let Some(ms) = millis(&plain(ws.get(5))) {
                    x.d.set(&["check"], "timeout", format_duration(ms));
                }
                x.r.carried(&file, st.line, "check");
            }
            Err(e) => x.problem(st.line, e),
        }
    }
    for st in x.body("ik_before_stop") {
        let Ok(ws) = split(&st.text) else { continue };
        if plain(ws.first()) != "ik_hook" {
            continue;
        }
        if let Some(entries) = x.hook(&st, &ws[1..], false) {
            x.d.push_table(&["stop"], "before", entries);
            x.r.carried(&file, st.line, "stop.before");
        }
    }
    for (func, table, list) in [
        ("ik_before_start", "start", "before"),
        ("ik_after_start", "start", "after"),
        ("ik_after_stop", "stop", "after"),
    ] {
        for st in x.body(func) {
            let t = st.text.strip_suffix(" || return 1").unwrap_or(&st.text);
            let Ok(ws) = split(t) else { continue };
            if plain(ws.first()) != "ik_step" || ws.len() < 3 {
                continue;
            }
            if let Some(entries) = x.hook(&st, &ws[2..], true) {
                x.d.push_table(&[table], list, entries);
                x.r.carried(&file, st.line, &format!("{table}.{list}"));
            }
        }
    }
    for st in x.body("ik_ready") {
        let t = st.text.strip_suffix(" >/dev/null 2>&1").unwrap_or(&st.text);
        let Ok(ws) = split(t) else { continue };
        let ready = match plain(ws.first()).as_str() {
            "ik_listening" => ws.get(1).map(template).map(|t| t.map(|t| ("tcp", Value::from(t)))),
            "ik_as" if ws.len() > 2 => {
                Some(templates(&ws[2..]).map(|a| ("command", crate::import::draft::strings(&a))))
            }
            _ => None,
        };
        match ready {
            Some(Ok((key, value))) => {
                x.d.set(&["ready"], key, value);
                if let Some((_, ms)) = constant(text, "READY_TIMEOUT_MS") {
                    x.d.set(&["ready"], "timeout", format_duration(ms.parse().unwrap_or(10_000)));
                }
                if let Some(ms) = constant(text, "READY_SETTLE_MS").and_then(|(_, ms)| ms.parse::<u64>().ok())
                    && ms > 0
                {
                    x.d.set(&["ready"], "settle", format_duration(ms));
                }
                x.r.carried(&file, st.line, "ready");
            }
            Some(Err(e)) => x.problem(st.line, e),
            None => {}
        }
    }
    for st in x.body("ik_do_reload") {
        let t = st.text.strip_suffix(" || return 1").unwrap_or(&st.text);
        let Ok(ws) = split(t) else { continue };
        match plain(ws.first()).as_str() {
            "kill" => {
                x.d.set(&["reload"], "signal", plain(ws.get(2)));
                x.r.carried(&file, st.line, "reload");
            }
            "ik_as" if ws.len() > 2 => match templates(&ws[2..]) {
                Ok(argv) => {
                    x.d.set_list(&["reload"], "command", &argv);
                    x.r.carried(&file, st.line, "reload");
                }
                Err(e) => x.problem(st.line, e),
            },
            _ => {}
        }
    }
    conditions(&mut x);
    for st in x.body("ik_stop_command") {
        let t = st.text.strip_suffix(" >>\"$console_log\" 2>&1").unwrap_or(&st.text);
        let Ok(ws) = split(t) else { continue };
        if plain(ws.first()) == "ik_as" && ws.len() > 6 {
            match templates(&ws[6..]) {
                Ok(argv) => {
                    x.d.set_list(&["stop"], "command", &argv);
                    x.r.carried(&file, st.line, "stop command");
                }
                Err(e) => x.problem(st.line, e),
            }
        }
    }
    for st in x.body("ik_daemon_pidfile") {
        if let Some(v) = st.text.strip_prefix("ik_dpf=")
            && v != "''"
            && let Ok(ws) = words::split(v, Dialect::Shell)
        {
            match ws.first().map(template) {
                Some(Ok(p)) => {
                    x.d.set(&["run"], "pidfile", p);
                    x.r.carried(&file, st.line, "pidfile");
                }
                Some(Err(e)) => x.problem(st.line, e),
                None => {}
            }
        }
    }
    for st in x.body("ik_environment") {
        if let Some(v) = st.text.strip_prefix("ik_env_file=") {
            if v == "\"$ENV_FILE\"" {
                x.r.dropped(
                    &file,
                    st.line,
                    "environment",
                    "its literal values are in /etc/initkit/env/NAME (root-only), not in the script: add them to run.environment",
                );
            } else if let Ok(ws) = words::split(v, Dialect::Shell) {
                match ws.first().map(template) {
                    Some(Ok(p)) => {
                        x.d.set(&["run"], "environment_file", p);
                        x.r.carried(&file, st.line, "environment_file");
                    }
                    Some(Err(e)) => x.problem(st.line, e),
                    None => {}
                }
            }
        } else if let Some(rest) = st.text.strip_prefix("set -- \"$@\" ")
            && let Ok(ws) = words::split(rest, Dialect::Shell)
            && let [w] = ws.as_slice()
            && let Some(Piece::Lit(head)) = w.first()
            && let Some((key, first)) = head.split_once('=')
        {
            let mut value = w.clone();
            value[0] = Piece::Lit(first.to_owned());
            value.retain(|p| !matches!(p, Piece::Lit(l) if l.is_empty()));
            match template(&value) {
                Ok(v) => {
                    x.d.set(&["run", "environment"], key, v);
                    x.r.carried(&file, st.line, &format!("environment {key}"));
                }
                Err(e) => x.problem(st.line, e),
            }
        }
    }
    exec(&mut x);
    if !x.d.has(&["run"], "command") {
        x.problem(1, "initkit's script without its ik_exec command: edited by hand?".into());
    }
    x.r.approximated(
        &file,
        1,
        "depend()",
        "initkit's own (`use net logger dns`, `after firewall`): the recipe's needs are not in the script",
    );
    depend(&mut x);
    if !x.problems.is_empty() {
        return Err(x.problems);
    }
    Ok((crate::import::recipe_name(&name), x.d, x.r))
}

/// The recipe's relations initkit wrote after its own two lines of
/// `depend()`: `need` (requires), `use` (wants), `after`, `before`; a link
/// `NAME.INSTANCE` is `NAME@INSTANCE`, and `NAME"$ik_i"` the same instance.
fn depend(x: &mut Reader<'_>) {
    let file = x.file.clone();
    for st in x.body("depend") {
        let Some((word, rest)) = st.text.split_once(' ') else { continue };
        let list = match word {
            "need" => "requires",
            "use" if rest != "net logger dns" => "wants",
            "after" if rest != "firewall" => "after",
            "before" => "before",
            _ => continue,
        };
        let Ok(ws) = words::split(rest, Dialect::Shell) else { continue };
        for w in &ws {
            let dep = match w.as_slice() {
                [Piece::Lit(n), Piece::Var { name, .. }] if name == "ik_i" => {
                    format!("{n}{}", crate::recipe::relations::SAME_INSTANCE)
                }
                [Piece::Lit(n)] => n.replacen('.', "@", 1),
                _ => {
                    x.problem(st.line, format!("`{word}` names a service initkit did not write"));
                    continue;
                }
            };
            x.d.push(&["depends"], list, &dep);
        }
        x.r.carried(&file, st.line, &format!("depend {word}"));
    }
}

/// `ik_exec`: the directory, umask, limits, priorities and the command.
fn exec(x: &mut Reader<'_>) {
    let file = x.file.clone();
    for st in x.body("ik_exec") {
        let t = st.text.as_str();
        if let Some(dir) = t.strip_prefix("cd -- ").and_then(|d| d.strip_suffix(" || exit 200")) {
            if let Some(Ok(p)) = words::split(dir, Dialect::Shell).ok().and_then(|ws| ws.first().map(template)) {
                x.d.set(&["run"], "working_directory", p);
                x.r.carried(&file, st.line, "working directory");
            }
        } else if let Some(mask) = t.strip_prefix("umask ") {
            x.d.set(&["run"], "umask", mask);
            x.r.carried(&file, st.line, "umask");
        } else if let Some(rest) = t.strip_prefix("ik_limit \"$ik_self\" ") {
            if let Some((key, value)) = rest.split_once(' ')
                && let Ok(n) = value.parse::<i64>()
            {
                x.d.set(&["run", "limits"], key, n);
                x.r.carried(&file, st.line, &format!("limit {key}"));
            }
        } else if let Some(rest) = t.strip_prefix("ik_environment exec ") {
            let Ok(ws) = words::split(rest, Dialect::Shell) else {
                x.problem(st.line, "the command is not words initkit wrote".into());
                continue;
            };
            let mut i = 0;
            while i < ws.len() {
                match plain(ws.get(i)).as_str() {
                    "setsid" => i += 1,
                    "nice" => {
                        x.d.set(&["run"], "nice", plain(ws.get(i + 2)).parse::<i64>().unwrap_or(0));
                        i += 3;
                    }
                    "choom" => {
                        x.d.set(&["run"], "oom_score_adjust", plain(ws.get(i + 2)).parse::<i64>().unwrap_or(0));
                        i += 4;
                    }
                    "ionice" => {
                        let class = match plain(ws.get(i + 2)).as_str() {
                            "1" => "realtime",
                            "3" => "idle",
                            _ => "best-effort",
                        };
                        x.d.set(&["run"], "io_class", class);
                        i += 3;
                        if plain(ws.get(i)) == "-n" {
                            x.d.set(&["run"], "io_priority", plain(ws.get(i + 1)).parse::<i64>().unwrap_or(4));
                            i += 2;
                        }
                    }
                    "setpriv" => {
                        while i < ws.len() && plain(ws.get(i)) != "--" {
                            i += 1;
                        }
                        i += 1;
                    }
                    _ => break,
                }
            }
            match templates(&ws[i.min(ws.len())..]) {
                Ok(argv) if !argv.is_empty() => {
                    x.d.set_list(&["run"], "command", &argv);
                    x.r.carried(&file, st.line, "command");
                }
                Ok(_) => x.problem(st.line, "no command after the exec chain".into()),
                Err(e) => x.problem(st.line, e),
            }
        }
    }
}

/// `ik_conditions`: each condition as the renderer wrote its test, and the
/// settings switch.
fn conditions(x: &mut Reader<'_>) {
    let file = x.file.clone();
    let body = x.body("ik_conditions");
    let lines: Vec<own_conditions::Line<'_>> =
        body.iter().map(|st| own_conditions::Line { line: st.line, text: &st.text }).collect();
    for read in own_conditions::read(&lines) {
        match read {
            Ok((line, c, any)) => {
                let table: &[&str] = if any { &["conditions", "any"] } else { &["conditions"] };
                let key = c.probe.key().key();
                if c.probe == Probe::AcPower {
                    x.d.set(table, key, !c.negate);
                } else {
                    x.d.push(table, key, &c.value());
                }
                x.r.carried(&file, line, &format!("condition {key}"));
            }
            Err(line) => x.r.dropped(
                &file,
                line,
                "condition",
                "a test initkit's script does not write: edited by hand? add it to [conditions]",
            ),
        }
    }
    for st in &body {
        if let Some(rest) = st.text.strip_prefix("case ${")
            && let Some((var, _)) = rest.split_once('}')
            && let Some(name) = recipe_var(var)
        {
            x.d.set(&["conditions"], "setting", name.as_str());
            x.r.carried(&file, st.line, "condition setting");
        }
    }
}
