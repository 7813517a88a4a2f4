//! An openrc-run script (or its conf.d file) read as shell structure, never
//! run: its top-level assignments, its functions with their statements, and
//! every other line, each with its line number.

use crate::import::words::{self, Dialect, Piece};

/// `KEY=value` at the top level, the value as text in which a reference is
/// `${NAME}` (what `sysv::expand` reads); `exported` for `export KEY=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assign {
    pub line: usize,
    pub key: String,
    pub value: String,
    pub exported: bool,
}

/// One statement of a function, continuation lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub line: usize,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    pub line: usize,
    pub body: Vec<Statement>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub assigns: Vec<Assign>,
    /// Assignments whose value is not data (`$(…)`, several words…): line, key, why.
    pub unreadable: Vec<(usize, String, String)>,
    pub functions: Vec<Function>,
    /// `${NAME:-default}` defaults met in assignments: NAME, default.
    pub defaults: Vec<(String, String)>,
    /// Top-level lines that are neither assignments, functions nor comments.
    pub other: Vec<Statement>,
}

impl Script {
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().rev().find(|f| f.name == name)
    }
}

/// Lines with `\` continuations joined, each with the number of its first line.
fn logical_lines(text: &str) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let mut joined = line.to_owned();
        while joined.ends_with('\\') && !joined.trim_start().starts_with('#') {
            joined.pop();
            match lines.next() {
                Some((_, next)) => {
                    joined.push(' ');
                    joined.push_str(next.trim());
                }
                None => break,
            }
        }
        out.push(Statement { line: i + 1, text: joined });
    }
    out
}

/// `name() {`, `name () {`, `name()` (its `{` on the next line) or
/// `function name {`: the function's name and what follows its `{`.
fn function_start(line: &str) -> Option<(String, Option<String>)> {
    let t = line.trim();
    let t = t.strip_prefix("function ").unwrap_or(t);
    let end = t.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let (name, rest) = t.split_at(end);
    if name.is_empty() {
        return None;
    }
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("()").map_or(rest, str::trim_start);
    if rest.is_empty() && t.len() > name.len() {
        return Some((name.to_owned(), None));
    }
    rest.strip_prefix('{').map(|after| (name.to_owned(), Some(after.trim().to_owned())))
}

/// Reads a script's structure; nothing in it is run.
pub fn read(text: &str) -> Script {
    let mut s = Script::default();
    let lines = logical_lines(text);
    let mut i = 0;
    while i < lines.len() {
        let st = &lines[i];
        i += 1;
        let t = st.text.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some((name, after)) = function_start(t).filter(|_| !t.contains('=')) {
            let mut body = Vec::new();
            let open = after.is_some();
            let after = after.unwrap_or_default();
            if !open {
                // `name()` then `{` alone on the next line.
                if lines.get(i).is_some_and(|l| l.text.trim() == "{") {
                    i += 1;
                } else {
                    s.other.push(st.clone());
                    continue;
                }
            }
            // A one-line definition: `name() { cmd; }`.
            if let Some(inner) = after.strip_suffix('}') {
                for part in inner.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                    body.push(Statement { line: st.line, text: part.to_owned() });
                }
                s.functions.push(Function { name, line: st.line, body });
                continue;
            }
            if !after.is_empty() {
                body.push(Statement { line: st.line, text: after });
            }
            let indent = st.text.len() - st.text.trim_start().len();
            while i < lines.len() {
                let l = &lines[i];
                i += 1;
                let lt = l.text.trim();
                if lt == "}" && l.text.len() - l.text.trim_start().len() <= indent {
                    break;
                }
                if !lt.is_empty() && !lt.starts_with('#') {
                    body.push(Statement { line: l.line, text: lt.to_owned() });
                }
            }
            s.functions.push(Function { name, line: st.line, body });
            continue;
        }
        match assignment(t, &mut s.defaults) {
            Some(Ok((key, value, exported))) => s.assigns.push(Assign { line: st.line, key, value, exported }),
            Some(Err((key, why))) => s.unreadable.push((st.line, key, why)),
            None => s.other.push(Statement { line: st.line, text: t.to_owned() }),
        }
    }
    s
}

/// `[export] KEY=value`: the value as one word of data, or why it is not.
#[allow(clippy::type_complexity)]
fn assignment(
    line: &str,
    defaults: &mut Vec<(String, String)>,
) -> Option<Result<(String, String, bool), (String, String)>> {
    let (exported, rest) = match line.strip_prefix("export ") {
        Some(r) => (true, r.trim_start()),
        None => (false, line),
    };
    let (key, raw) = rest.split_once('=')?;
    if key.is_empty()
        || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || key.starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let raw = strip_comment(raw);
    let raw = defaults_as_references(&raw, defaults);
    Some(match words::split(&raw, Dialect::Shell) {
        Ok(ws) if ws.len() <= 1 => {
            let value = ws.first().map(|w| text_of(w)).unwrap_or_default();
            Ok((key.to_owned(), value, exported))
        }
        Ok(_) => Err((key.to_owned(), "an unquoted value of several words: the shell would run the rest".into())),
        Err(e) => Err((key.to_owned(), e)),
    })
}

/// A word as text with each reference written `${NAME}`.
pub fn text_of(word: &[Piece]) -> String {
    word.iter()
        .map(|p| match p {
            Piece::Lit(l) => l.clone(),
            Piece::Var { name, .. } => format!("${{{name}}}"),
        })
        .collect()
}

/// The text before an unquoted ` #` comment.
fn strip_comment(raw: &str) -> String {
    let mut quote = None;
    let mut prev = ' ';
    for (at, c) in raw.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev.is_whitespace() => return raw[..at].trim_end().to_owned(),
            _ => {}
        }
        prev = c;
    }
    raw.trim_end().to_owned()
}

/// `${NAME:-default}` (and `-`, `:=`, `=`) with a plain default: written
/// `${NAME}`, resolved later (conf.d may set NAME), its default recorded.
pub fn defaults_as_references(raw: &str, defaults: &mut Vec<(String, String)>) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let name_end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        let (name, tail) = after.split_at(name_end);
        let op = [":-", ":=", "-", "="].into_iter().find(|op| tail.starts_with(op));
        match (op, tail.find('}')) {
            (Some(op), Some(close))
                if !name.is_empty() && !tail[op.len()..close].contains(['$', '`', '"', '\'', '\\', '{']) =>
            {
                out.push_str(&format!("${{{name}}}"));
                defaults.push((name.to_owned(), tail[op.len()..close].to_owned()));
                rest = &tail[close + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
