//! Readers for the languages initkit writes, as the hostile-text tests need
//! them: a POSIX sh lexer, systemd's unit syntax and Exec word splitting,
//! supervisord's INI. Each reads what the language's own reader would see, so
//! a value that escaped its quoting shows up as a different token stream.
#![allow(dead_code)]

/// A token of a sh script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A word as written (quotes included).
    Word(String),
    Op(String),
    Newline,
    /// A comment's text after `#`.
    Comment(String),
}

struct Sh<'a> {
    c: &'a [char],
    i: usize,
}

impl Sh<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.c.get(self.i + k).copied()
    }

    fn fail(&self, what: &str) -> String {
        format!("{what} at char {}", self.i)
    }

    fn single(&mut self) -> Result<(), String> {
        self.i += 1;
        while self.peek(0) != Some('\'') {
            if self.peek(0).is_none() {
                return Err(self.fail("unclosed single quote"));
            }
            self.i += 1;
        }
        self.i += 1;
        Ok(())
    }

    fn double(&mut self) -> Result<(), String> {
        self.i += 1;
        loop {
            match self.peek(0) {
                None => return Err(self.fail("unclosed double quote")),
                Some('"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some('\\') => self.i += 2,
                Some('`') => self.backtick()?,
                Some('$') => self.dollar()?,
                Some(_) => self.i += 1,
            }
        }
    }

    fn backtick(&mut self) -> Result<(), String> {
        self.i += 1;
        loop {
            match self.peek(0) {
                None => return Err(self.fail("unclosed backquote")),
                Some('`') => {
                    self.i += 1;
                    return Ok(());
                }
                Some('\\') => self.i += 2,
                Some(_) => self.i += 1,
            }
        }
    }

    /// `$(...)`, `$((...))`, `${...}` or a plain `$`.
    fn dollar(&mut self) -> Result<(), String> {
        match self.peek(1) {
            Some('(') => {
                self.i += 2;
                let mut depth = 1;
                while depth > 0 {
                    match self.peek(0) {
                        None => return Err(self.fail("unclosed $(")),
                        Some('(') => {
                            depth += 1;
                            self.i += 1;
                        }
                        Some(')') => {
                            depth -= 1;
                            self.i += 1;
                        }
                        Some('\'') => self.single()?,
                        Some('"') => self.double()?,
                        Some('`') => self.backtick()?,
                        Some('\\') => self.i += 2,
                        Some(_) => self.i += 1,
                    }
                }
                Ok(())
            }
            Some('{') => {
                self.i += 2;
                loop {
                    match self.peek(0) {
                        None => return Err(self.fail("unclosed ${")),
                        Some('}') => {
                            self.i += 1;
                            return Ok(());
                        }
                        Some('\'') => self.single()?,
                        Some('"') => self.double()?,
                        Some('$') => self.dollar()?,
                        Some('\\') => self.i += 2,
                        Some(_) => self.i += 1,
                    }
                }
            }
            _ => {
                self.i += 1;
                Ok(())
            }
        }
    }
}

fn is_op(c: char) -> bool {
    matches!(c, ';' | '&' | '|' | '(' | ')' | '<' | '>')
}

/// Splits a sh script into tokens. Heredocs are not used by initkit's scripts.
pub fn sh(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut s = Sh { c: &chars, i: 0 };
    let mut out = Vec::new();
    loop {
        while matches!(s.peek(0), Some(' ' | '\t')) || (s.peek(0) == Some('\\') && s.peek(1) == Some('\n')) {
            s.i += if s.peek(0) == Some('\\') { 2 } else { 1 };
        }
        let Some(c) = s.peek(0) else { break };
        match c {
            '\n' => {
                out.push(Tok::Newline);
                s.i += 1;
            }
            '#' => {
                let start = s.i + 1;
                while s.peek(0).is_some_and(|c| c != '\n') {
                    s.i += 1;
                }
                out.push(Tok::Comment(chars[start..s.i].iter().collect()));
            }
            c if is_op(c) => {
                let two: String = chars[s.i..(s.i + 2).min(chars.len())].iter().collect();
                let op = if [";;", "&&", "||", ">>", ">&", "<&", "<<", "<>"].contains(&two.as_str()) {
                    two
                } else {
                    c.to_string()
                };
                s.i += op.chars().count();
                out.push(Tok::Op(op));
            }
            _ => {
                let start = s.i;
                while let Some(c) = s.peek(0) {
                    match c {
                        ' ' | '\t' | '\n' => break,
                        c if is_op(c) => break,
                        '\\' => s.i += 2,
                        '\'' => s.single()?,
                        '"' => s.double()?,
                        '`' => s.backtick()?,
                        '$' => s.dollar()?,
                        _ => s.i += 1,
                    }
                }
                out.push(Tok::Word(chars[start..s.i.min(chars.len())].iter().collect()));
            }
        }
    }
    Ok(out)
}

