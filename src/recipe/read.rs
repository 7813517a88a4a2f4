//! A reader over a spanned TOML table that records every problem instead of stopping at the first.

use std::ops::Range;

use toml_edit::{Item, TableLike, Value};

use super::{
    diagnostic::Diagnostic,
    duration::parse_duration,
    template::Template,
    text::{self, Kind},
};

/// A TOML table (`[x]` or `{ ... }`) with its dotted path, for messages.
#[derive(Clone, Copy)]
pub struct Tbl<'a> {
    pub inner: &'a dyn TableLike,
    pub at: Option<(usize, usize)>,
    pub path: &'a str,
}

impl<'a> Tbl<'a> {
    pub fn new(inner: &'a dyn TableLike, span: Option<Range<usize>>, path: &'a str) -> Self {
        Tbl { inner, at: span.map(|s| (s.start, s.end)), path }
    }

    pub fn span(&self) -> Option<Range<usize>> {
        self.at.map(|(a, b)| a..b)
    }
}

/// A value with where it stands in the recipe.
pub type Spanned<T> = (T, Option<Range<usize>>);

/// Collects diagnostics while reading typed values out of tables.
pub struct Reader<'s> {
    pub diagnostics: Vec<Diagnostic>,
    /// The recipe's text, to map offsets inside strings to columns.
    source: &'s str,
}

/// The byte offset in `raw` (a TOML string with its quotes) of the decoded
/// byte `offset`, so a column points at the right character despite escapes.
fn raw_offset(raw: &str, offset: usize) -> usize {
    let (open, escapes) = if raw.starts_with("\"\"\"") {
        (3, true)
    } else if raw.starts_with("'''") {
        (3, false)
    } else {
        (1, raw.starts_with('"'))
    };
    let mut decoded = 0;
    let mut chars = raw.char_indices().skip(open).peekable();
    while let Some((at, c)) = chars.next() {
        if decoded >= offset {
            return at;
        }
        if escapes && c == '\\' {
            let skip = match chars.peek().map(|&(_, n)| n) {
                Some('u') => 5,
                Some('U') => 9,
                _ => 1,
            };
            for _ in 0..skip {
                chars.next();
            }
            decoded += 1;
        } else {
            decoded += c.len_utf8();
        }
    }
    raw.len().saturating_sub(1)
}

fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(v) => match v {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a datetime",
            Value::Array(_) => "an array",
            Value::InlineTable(_) => "a table",
        },
    }
}

/// The dotted path of a key inside a table.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

impl<'s> Reader<'s> {
    pub fn new(source: &'s str) -> Self {
        Reader { diagnostics: Vec::new(), source }
    }

