//! `ik_conditions` of a script initkit rendered, read back: each test the
//! renderer wrote for a condition (`{ [ -e '/x' ]; }`, `! { ik_cap 21; }`)
//! as the condition it came from, the `||` group as `[conditions.any]`.

use crate::import::words::{self, Dialect, Word};
use crate::recipe::{Condition, ConditionKey, PathTest, Probe, Template, capability::CAPABILITIES};

/// One statement of the function as the own-script reader splits it.
pub struct Line<'a> {
    pub line: usize,
    pub text: &'a str,
}

/// The conditions of `ik_conditions`, each with its line and whether it is
/// of the `||` group; `Err` with the line of a test initkit does not write.
pub fn read(lines: &[Line<'_>]) -> Vec<Result<(usize, Condition, bool), usize>> {
    let mut out = Vec::new();
    let mut group: Vec<(usize, &str)> = Vec::new();
    for l in lines {
        let text = l.text.strip_prefix("if ").unwrap_or(l.text);
        if l.text.starts_with("if ") && !group.is_empty() {
            group.clear();
        }
        if let Some(test) = text.strip_suffix(" ||") {
            group.push((l.line, test));
            continue;
        }
        let Some(at) = outside_quotes(text, "; then") else { continue };
        let last = &text[..at];
        if group.is_empty() {
            out.push(condition(last).map(|c| (l.line, c, false)).ok_or(l.line));
        } else {
            group.push((l.line, last));
            for (line, test) in group.drain(..) {
                out.push(condition(test).map(|c| (line, c, true)).ok_or(line));
            }
        }
    }
    out
}

/// The byte offset of the first `needle` outside sh quotes.
fn outside_quotes(text: &str, needle: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            _ if escaped => escaped = false,
            (None | Some('"'), '\\') => escaped = true,
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, _) if text[i..].starts_with(needle) => return Some(i),
            _ => {}
        }
    }
    None
}

/// `{ TEST; }` or `! { TEST; }` as the condition it tests.
fn condition(text: &str) -> Option<Condition> {
    let (negate, text) = match text.strip_prefix("! ") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let inner = text.strip_prefix("{ ")?.strip_suffix("; }")?;
    let parts: Vec<Vec<Word>> = match outside_quotes(inner, " && ") {
        Some(at) => vec![split(&inner[..at])?, split(&inner[at + 4..])?],
        None => vec![split(inner)?],
    };
    // Each word in template syntax: a path may name the instance
    // (`"${instance}"` is `{instance}`); every other value is literal.
    let templates: Vec<Vec<String>> = parts.iter().map(|ws| ws.iter().map(words::template).collect()).collect();
    let strs: Vec<Vec<&str>> = templates.iter().map(|p| p.iter().map(String::as_str).collect()).collect();
    let path = |test: PathTest, p: &str| (ConditionKey::Path(test), p.to_owned());
    let literal = |t: &str| Template::parse(t).ok()?.as_literal();
    let (key, value) = match strs.as_slice() {
        [w] => match w.as_slice() {
            ["[", flag, p, "]"] => match *flag {
                "-e" => path(PathTest::Exists, p),
                "-d" => path(PathTest::IsDirectory, p),
                "-L" => path(PathTest::IsSymbolicLink, p),
                _ => return None,
            },
            ["ik_dir_not_empty", p] => path(PathTest::DirectoryNotEmpty, p),
            ["ik_read_write", p] => path(PathTest::IsReadWrite, p),
            ["ik_mount_point", p] => path(PathTest::IsMountPoint, p),
            ["ik_virt", v] => (ConditionKey::Virtualization, literal(v)?),
            ["ik_cap", bit] => (ConditionKey::Capability, (*CAPABILITIES.get(bit.parse::<usize>().ok()?)?).to_owned()),
            ["ik_cmdline", word] => (ConditionKey::KernelCommandLine, literal(word)?),
            ["ik_security", s] => (ConditionKey::Security, literal(s)?),
            ["ik_ac_power"] => return Some(Condition::ac_power(!negate)),
            _ => return None,
        },
        [a, b] => match (a.as_slice(), b.as_slice()) {
            (["[", "-f", p, "]"], ["[", "-s", q, "]"]) if p == q => path(PathTest::FileNotEmpty, p),
            (["[", "-f", p, "]"], ["[", "-x", q, "]"]) if p == q => path(PathTest::FileIsExecutable, p),
            _ => return None,
        },
        _ => return None,
    };
    let c = key.parse(&value).ok()?;
    (c.probe != Probe::AcPower).then_some(Condition { negate, ..c })
}

fn split(text: &str) -> Option<Vec<Word>> {
    words::split(text, Dialect::Shell).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sh's `'\''` (a quote inside a quoted word) and a `"` inside single
    /// quotes stay inside the word: the `&&` found is the one between tests.
    #[test]
    fn a_quoted_quote_stays_inside_its_word() {
        let t = r#"{ [ -f '/N"é && '\''Z' ] && [ -s '/N"é && '\''Z' ]; }"#;
        assert_eq!(outside_quotes(t, " && "), Some(t.find("] &&").unwrap() + 1));
        let c = condition(t).unwrap();
        assert_eq!((c.probe, c.negate), (Probe::Path(PathTest::FileNotEmpty, Template::literal("/N\"é && 'Z")), false));
        let c = condition(r#"{ [ -e '/etc/{x}/'"${instance_path}"/a ]; }"#).unwrap();
        assert_eq!(c.value(), "/etc/{{x}}/{instance_path}/a");
        assert!(condition("{ [ -f /a ] && [ -s /b ]; }").is_none(), "two paths are no initkit test");
    }
}
