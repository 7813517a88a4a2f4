//! POSIX sh quoting: every value that lands in a script goes through here.

use crate::recipe::{Segment, Template};

/// Characters that never need quoting in sh.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ':' | ',' | '@' | '%' | '=')
}

/// Quotes `s` as one sh word. Single quotes keep everything literal, newlines
/// included; an embedded `'` is closed, escaped and reopened.
pub fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(is_plain) && !s.starts_with('=') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Text for one comment line (`# ...`) or LSB header value: a control
/// character, which validation already refuses, could only end the comment and
/// start a command, so each becomes a space here too.
pub fn comment(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Renders a template as one sh word: literals quoted, variables as
/// double-quoted expansions of the shell variable `var(name)` names, so a
/// value is data and is never split, globbed or evaluated.
pub fn word(template: &Template, var: &dyn Fn(&str) -> String) -> String {
    if template.segments.is_empty() {
        return "''".to_owned();
    }
    let mut out = String::new();
    for segment in &template.segments {
        match segment {
            Segment::Literal(text) => out.push_str(&quote(text)),
            Segment::Var(name) => {
                out.push_str("\"${");
                out.push_str(&var(name));
                out.push_str("}\"");
            }
            // A whole argument split into words: unquoted, in a command that
            // runs under `set -f` (see `noglob`), so it is split and never globbed.
            Segment::Words(name) => {
                out.push_str("${");
                out.push_str(&var(name));
                out.push('}');
            }
        }
    }
    out
}

/// Whether any of the words is a split `{x...}` argument.
pub fn splits(templates: &[Template]) -> bool {
    templates.iter().any(Template::has_words)
}

/// A command line of a function, run with globbing off when it splits a
/// value into words (`$IFS` is the default: blanks and newlines).
pub fn noglob(line: &str, split: bool) -> String {
    if split {
        format!("# shellcheck disable=SC2086 # split into words on purpose; globbing is off\n    (set -f; {line})")
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn plain_words_stay_bare() {
        assert_eq!(quote("/usr/bin/redis-server"), "/usr/bin/redis-server");
        assert_eq!(quote("--port=6379"), "--port=6379");
    }

    #[test]
    fn quotes_what_the_shell_would_touch() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$HOME `x` *"), "'$HOME `x` *'");
    }

    #[test]
    fn the_shell_reads_back_exactly_what_was_quoted() {
        let nasty =
            ["", "a b", "it's", "\"q\"", "$x ${y} `id`", "*?[a]", "a\nb", "\\", "-n", "=x", "~root", "#c", "é ✓"];
        let mut script = String::from("for a in");
        for n in nasty {
            script.push(' ');
            script.push_str(&quote(n));
        }
        script.push_str("; do printf '%s\\0' \"$a\"; done");
        let out = Command::new("sh").arg("-c").arg(&script).output().expect("run sh");
        let got: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
        let want: Vec<&[u8]> = nasty.iter().map(|s| s.as_bytes()).chain([&b""[..]]).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn template_words_expand_variables_as_data() {
        let t = Template::parse("/etc/x/{instance}'s.conf").unwrap();
        assert_eq!(word(&t, &|v| format!("v_{v}")), "/etc/x/\"${v_instance}\"''\\''s.conf'");
    }
}
