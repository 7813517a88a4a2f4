//! The values of a property list: `<plist>` and its one value, dictionaries
//! of keys and values, arrays, and the scalars, each with its line.

use super::{
    Entry, Node, Value, base64, integer, is_date,
    lexer::{Parser, Step, Tag, TagAt, is_space},
    short,
};

/// How deep dictionaries and arrays may nest (a job's plist nests three deep):
/// deeper input is refused rather than read by ever deeper recursion.
const MAX_DEPTH: usize = 64;

/// What comes next inside an element that holds values.
enum Item<'a> {
    Start(TagAt<'a>),
    Close(&'a str, usize),
}

impl<'a> Parser<'a> {
    pub(super) fn document(&mut self) -> Step<Node> {
        if self.rest().starts_with('\u{feff}') {
            self.pos += '\u{feff}'.len_utf8();
        }
        self.skip_misc()?;
        if self.rest().starts_with("<!DOCTYPE") {
            self.doctype()?;
            self.skip_misc()?;
        }
        let start = self.pos;
        if !self.rest().starts_with('<') {
            return Err(self.fatal(start, "not an XML property list: expected `<?xml`, `<!DOCTYPE plist` or `<plist>`"));
        }
        let tag = self.tag()?;
        let root = match tag.tag {
            Tag::Open("plist") => self.plist(start)?,
            Tag::Empty("plist") => return Err(self.fatal(start, "an empty <plist/>: it holds no value")),
            Tag::Open(name) | Tag::Empty(name) | Tag::Close(name) => {
                return Err(self.fatal(start, format!("the root element is <{}>, not <plist>", short(name))));
            }
        };
        self.skip_misc()?;
        if self.pos < self.text.len() {
            self.problem(self.pos, "something follows </plist>: a property list ends there");
        }
        Ok(root)
    }

    fn plist(&mut self, open: usize) -> Step<Node> {
        let mut root: Option<Node> = None;
        loop {
            match self.next_item("plist", open)? {
                Item::Close(name, pos) => {
                    self.expect_close("plist", name, pos, open)?;
                    break;
                }
                Item::Start(tag) => {
                    let line = self.line_at(tag.pos);
                    if let Some(v) = self.value(tag, 0)? {
                        if root.is_some() {
                            self.problem_line(line, "a second value in <plist>, which holds one");
                        } else {
                            root = Some(v);
                        }
                    }
                }
            }
        }
        root.ok_or_else(|| self.fatal(open, "<plist> holds no value"))
    }

    /// The next tag inside `inside` (opened at `open`); text there is a problem.
    fn next_item(&mut self, inside: &str, open: usize) -> Step<Item<'a>> {
        loop {
            self.skip_misc()?;
            let rest = self.rest();
            if rest.is_empty() {
                return Err(self.truncated(inside, open));
            }
            if rest.starts_with("<![CDATA[") {
                let at = self.pos;
                self.skip_past(9, "]]>", "a CDATA section")?;
                self.problem(at, format!("text in <{inside}>, outside any value"));
                continue;
            }
            if rest.starts_with("<!") {
                let at = self.pos;
                self.skip_past(2, ">", "a declaration")?;
                self.problem(at, format!("a declaration inside <{inside}>"));
                continue;
            }
            if !rest.starts_with('<') {
                let len = rest.find('<').unwrap_or(rest.len());
                self.problem(
                    self.pos,
                    format!("text `{}` in <{inside}>, outside any value", short(rest[..len].trim())),
                );
                self.pos += len;
                continue;
            }
            let tag = self.tag()?;
            return Ok(match tag.tag {
                Tag::Close(name) => Item::Close(name, tag.pos),
                Tag::Open(_) | Tag::Empty(_) => Item::Start(tag),
            });
        }
    }

    /// The value a start tag opens; `None` for an element that is not one (reported).
    fn value(&mut self, tag: TagAt<'a>, depth: usize) -> Step<Option<Node>> {
        let line = self.line_at(tag.pos);
        let value = match tag.tag {
            Tag::Open("dict") => self.dict(tag.pos, depth + 1)?,
            Tag::Open("array") => self.array(tag.pos, depth + 1)?,
            Tag::Empty("dict") => Value::Dict(Vec::new()),
            Tag::Empty("array") => Value::Array(Vec::new()),
            Tag::Open("string") => Value::String(self.text("string", tag.pos)?),
            Tag::Empty("string") => Value::String(String::new()),
            Tag::Open("true") => self.empty("true", tag.pos).map(|()| Value::Bool(true))?,
            Tag::Open("false") => self.empty("false", tag.pos).map(|()| Value::Bool(false))?,
            Tag::Empty("true") => Value::Bool(true),
            Tag::Empty("false") => Value::Bool(false),
            Tag::Open(kind @ ("integer" | "real" | "date" | "data")) => {
                let text = self.text(kind, tag.pos)?;
                self.scalar(kind, &text, line)
            }
            Tag::Empty("data") => Value::Data(Vec::new()),
            Tag::Empty(kind @ ("integer" | "real" | "date")) => {
                self.problem_line(line, format!("an empty <{kind}/>: it needs a value"));
                Value::Integer(0)
            }
            Tag::Open("key") | Tag::Empty("key") => {
                self.problem_line(line, "a <key> outside a <dict>");
                if matches!(tag.tag, Tag::Open(_)) {
                    self.text("key", tag.pos)?;
                }
                return Ok(None);
            }
            Tag::Open(name) => {
                self.problem_line(line, format!("unknown element <{}>", short(name)));
                self.skip_element(name, tag.pos)?;
                return Ok(None);
            }
            Tag::Empty(name) | Tag::Close(name) => {
                self.problem_line(line, format!("unknown element <{}>", short(name)));
                return Ok(None);
            }
        };
        Ok(Some(Node { line, value }))
    }

    fn scalar(&mut self, kind: &str, text: &str, line: usize) -> Value {
        let t = text.trim_matches(is_space);
        let value = match kind {
            "integer" => integer(t).map(Value::Integer),
            "real" => t.parse::<f64>().ok().map(Value::Real),
            "date" => is_date(t).then(|| Value::Date(t.to_owned())),
            _ => base64(text).map(Value::Data),
        };
        value.unwrap_or_else(|| {
            let want = match kind {
                "integer" => "an integer",
                "real" => "a real number",
                "date" => "a date (YYYY-MM-DDTHH:MM:SSZ)",
                _ => "base64 data",
            };
            self.problem_line(line, format!("<{kind}> `{}` is not {want}", short(t)));
            Value::Integer(0)
        })
    }

    fn dict(&mut self, open: usize, depth: usize) -> Step<Value> {
        if depth > MAX_DEPTH {
            return Err(self.fatal(open, format!("dictionaries and arrays nested more than {MAX_DEPTH} deep")));
        }
        let mut entries = Vec::new();
        let mut pending: Option<(String, usize)> = None;
        loop {
            let tag = match self.next_item("dict", open)? {
                Item::Close(name, pos) => {
                    self.expect_close("dict", name, pos, open)?;
                    break;
                }
                Item::Start(tag) => tag,
            };
            let line = self.line_at(tag.pos);
            if let Tag::Open("key") | Tag::Empty("key") = tag.tag {
                let key = if let Tag::Open(_) = tag.tag { self.text("key", tag.pos)? } else { String::new() };
                if let Some((k, l)) = pending.replace((key, line)) {
                    self.problem_line(l, format!("the key `{}` has no value", short(&k)));
                }
                continue;
            }
            let node = self.value(tag, depth)?;
            match (pending.take(), node) {
                (Some((key, line)), Some(node)) => entries.push(Entry { key, line, node }),
                (None, Some(node)) => {
                    self.problem_line(line, format!("{} with no <key> before it", node.value.kind()));
                }
                (_, None) => {}
            }
        }
        if let Some((k, l)) = pending {
            self.problem_line(l, format!("the key `{}` has no value", short(&k)));
        }
        Ok(Value::Dict(entries))
    }

    fn array(&mut self, open: usize, depth: usize) -> Step<Value> {
        if depth > MAX_DEPTH {
            return Err(self.fatal(open, format!("dictionaries and arrays nested more than {MAX_DEPTH} deep")));
        }
        let mut items = Vec::new();
        loop {
            match self.next_item("array", open)? {
                Item::Close(name, pos) => {
                    self.expect_close("array", name, pos, open)?;
                    break;
                }
                Item::Start(tag) => items.extend(self.value(tag, depth)?),
            }
        }
        Ok(Value::Array(items))
    }
}