    pub fn error(&mut self, field: &str, span: Option<Range<usize>>, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic { field: field.to_owned(), message: message.into(), span, help: None });
    }

    pub fn error_help(
        &mut self,
        field: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.diagnostics.push(Diagnostic {
            field: field.to_owned(),
            message: message.into(),
            span,
            help: Some(help.into()),
        });
    }

    /// Reports every key of `table` that is not in `allowed`.
    pub fn deny_unknown(&mut self, table: Tbl<'_>, allowed: &[&str]) {
        for (key, _) in table.inner.iter() {
            if !allowed.contains(&key) {
                let span = table.inner.get_key_value(key).and_then(|(k, _)| k.span());
                self.error_help(
                    &join(table.path, key),
                    span,
                    format!("unknown field `{key}`"),
                    format!("expected one of: {}", allowed.join(", ")),
                );
            }
        }
    }

    fn get<'a>(&mut self, table: Tbl<'a>, key: &str, required: bool) -> Option<&'a Item> {
        let item = table.inner.get(key);
        if item.is_none() && required {
            self.error(&join(table.path, key), table.span(), format!("missing required field `{key}`"));
        }
        item
    }

    fn wrong_type(&mut self, field: &str, item: &Item, expected: &str) {
        self.error(field, item.span(), format!("expected {expected}, found {}", type_name(item)));
    }

    /// A sub-table, written as `[a.b]` or as an inline `{ ... }`.
    pub fn table<'a>(&mut self, table: Tbl<'a>, key: &str, path: &'a str) -> Option<Tbl<'a>> {
        let item = self.get(table, key, false)?;
        match item {
            Item::Table(t) => Some(Tbl::new(t, t.span(), path)),
            Item::Value(Value::InlineTable(t)) => Some(Tbl::new(t, t.span(), path)),
            other => {
                self.wrong_type(path, other, "a table");
                None
            }
        }
    }

    /// A string of the given kind; text the kind cannot hold is reported, pointing at the string.
    pub fn string(
        &mut self,
        table: Tbl<'_>,
        key: &str,
        required: bool,
        kind: Kind,
    ) -> Option<(String, Option<Range<usize>>)> {
        let item = self.get(table, key, required)?;
        if let Some(s) = item.as_str() {
            self.text(&join(table.path, key), s, item.span(), kind).then(|| (s.to_owned(), item.span()))
        } else {
            self.wrong_type(&join(table.path, key), item, "a string");
            None
        }
    }

    /// Whether `value` is text `kind` may hold; reports it when not.
    pub fn text(&mut self, field: &str, value: &str, span: Option<Range<usize>>, kind: Kind) -> bool {
        match text::check(kind, value) {
            Ok(()) => true,
            Err(why) => {
                self.error(field, span, why);
                false
            }
        }
    }

    pub fn bool(&mut self, table: Tbl<'_>, key: &str) -> Option<bool> {
        let item = self.get(table, key, false)?;
        let value = item.as_bool();
        if value.is_none() {
            self.wrong_type(&join(table.path, key), item, "a boolean");
        }
        value
    }

    pub fn float(&mut self, table: Tbl<'_>, key: &str) -> Option<f64> {
        let item = self.get(table, key, false)?;
        #[allow(clippy::cast_precision_loss)]
        let value = item.as_float().or_else(|| item.as_integer().map(|i| i as f64));
        if value.is_none() {
            self.wrong_type(&join(table.path, key), item, "a number");
        }
        value
    }

    pub fn unsigned(&mut self, table: Tbl<'_>, key: &str) -> Option<u64> {
        let item = self.get(table, key, false)?;
        match item.as_integer().map(u64::try_from) {
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => {
                self.error(&join(table.path, key), item.span(), "expected a number of 0 or more");
                None
            }
            None => {
                self.wrong_type(&join(table.path, key), item, "an integer");
                None
            }
        }
    }

    /// An integer within `range`, reported with its bounds when outside.
    pub fn integer(&mut self, table: Tbl<'_>, key: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        let item = self.get(table, key, false)?;
        match item.as_integer() {
            Some(n) if range.contains(&n) => Some(n),
            Some(_) => {
                let message = format!("must be between {} and {}", range.start(), range.end());
                self.error(&join(table.path, key), item.span(), message);
                None
            }
            None => {
                self.wrong_type(&join(table.path, key), item, "an integer");
                None
            }
        }
    }

    /// An array of exit codes, each 1 to 255.
    pub fn exit_codes(&mut self, table: Tbl<'_>, key: &str) -> Vec<u8> {
        let field = join(table.path, key);
        let Some(item) = self.get(table, key, false) else { return Vec::new() };
        let Some(array) = item.as_array() else {
            self.wrong_type(&field, item, "an array of exit codes");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, value) in array.iter().enumerate() {
            match value.as_integer().map(u8::try_from) {
                Some(Ok(code)) if code > 0 => out.push(code),
                _ => self.error(&format!("{field}[{i}]"), value.span(), "expected an exit code from 1 to 255"),
            }
        }
        out
    }

    /// A template string; a bad `{reference}` is pointed at inside the string.
    pub fn template(
        &mut self,
        table: Tbl<'_>,
        key: &str,
        required: bool,
        kind: Kind,
    ) -> Option<(Template, Option<Range<usize>>)> {
        let (text, span) = self.string(table, key, required, kind)?;
        self.parse_template(&join(table.path, key), &text, span, kind)
    }

    pub fn parse_template(
        &mut self,
        field: &str,
        text: &str,
        span: Option<Range<usize>>,
        kind: Kind,
    ) -> Option<(Template, Option<Range<usize>>)> {
        if !self.text(field, text, span.clone(), kind) {
            return None;
        }
        match Template::parse(text) {
            Ok(t) if kind != Kind::Argument && t.has_words() => {
                self.error_help(
                    field,
                    span,
                    "`{name...}` splits a value into arguments: only a command's argument can be one",
                    "write `{name}` for the value as it is",
                );
                None
            }
            Ok(t) if t.has_words() && t.words().is_none() => {
                self.error_help(
                    field,
                    span,
                    "`{name...}` must be a whole argument: its words become arguments of their own",
                    "put it in an argument of its own, such as [\"/usr/sbin/daemon\", \"{opts...}\"]",
                );
                None
            }
            Ok(t) => Some((t, span)),
            Err(e) => {
                // Point inside the string: past the opening quote, at the offending brace.
                let at = span.clone().map(|s| {
                    let raw = self.source.get(s.clone()).unwrap_or_default();
                    let start = s.start + raw_offset(raw, e.offset);
                    start..(start + 1).min(s.end)
                });
                self.error(field, at.or(span), e.message);
                None
            }
        }
    }

    /// A duration such as `10s`.
    pub fn duration(&mut self, table: Tbl<'_>, key: &str, required: bool) -> Option<u64> {
        let (text, span) = self.string(table, key, required, Kind::Line)?;
        match parse_duration(&text) {
            Ok(ms) => Some(ms),
            Err(message) => {
                self.error(&join(table.path, key), span, message);
                None
            }
        }
    }

    /// A non-empty array of template strings: a command's argument vector.
    pub fn argv(&mut self, table: Tbl<'_>, key: &str, required: bool) -> Option<Spanned<Vec<Spanned<Template>>>> {
        let field = join(table.path, key);
        let item = self.get(table, key, required)?;
        let Some(array) = item.as_array() else {
            self.wrong_type(&field, item, "an array of strings (the command and its arguments)");
            return None;
        };
        if array.is_empty() {
            self.error(&field, item.span(), "the command is empty: give at least the program");
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (i, value) in array.iter().enumerate() {
            let field = format!("{field}[{i}]");
            let parsed = if let Some(s) = value.as_str() {
                self.parse_template(&field, s, value.span(), Kind::Argument)
            } else {
                self.wrong_type(&field, &Item::Value(value.clone()), "a string");
                None
            };
            match parsed {
                Some(t) => out.push(t),
                None => ok = false,
            }
        }
        ok.then_some((out, item.span()))
    }

    /// An array of plain strings of one kind; elements it cannot hold are reported and left out.
    pub fn strings(&mut self, table: Tbl<'_>, key: &str, kind: Kind) -> Option<Vec<(String, Option<Range<usize>>)>> {
        let field = join(table.path, key);
        let item = self.get(table, key, false)?;
        let Some(array) = item.as_array() else {
            self.wrong_type(&field, item, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for (i, value) in array.iter().enumerate() {
            match value.as_str() {
                Some(s) => {
                    if self.text(&format!("{field}[{i}]"), s, value.span(), kind) {
                        out.push((s.to_owned(), value.span()));
                    }
                }
                None => self.wrong_type(&format!("{field}[{i}]"), &Item::Value(value.clone()), "a string"),
            }
        }
        Some(out)
    }

    /// An octal mode written as a string, such as `"0027"`.
    pub fn octal(&mut self, table: Tbl<'_>, key: &str) -> Option<u32> {
        let (text, span) = self.string(table, key, false, Kind::Line)?;
        match u32::from_str_radix(&text, 8) {
            Ok(mode) if mode <= 0o7777 && !text.is_empty() => Some(mode),
            _ => {
                self.error(&join(table.path, key), span, format!("`{text}` is not an octal mode such as \"0027\""));
                None
            }
        }
    }
}
