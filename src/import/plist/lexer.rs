//! The XML layer of a property list: tags, text with its entities and
//! CDATA, comments, processing instructions and the DOCTYPE, read from a
//! position that always knows its line.

use super::{super::ini::Problem, short};

/// A problem after which the structure is unknown: it is recorded, and reading stops.
pub(super) struct Fatal;

pub(super) type Step<T> = Result<T, Fatal>;

#[derive(Clone, Copy)]
pub(super) enum Tag<'a> {
    Open(&'a str),
    Close(&'a str),
    Empty(&'a str),
}

#[derive(Clone, Copy)]
pub(super) struct TagAt<'a> {
    pub(super) tag: Tag<'a>,
    pub(super) pos: usize,
}

pub(super) struct Parser<'a> {
    file: &'a str,
    pub(super) text: &'a str,
    pub(super) pos: usize,
    /// The byte offset of each line's start.
    starts: Vec<usize>,
    last_line: usize,
    pub(super) problems: Vec<Problem>,
}

pub(super) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')
}

/// XML's line ends: `\r\n` and a lone `\r` are `\n` in text.
fn push_text(out: &mut String, raw: &str) {
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
}

impl<'a> Parser<'a> {
    pub(super) fn new(file: &'a str, text: &'a str) -> Parser<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let last_line = text.lines().count().max(1);
        Parser { file, text, pos: 0, starts, last_line, problems: Vec::new() }
    }

    pub(super) fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    /// The 1-based line of a byte offset; the end of the file is on its last line.
    pub(super) fn line_at(&self, pos: usize) -> usize {
        self.starts.partition_point(|&s| s <= pos).clamp(1, self.last_line)
    }

    pub(super) fn problem(&mut self, pos: usize, message: impl Into<String>) {
        let line = self.line_at(pos);
        self.problem_line(line, message);
    }

    pub(super) fn problem_line(&mut self, line: usize, message: impl Into<String>) {
        self.problems.push(Problem { file: self.file.to_owned(), line, message: message.into() });
    }

    pub(super) fn fatal(&mut self, pos: usize, message: impl Into<String>) -> Fatal {
        self.problem(pos, message);
        Fatal
    }

    pub(super) fn truncated(&mut self, inside: &str, open: usize) -> Fatal {
        let line = self.line_at(open);
        self.fatal(self.text.len(), format!("the file ends inside <{inside}> (opened on line {line}): it is truncated"))
    }

    /// Moves past `end`, searching after the `skip` bytes that open the construct.
    pub(super) fn skip_past(&mut self, skip: usize, end: &str, what: &str) -> Step<()> {
        let start = self.pos;
        match self.text.get(start + skip..).and_then(|r| r.find(end)) {
            Some(i) => {
                self.pos = start + skip + i + end.len();
                Ok(())
            }
            None => Err(self.fatal(start, format!("{what} is not closed with `{end}`: the file is truncated"))),
        }
    }

    /// Blanks, comments and processing instructions between elements.
    pub(super) fn skip_misc(&mut self) -> Step<()> {
        loop {
            let trimmed = self.rest().trim_start_matches(is_space);
            self.pos = self.text.len() - trimmed.len();
            if trimmed.starts_with("<!--") {
                self.skip_past(4, "-->", "a comment")?;
            } else if trimmed.starts_with("<?") {
                self.skip_past(2, "?>", "a processing instruction")?;
            } else {
                return Ok(());
            }
        }
    }

    /// `<!DOCTYPE …>`, with its internal subset (`[…]`) if it has one.
    pub(super) fn doctype(&mut self) -> Step<()> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        for (i, c) in self.rest().char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (None, '"' | '\'') => quote = Some(c),
                (None, '[') => depth += 1,
                (None, ']') => depth = depth.saturating_sub(1),
                (None, '>') if depth == 0 => {
                    self.pos = start + i + 1;
                    return Ok(());
                }
                _ => {}
            }
        }
        Err(self.fatal(start, "<!DOCTYPE is not closed with `>`: the file is truncated"))
    }

    /// A tag at `<`: its kind and name; attributes are read past.
    pub(super) fn tag(&mut self) -> Step<TagAt<'a>> {
        let start = self.pos;
        let close = self.text[start + 1..].starts_with('/');
        let body_start = start + 1 + usize::from(close);
        let body = &self.text[body_start..];
        let name_len = body.find(|c: char| !name_char(c)).unwrap_or(body.len());
        let name = &body[..name_len];
        if name.is_empty() {
            return Err(self.fatal(start, "a `<` that starts no tag (in text, write `&lt;`)"));
        }
        let tail = &body[name_len..];
        let mut quote: Option<char> = None;
        for (i, c) in tail.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (None, '"' | '\'') => quote = Some(c),
                (None, '<') => {
                    return Err(self.fatal(start, format!("the tag <{}> is not closed with `>`", short(name))));
                }
                (None, '>') => {
                    self.pos = body_start + name_len + i + 1;
                    let tag = if close {
                        Tag::Close(name)
                    } else if tail[..i].trim_end_matches(is_space).ends_with('/') {
                        Tag::Empty(name)
                    } else {
                        Tag::Open(name)
                    };
                    return Ok(TagAt { tag, pos: start });
                }
                _ => {}
            }
        }
        Err(self.fatal(start, format!("the tag <{}> is not closed: the file is truncated", short(name))))
    }

    pub(super) fn expect_close(&mut self, want: &str, got: &str, pos: usize, open: usize) -> Step<()> {
        if want == got {
            return Ok(());
        }
        let line = self.line_at(open);
        Err(self.fatal(pos, format!("</{}> closes <{want}> (opened on line {line})", short(got))))
    }

    /// The text of `<name>` up to its end tag: entities resolved, CDATA
    /// kept as it is, comments left out.
    pub(super) fn text(&mut self, name: &str, open: usize) -> Step<String> {
        let mut out = String::new();
        loop {
            let rest = self.rest();
            let Some(i) = rest.find(['<', '&']) else {
                return Err(self.truncated(name, open));
            };
            push_text(&mut out, &rest[..i]);
            self.pos += i;
            let rest = self.rest();
            if rest.starts_with('&') {
                self.entity(&mut out);
            } else if rest.starts_with("<![CDATA[") {
                let start = self.pos + 9;
                self.skip_past(9, "]]>", "a CDATA section")?;
                push_text(&mut out, &self.text[start..self.pos - 3]);
            } else if rest.starts_with("<!--") {
                self.skip_past(4, "-->", "a comment")?;
            } else if rest.starts_with("<?") {
                self.skip_past(2, "?>", "a processing instruction")?;
            } else {
                let tag = self.tag()?;
                return match tag.tag {
                    Tag::Close(got) => self.expect_close(name, got, tag.pos, open).map(|()| out),
                    Tag::Open(inner) | Tag::Empty(inner) => {
                        Err(self.fatal(tag.pos, format!("<{}> inside <{name}>, which holds text only", short(inner))))
                    }
                };
            }
        }
    }

    /// `<true></true>`: nothing but blanks and comments inside.
    pub(super) fn empty(&mut self, name: &str, open: usize) -> Step<()> {
        let text = self.text(name, open)?;
        if !text.trim_matches(is_space).is_empty() {
            self.problem(open, format!("<{name}> holds text: write <{name}/>"));
        }
        Ok(())
    }

    /// An entity at `&`: its character added to `out`, or a problem.
    pub(super) fn entity(&mut self, out: &mut String) {
        let start = self.pos;
        let rest = self.rest();
        let end = rest.char_indices().skip(1).take(12).find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '#'));
        let Some((end, ';')) = end else {
            self.problem(start, "a `&` that starts no entity (in text, write `&amp;`)");
            out.push('&');
            self.pos += 1;
            return;
        };
        let name = &rest[1..end];
        self.pos += end + 1;
        let c = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => {
                let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    Some(hex) if !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
                        u32::from_str_radix(hex, 16).ok()
                    }
                    Some(_) => None,
                    None => name.strip_prefix('#').filter(|d| !d.is_empty()).and_then(|d| d.parse::<u32>().ok()),
                };
                code.filter(|&c| c != 0).and_then(char::from_u32)
            }
        };
        match c {
            Some(c) => out.push(c),
            None => {
                self.problem(start, format!("`&{}` is not an entity a property list may hold", short(&rest[1..=end])));
            }
        }
    }

    /// Past an unknown element and everything in it.
    pub(super) fn skip_element(&mut self, name: &str, open: usize) -> Step<()> {
        let mut depth = 1usize;
        while depth > 0 {
            let rest = self.rest();
            let Some(i) = rest.find('<') else {
                return Err(self.truncated(name, open));
            };
            self.pos += i;
            let rest = self.rest();
            if rest.starts_with("<![CDATA[") {
                self.skip_past(9, "]]>", "a CDATA section")?;
            } else if rest.starts_with("<!--") {
                self.skip_past(4, "-->", "a comment")?;
            } else if rest.starts_with("<?") || rest.starts_with("<!") {
                self.skip_past(2, ">", "a declaration")?;
            } else {
                match self.tag()?.tag {
                    Tag::Open(_) => depth += 1,
                    Tag::Close(_) => depth -= 1,
                    Tag::Empty(_) => {}
                }
            }
        }
        Ok(())
    }
}
