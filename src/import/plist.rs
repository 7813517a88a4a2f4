//! XML property lists, read by hand: the prolog (`<?xml?>`, `<!DOCTYPE>`,
//! comments), one `<plist>` root and its values, entities and CDATA. Every
//! value keeps its line, so a report or an error points at it; any input
//! gives a value or located problems, never a panic.

mod lexer;
mod tree;

use super::ini::Problem;
use lexer::{Parser, is_space};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Dict(Vec<Entry>),
    Array(Vec<Node>),
    String(String),
    /// Wide enough for both of a plist's integer ranges (`i64` and `u64`).
    Integer(i128),
    Real(f64),
    Bool(bool),
    /// `YYYY-MM-DDTHH:MM:SSZ`, as written.
    Date(String),
    Data(Vec<u8>),
}

impl Value {
    /// What the value is, for messages: "a string", "a dictionary".
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Dict(_) => "a dictionary",
            Value::Array(_) => "an array",
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Real(_) => "a real number",
            Value::Bool(_) => "a boolean",
            Value::Date(_) => "a date",
            Value::Data(_) => "data",
        }
    }
}

/// A value and the line its element starts on (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: usize,
    pub value: Value,
}

/// A dictionary's key, the line of its `<key>`, and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub line: usize,
    pub node: Node,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i128> {
        match self.value {
            Value::Integer(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// The message for a binary property list, which initkit does not read.
pub fn binary_message(file: &str) -> String {
    format!("binary property list: convert it with `plutil -convert xml1 {file}` first")
}

/// Reads a property list: its root value, or every problem found (reading
/// stops at the first that leaves the structure unknown: a truncated file,
/// a mismatched tag).
pub fn parse(file: &str, text: &str) -> Result<Node, Vec<Problem>> {
    let mut p = Parser::new(file, text);
    let root = p.document();
    match root {
        Ok(node) if p.problems.is_empty() => Ok(node),
        _ => {
            if p.problems.is_empty() {
                p.problem(0, "not a property list");
            }
            Err(p.problems)
        }
    }
}

/// At most 40 characters of `text`, escaped, for a message.
pub fn short(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    let more = if cut.len() < text.len() { "…" } else { "" };
    format!("{}{more}", cut.escape_debug())
}

/// A plist integer: decimal or `0x` hex, signed, within `i64` and `u64`'s range.
fn integer(t: &str) -> Option<i128> {
    let (negative, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
            i128::from_str_radix(hex, 16).ok()?
        }
        None if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) => digits.parse::<i128>().ok()?,
        Some(_) | None => return None,
    };
    let n = if negative { -n } else { n };
    (i128::from(i64::MIN)..=i128::from(u64::MAX)).contains(&n).then_some(n)
}

fn is_date(t: &str) -> bool {
    let shape = "dddd-dd-ddTdd:dd:ddZ";
    t.len() == shape.len()
        && t.chars().zip(shape.chars()).all(|(c, s)| if s == 'd' { c.is_ascii_digit() } else { c == s })
}

/// Base64 with blanks anywhere and `=` padding at the end.
fn base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut bits, mut count) = (0u32, 0u32);
    let mut padded = false;
    for c in text.chars().filter(|c| !is_space(*c)) {
        let v = match c {
            'A'..='Z' => u32::from(c) - u32::from('A'),
            'a'..='z' => u32::from(c) - u32::from('a') + 26,
            '0'..='9' => u32::from(c) - u32::from('0') + 52,
            '+' => 62,
            '/' => 63,
            '=' => {
                padded = true;
                continue;
            }
            _ => return None,
        };
        if padded {
            return None;
        }
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Node {
        parse("t.plist", text).unwrap_or_else(|p| panic!("{p:?}"))
    }

    fn errors(text: &str) -> Vec<(usize, String)> {
        parse("t.plist", text).unwrap_err().into_iter().map(|p| (p.line, p.message)).collect()
    }

    #[test]
    fn values_with_their_lines() {
        let root = read(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<!-- a comment -->\n<dict>\n  <key>Label</key>\n  <string>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#65;&#x42;<![CDATA[<raw> & ]]></string>\n  <key>N</key><integer> -12 </integer>\n  <key>H</key><integer>0x1F</integer>\n  <key>R</key><real>1.5</real>\n  <key>T</key><true/>\n  <key>F</key><false></false>\n  <key>D</key><date>2024-01-02T03:04:05Z</date>\n  <key>B</key><data>aGk=</data>\n  <key>A</key>\n  <array>\n    <string/>\n    <dict/>\n  </array>\n</dict>\n</plist>\n",
        );
        let d = root.as_dict().unwrap();
        assert_eq!(root.line, 5);
        assert_eq!((d[0].key.as_str(), d[0].line), ("Label", 6));
        assert_eq!(d[0].node.as_str(), Some("a <b> & \"c\" 'd' AB<raw> & "));
        assert_eq!(d[1].node.as_int(), Some(-12));
        assert_eq!(d[2].node.as_int(), Some(31));
        assert_eq!(d[3].node.value, Value::Real(1.5));
        assert_eq!((d[4].node.as_bool(), d[5].node.as_bool()), (Some(true), Some(false)));
        assert_eq!(d[6].node.value, Value::Date("2024-01-02T03:04:05Z".into()));
        assert_eq!(d[7].node.value, Value::Data(b"hi".to_vec()));
        let a = d[8].node.as_array().unwrap();
        assert_eq!((d[8].line, d[8].node.line, a[0].line, a[1].line), (15, 16, 17, 18));
        assert_eq!(a[0].as_str(), Some(""));
    }

    #[test]
    fn text_keeps_blanks_and_reads_crlf_as_lf() {
        let root = read("<plist><dict><key> k </key><string>\r\n a\tb \r</string></dict></plist>");
        let d = root.as_dict().unwrap();
        assert_eq!((d[0].key.as_str(), d[0].node.as_str()), (" k ", Some("\n a\tb \n")));
    }

    #[test]
    fn every_problem_has_its_line() {
        assert_eq!(
            errors("<plist>\n<dict>\n<key>a</key>\n"),
            [(3, "the file ends inside <dict> (opened on line 2): it is truncated".to_owned())]
        );
        assert_eq!(
            errors("<plist>\n<dict>\n</array>\n</plist>"),
            [(3, "</array> closes <dict> (opened on line 2)".to_owned())]
        );
        assert_eq!(
            errors(
                "<plist>\n<dict>\n<key>a</key>\n<integer>x1</integer>\n<key>b</key>\n<wat/>\n<key>c</key>\n</dict>\n</plist>"
            ),
            [
                (4, "<integer> `x1` is not an integer".to_owned()),
                (6, "unknown element <wat>".to_owned()),
                (7, "the key `c` has no value".to_owned()),
            ]
        );
        assert_eq!(errors("<plist><dict><key>a</key><string>&bogus;&</string></dict></plist>").len(), 2);
        assert_eq!(errors("<plist><dict><key>a</key><integer>99999999999999999999</integer></dict></plist>").len(), 1);
        assert_eq!(errors("")[0].0, 1);
        assert_eq!(errors("<html></html>")[0].1, "the root element is <html>, not <plist>");
        assert_eq!(
            errors(&"<array>".repeat(100).replacen("<array>", "<plist>", 1))[0].1,
            "dictionaries and arrays nested more than 64 deep"
        );
    }
}