/// A sh word after quote removal (expansions are kept as written).
pub fn sh_unquote(word: &str) -> String {
    let mut out = String::new();
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(n @ ('$' | '`' | '"' | '\\')) => out.push(n),
                            Some('\n') => {}
                            Some(n) => {
                                out.push('\\');
                                out.push(n);
                            }
                            None => out.push('\\'),
                        },
                        c => out.push(c),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(n) => out.push(n),
            },
            c => out.push(c),
        }
    }
    out
}

/// A logical line of a systemd unit: a section header or `Key=Value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitLine {
    Section(String),
    Entry(String, String),
    Comment(String),
}

/// Reads a unit as systemd does: `\` at the end of a line continues it (with a
/// space), `#` and `;` start comments, blank lines are skipped.
pub fn unit(src: &str) -> Result<Vec<UnitLine>, String> {
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for raw in src.split('\n') {
        let line = raw.trim();
        let comment = line.starts_with('#') || line.starts_with(';');
        let joined = if let Some(mut p) = pending.take() {
            // A comment inside a continued line is skipped, as systemd does.
            if comment {
                pending = Some(p);
                continue;
            }
            p.push(' ');
            p.push_str(line);
            p
        } else {
            if line.is_empty() {
                continue;
            }
            if comment {
                out.push(UnitLine::Comment(line[1..].to_owned()));
                continue;
            }
            line.to_owned()
        };
        if let Some(stripped) = joined.strip_suffix('\\') {
            pending = Some(stripped.to_owned());
            continue;
        }
        if joined.starts_with('[') && joined.ends_with(']') {
            out.push(UnitLine::Section(joined[1..joined.len() - 1].to_owned()));
        } else if let Some((k, v)) = joined.split_once('=') {
            out.push(UnitLine::Entry(k.trim().to_owned(), v.trim().to_owned()));
        } else {
            return Err(format!("not a unit line: {joined:?}"));
        }
    }
    if let Some(p) = pending {
        return Err(format!("a continued line runs off the end: {p:?}"));
    }
    Ok(out)
}

/// Splits a value into words as systemd's Exec= and Environment= do: quotes
/// group, C escapes are decoded. Specifiers (`%%`) and `$$` are left to [`systemd_specifiers`].
pub fn systemd_words(value: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut word = String::new();
        let quote = if first == '"' || first == '\'' { chars.next() } else { None };
        loop {
            let Some(c) = chars.next() else {
                if quote.is_some() {
                    return Err(format!("unclosed quote in {value:?}"));
                }
                break;
            };
            match c {
                c if Some(c) == quote => break,
                c if quote.is_none() && c.is_whitespace() => break,
                '\\' => match chars.next() {
                    Some('n') => word.push('\n'),
                    Some('t') => word.push('\t'),
                    Some('r') => word.push('\r'),
                    Some('x') => {
                        let hex: String = chars.by_ref().take(2).collect();
                        let b = u8::from_str_radix(&hex, 16).map_err(|_| format!("bad \\x in {value:?}"))?;
                        word.push(char::from(b));
                    }
                    Some(n) => word.push(n),
                    None => return Err(format!("trailing backslash in {value:?}")),
                },
                c => word.push(c),
            }
        }
        words.push(word);
    }
    Ok(words)
}

/// `%%` to `%` and, for Exec lines, `$$` to `$`; other specifiers stay.
pub fn systemd_specifiers(text: &str, dollars: bool) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if (c == '%' || (dollars && c == '$')) && chars.peek() == Some(&c) {
            chars.next();
        }
        out.push(c);
    }
    out
}

/// A line of a supervisord INI file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IniLine {
    Section(String),
    Entry(String, String),
    Comment(String),
}

pub fn ini(src: &str) -> Result<Vec<IniLine>, String> {
    let mut out = Vec::new();
    for line in src.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix(';').or_else(|| line.strip_prefix('#')) {
            out.push(IniLine::Comment(c.to_owned()));
        } else if line.starts_with(char::is_whitespace) {
            return Err(format!("a continuation line: {line:?}"));
        } else if line.starts_with('[') && line.ends_with(']') {
            out.push(IniLine::Section(line[1..line.len() - 1].to_owned()));
        } else if let Some((k, v)) = line.split_once('=') {
            out.push(IniLine::Entry(k.trim().to_owned(), v.trim().to_owned()));
        } else {
            return Err(format!("not an INI line: {line:?}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sh_words_and_quotes() {
        let t = sh("a 'b c' \"d $(e \"f\")\" ${g#*=} # h\ni|j;;").unwrap();
        assert_eq!(
            t,
            vec![
                Tok::Word("a".into()),
                Tok::Word("'b c'".into()),
                Tok::Word("\"d $(e \"f\")\"".into()),
                Tok::Word("${g#*=}".into()),
                Tok::Comment(" h".into()),
                Tok::Newline,
                Tok::Word("i".into()),
                Tok::Op("|".into()),
                Tok::Word("j".into()),
                Tok::Op(";;".into()),
            ]
        );
        assert_eq!(sh_unquote("'it'\\''s' a\"b\\$\""), "it's ab$");
    }
}
