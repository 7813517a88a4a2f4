//! Command lines of the source formats split into words: systemd's
//! `ExecStart=` quoting and the shell's, with `$VAR` references kept apart
//! from literal text so that they become recipe settings, never code.

use super::draft::lit;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    /// A variable reference; `split` when it stands alone unquoted (`$OPTS`),
    /// so its value is word-split.
    Var {
        name: String,
        split: bool,
    },
}

pub type Word = Vec<Piece>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// systemd: `$X` alone splits, `${X}` does not; `\` escapes in quotes too.
    Systemd,
    /// POSIX sh: unquoted `$X`/`${X}` alone splits, quoted does not.
    Shell,
}

/// Splits a line into words; `Err` says what is wrong (an unclosed quote,
/// or shell syntax such as `$(…)` that is code, not data).
pub fn split(line: &str, dialect: Dialect) -> Result<Vec<Word>, String> {
    let mut words = Vec::new();
    let mut word: Word = Vec::new();
    let mut lit_buf = String::new();
    let mut started = false;
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    let flush = |buf: &mut String, word: &mut Word| {
        if !buf.is_empty() {
            word.push(Piece::Lit(std::mem::take(buf)));
        }
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if started {
                    flush(&mut lit_buf, &mut word);
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) if dialect == Dialect::Shell => lit_buf.push(c),
            (_, '\\') => {
                started = true;
                match chars.next() {
                    Some('n') if dialect == Dialect::Systemd => lit_buf.push('\n'),
                    Some('t') if dialect == Dialect::Systemd => lit_buf.push('\t'),
                    Some(n) => lit_buf.push(n),
                    None => return Err("a `\\` ends the line".into()),
                }
            }
            (q, '$') if !(dialect == Dialect::Systemd && q == Some('\'')) => {
                started = true;
                // systemd writes a literal `$` as `$$`.
                if dialect == Dialect::Systemd && chars.peek() == Some(&'$') {
                    chars.next();
                    lit_buf.push('$');
                    continue;
                }
                let braced = chars.peek() == Some(&'{');
                if braced {
                    chars.next();
                }
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if braced && chars.next() != Some('}') {
                    return Err("`${` is not a plain `${NAME}` reference".into());
                }
                if name.is_empty() {
                    if dialect == Dialect::Shell && matches!(chars.peek(), Some('(' | '?' | '$' | '!' | '@' | '*')) {
                        return Err("shell code (`$(…)`, `$?`, `$@`…) in a command".into());
                    }
                    lit_buf.push('$');
                    continue;
                }
                if dialect == Dialect::Shell && name.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(format!("a positional parameter `${name}` in a command"));
                }
                flush(&mut lit_buf, &mut word);
                let alone = word.is_empty()
                    && chars.peek().is_none_or(|n| n.is_whitespace())
                    && match dialect {
                        Dialect::Systemd => !braced && q.is_none(),
                        Dialect::Shell => q.is_none(),
                    };
                word.push(Piece::Var { name, split: alone });
            }
            (None, '`' | ';' | '|' | '&' | '<' | '>' | '(' | ')') if dialect == Dialect::Shell => {
                return Err(format!("shell syntax `{c}` in a command"));
            }
            (Some('"'), '`') if dialect == Dialect::Shell => return Err("a backquote in a command".into()),
            (_, c) => {
                started = true;
                lit_buf.push(c);
            }
        }
    }
    if quote.is_some() {
        return Err("a quote is not closed".into());
    }
    if started {
        flush(&mut lit_buf, &mut word);
        words.push(word);
    }
    Ok(words)
}

/// A word as a recipe template: literal text with braces doubled, settings
/// as `{NAME}`, a split setting as `{NAME...}`.
pub fn template(word: &Word) -> String {
    template_with_instance(word, None)
}

/// As [`template`], with the variable that names the instance (a
/// Procfile's `$PORT`, an Upstart job's `instance $X`) as `{instance}`.
pub fn template_with_instance(word: &Word, instance: Option<&str>) -> String {
    template_naming(word, instance, "{instance}")
}

/// As [`template`], with the variable `var` written as the template `to`
/// (a Procfile's `$PORT` as `{port}` in a recipe of `new`).
pub fn template_naming(word: &Word, var: Option<&str>, to: &str) -> String {
    word.iter()
        .map(|p| match p {
            Piece::Lit(l) => lit(l),
            Piece::Var { name, .. } if Some(name.as_str()) == var => to.to_owned(),
            Piece::Var { name, split: true } => format!("{{{name}...}}"),
            Piece::Var { name, split: false } => format!("{{{name}}}"),
        })
        .collect()
}

/// The variables a command names, in order, once each.
pub fn vars(words: &[Word]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in words.iter().flatten() {
        if let Piece::Var { name, .. } = p
            && !out.contains(name)
        {
            out.push(name.clone());
        }
    }
    out
}

/// A word with no variable in it, as plain text.
pub fn plain(word: &Word) -> Option<String> {
    word.iter()
        .map(|p| match p {
            Piece::Lit(l) => Some(l.as_str()),
            Piece::Var { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(line: &str, d: Dialect) -> Vec<String> {
        split(line, d).unwrap().iter().map(template).collect()
    }

    #[test]
    fn systemd_quoting_and_references() {
        assert_eq!(
            t(r#"/usr/sbin/x -c "/etc/x y.conf" $OPTS ${ONE} --a=${B}c '{lit}' a$$b"#, Dialect::Systemd),
            ["/usr/sbin/x", "-c", "/etc/x y.conf", "{OPTS...}", "{ONE}", "--a={B}c", "{{lit}}", "a$b"]
        );
    }

    #[test]
    fn the_instance_variable_is_the_instance_and_literal_braces_stay_literal() {
        let words = split("/bin/app -p $PORT --x={PORT} ${PORT}b", Dialect::Shell).unwrap();
        let t: Vec<String> = words.iter().map(|w| template_with_instance(w, Some("PORT"))).collect();
        assert_eq!(t, ["/bin/app", "-p", "{instance}", "--x={{PORT}}", "{instance}b"]);
    }

    #[test]
    fn shell_code_is_refused_not_carried() {
        assert_eq!(t(r#"$DAEMON -p "$PORT" $OPTS"#, Dialect::Shell), ["{DAEMON...}", "-p", "{PORT}", "{OPTS...}"]);
        for code in ["x $(id)", "x `id`", "x; rm -rf /", "x | y", "x > /tmp/y", "x \"$1\""] {
            assert!(split(code, Dialect::Shell).is_err(), "{code}");
        }
        assert!(split("x \"unclosed", Dialect::Systemd).is_err());
    }
}
