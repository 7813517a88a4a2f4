//! The `KEY=VALUE` format of settings and environment files, written and read
//! exactly as systemd's `EnvironmentFile=` reads it (and as the scripts'
//! `ik_unquote` does): surrounding blanks dropped; `'…'` literal; `"…"` with
//! `\"`, `\\`, `` \` `` and `\$` escapes; otherwise each `\X` is `X`.

use super::{Artifact, Layout, facts};
use crate::recipe::Recipe;

fn plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ':' | ',' | '@' | '=' | '%')
}

/// A value as it is written after `KEY=`: bare when nothing in it is read
/// specially, in single quotes otherwise, in double quotes with escapes when
/// it holds a single quote. A value is one line (validation refuses others).
pub fn value(v: &str) -> String {
    if !v.is_empty() && v.chars().all(plain) {
        return v.to_owned();
    }
    if !v.contains('\'') {
        return format!("'{v}'");
    }
    let mut out = String::from("\"");
    for c in v.chars() {
        if matches!(c, '"' | '\\' | '`' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A `KEY=VALUE` line.
pub fn line(key: &str, v: &str) -> String {
    format!("{key}={}\n", value(v))
}

/// Reads a value written after `KEY=`.
pub fn unquote(raw: &str) -> String {
    let v = raw.trim_matches([' ', '\t']);
    let unescape = |text: &str, only: Option<&str>| {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some(n) if only.is_none_or(|set| set.contains(n)) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        }
        out
    };
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        v[1..v.len() - 1].to_owned()
    } else if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        unescape(&v[1..v.len() - 1], Some("\"\\`$"))
    } else {
        unescape(v, None)
    }
}

/// The `KEY=VALUE` lines of a file: `#` and `;` comments and blank lines
/// skipped, lines without `=` ignored.
pub fn parse(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, v)) = line.split_once('=') else { continue };
        out.push((key.to_owned(), unquote(v)));
    }
    out
}

/// The root-only file of the recipe's literal environment values, when it has any.
pub fn render(recipe: &Recipe, layout: &Layout) -> Option<Artifact> {
    if !facts::has_env_file(recipe) {
        return None;
    }
    let mut content =
        format!("# The environment of {}, from its recipe; root only, as it may hold secrets.\n", recipe.name);
    for (key, v) in &recipe.run.environment {
        if let Some(literal) = v.as_literal() {
            content.push_str(&line(key, &literal));
        }
    }
    Some(Artifact { path: facts::env_file(recipe, layout), mode: 0o600, content, shared: true })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn values_read_back() {
        for v in ["6379", "a b", "it's", "$HOME", "\\", "\"q\"", "`x`", " lead", "", "ü ✓", "a'b\"c\\d$e`f"] {
            assert_eq!(unquote(&value(v)), v, "{v:?} as {}", value(v));
        }
        assert_eq!(
            parse("# c\n\nport=1\nname=\"a b\"\nq='x'\nbad\nraw=\"half\nk==v\n; c\ne=a\\ b\n"),
            [("port", "1"), ("name", "a b"), ("q", "x"), ("raw", "\"half"), ("k", "=v"), ("e", "a b")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    proptest! {
        #[test]
        fn any_one_line_value_reads_back(v in "[^\n\r]{0,40}") {
            prop_assert_eq!(unquote(&value(&v)), v);
        }
    }
}
