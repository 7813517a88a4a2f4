//! A shell script cut into its logical lines: continuation lines joined,
//! newlines inside quotes kept, comments left out, each with the line it
//! starts on. Nothing is evaluated.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line of the file the logical line starts on (from 1).
    pub n: usize,
    pub text: String,
}

/// The logical lines of `text`; an unclosed quote runs to the end.
pub fn logical_lines(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 1;
    let mut n = 1;
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    let push = |cur: &mut String, start: usize, out: &mut Vec<Line>| {
        let t = cur.trim();
        if !t.is_empty() {
            out.push(Line { n: start, text: t.to_owned() });
        }
        cur.clear();
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\n') if quote.is_some() => {
                n += 1;
                cur.push(c);
            }
            (None, '\n') => {
                push(&mut cur, start, &mut out);
                n += 1;
                start = n;
            }
            (Some('\''), '\'') | (Some('"'), '"') => {
                quote = None;
                cur.push(c);
            }
            (Some('\''), _) => cur.push(c),
            (_, '\\') => match chars.next() {
                Some('\n') => {
                    n += 1;
                    if cur.trim().is_empty() {
                        start = n;
                    }
                }
                Some(next) => {
                    cur.push(c);
                    cur.push(next);
                }
                None => cur.push(c),
            },
            (Some(_), _) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.push(c);
            }
            // A comment starts a word: the rest of the line is not code.
            (None, '#') if cur.is_empty() || cur.ends_with(char::is_whitespace) => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            (None, _) => {
                if cur.trim().is_empty() && !c.is_whitespace() {
                    start = n;
                }
                cur.push(c);
            }
        }
    }
    push(&mut cur, start, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(usize, String)> {
        logical_lines(text).into_iter().map(|l| (l.n, l.text)).collect()
    }

    #[test]
    fn continuations_quotes_and_comments() {
        let text = "#!/bin/sh\n# note\nexec chpst -u x \\\n    /bin/y 'a\nb' # tail\nZ=\"q#\" #c\n";
        assert_eq!(lines(text), [(3, "exec chpst -u x     /bin/y 'a\nb'".to_owned()), (6, "Z=\"q#\"".to_owned())]);
        assert_eq!(lines("a ${#x} b\n  \\\n  c"), [(1, "a ${#x} b".to_owned()), (3, "c".to_owned())]);
    }
}
