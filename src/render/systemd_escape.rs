//! Quoting for systemd unit files: Exec lines, Environment= assignments and specifiers.

use crate::recipe::{Segment, Template};

fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ':' | ',' | '@' | '=')
}

/// Escapes text for inside a double-quoted systemd word. `dollar` also doubles
/// `$`, which Exec lines expand and Environment= does not.
fn escape_into(out: &mut String, text: &str, dollar: bool) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '%' => out.push_str("%%"),
            '$' if dollar => out.push_str("$$"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            c => out.push(c),
        }
    }
}

/// Free text as a directive's whole value (`Description=`, `Documentation=`):
/// specifiers are doubled (`%%`), and a control character, which validation
/// already refuses, becomes a space, so the value stays on its line.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '%' => out.push_str("%%"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// How a variable appears in a unit: a specifier (`%I`), an environment
/// reference (`${port}`), or text that must itself be escaped.
pub enum Piece {
    Raw(String),
    Text(String),
}

/// One argument of an Exec line. Plain words stay bare; others are
/// double-quoted with `\`, `"`, `%` and `$` escaped.
pub fn exec_word(template: &Template, var: &dyn Fn(&str) -> Piece) -> String {
    // `{x...}` is a whole argument: systemd splits an unquoted `$x` at blanks
    // into words, each its own argument, and an empty value into none.
    if let [Segment::Words(name)] = template.segments.as_slice() {
        return match var(name) {
            Piece::Raw(raw) => match raw.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                Some(env) => format!("${env}"),
                None => raw,
            },
            Piece::Text(text) => {
                let words: Vec<String> = text.split_whitespace().map(exec_literal).collect();
                words.join(" ")
            }
        };
    }
    let mut body = String::new();
    let mut plain = !template.segments.is_empty();
    for segment in &template.segments {
        match segment {
            Segment::Literal(text) => {
                plain &= text.chars().all(is_plain);
                escape_into(&mut body, text, true);
            }
            Segment::Var(name) | Segment::Words(name) => match var(name) {
                Piece::Raw(raw) => body.push_str(&raw),
                Piece::Text(text) => {
                    plain &= text.chars().all(is_plain);
                    escape_into(&mut body, &text, true);
                }
            },
        }
    }
    if plain { body } else { format!("\"{body}\"") }
}

/// A literal argument of an Exec line.
pub fn exec_literal(text: &str) -> String {
    exec_word(&Template::literal(text), &|_| Piece::Text(String::new()))
}

/// An `Environment=` assignment, quoted as one word.
pub fn environment(key: &str, value: &Template, var: &dyn Fn(&str) -> Piece) -> String {
    let mut body = format!("{key}=");
    for segment in &value.segments {
        match segment {
            Segment::Literal(text) => escape_into(&mut body, text, false),
            Segment::Var(name) | Segment::Words(name) => match var(name) {
                Piece::Raw(raw) => body.push_str(&raw),
                Piece::Text(text) => escape_into(&mut body, &text, false),
            },
        }
    }
    format!("\"{body}\"")
}

/// A path in a directive that takes one path and expands specifiers (`%` doubled).
pub fn path(template: &Template, var: &dyn Fn(&str) -> Piece) -> String {
    let mut out = String::new();
    for segment in &template.segments {
        match segment {
            Segment::Literal(text) => out.push_str(&text.replace('%', "%%")),
            Segment::Var(name) | Segment::Words(name) => match var(name) {
                Piece::Raw(raw) => out.push_str(&raw),
                Piece::Text(text) => out.push_str(&text.replace('%', "%%")),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Piece {
        Piece::Text(String::new())
    }

    #[test]
    fn plain_words_stay_bare_and_others_are_quoted() {
        assert_eq!(exec_literal("/usr/bin/redis-server"), "/usr/bin/redis-server");
        assert_eq!(exec_literal("daemon off;"), "\"daemon off;\"");
        assert_eq!(exec_literal("50%"), "\"50%%\"");
        assert_eq!(exec_literal("$HOME"), "\"$$HOME\"");
        assert_eq!(exec_literal("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(exec_literal(""), "\"\"");
    }

    #[test]
    fn variables_become_references() {
        let t = Template::parse("--port={port}").unwrap();
        assert_eq!(exec_word(&t, &|v| Piece::Raw(format!("${{{v}}}"))), "--port=${port}");
        let t = Template::parse("/etc/redis/{instance}.conf").unwrap();
        assert_eq!(exec_word(&t, &|_| Piece::Raw("%I".into())), "/etc/redis/%I.conf");
    }

    #[test]
    fn split_arguments_are_bare_references() {
        let t = Template::parse("{opts...}").unwrap();
        assert_eq!(exec_word(&t, &|v| Piece::Raw(format!("${{{v}}}"))), "$opts");
        assert_eq!(exec_word(&t, &|_| Piece::Text("-a  'b c'".into())), "-a \"'b\" \"c'\"");
    }

    #[test]
    fn environment_keeps_dollars() {
        let t = Template::parse("a $b 5%").unwrap();
        assert_eq!(environment("K", &t, &none), "\"K=a $b 5%%\"");
    }
}
