//! What text each kind of recipe field may hold. Values land in shell scripts,
//! LSB headers, systemd units, INI files, XML and Upstart jobs; every one of
//! those is line-based, so a newline or other control character in a one-line
//! field could end a comment or a directive and start a new one. Such text is
//! refused here, with the field and the reason, before anything is rendered;
//! the escapers in `render` then make what remains data in each language.

/// The kinds of text a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One line of prose or a value (summary, a hook's description, a setting):
    /// no control characters but tab, and no trailing `\`, which systemd units,
    /// environment files and chkconfig headers read as a line continuation.
    Line,
    /// Prose over several lines (description): newlines and tabs allowed, each
    /// line as `Line`.
    Lines,
    /// One argument of a command: newlines and tabs allowed (every artifact
    /// quotes an argument as one word), no other control character.
    Argument,
    /// A path: no control characters at all, and no trailing `\\`.
    Path,
    /// A path in a directive that holds a list (systemd's `RuntimeDirectory=`,
    /// `ReadWritePaths=`), which splits on whitespace and unquotes: no
    /// whitespace, quotes or `\\` either.
    ListPath,
    /// A documentation URI as systemd's `Documentation=` takes it.
    Uri,
}

/// The URI schemes systemd accepts in `Documentation=`.
pub const URI_SCHEMES: [&str; 5] = ["http://", "https://", "file:", "info:", "man:"];

fn control(c: char) -> String {
    match c {
        '\n' => "a newline".to_owned(),
        '\r' => "a carriage return".to_owned(),
        '\t' => "a tab".to_owned(),
        '\0' => "a NUL byte".to_owned(),
        c => format!("the control character U+{:04X}", u32::from(c)),
    }
}

/// Why `text` cannot be a field of `kind`, or `Ok`.
pub fn check(kind: Kind, text: &str) -> Result<(), String> {
    let allowed: &[char] = match kind {
        Kind::Line => &['\t'],
        Kind::Lines | Kind::Argument => &['\t', '\n'],
        Kind::Path | Kind::ListPath | Kind::Uri => &[],
    };
    if let Some(c) = text.chars().find(|c| c.is_control() && !allowed.contains(c)) {
        let why = match (kind, c) {
            (Kind::Line, '\n' | '\r') => "; this field is one line (write longer text in `description`)",
            _ => "",
        };
        return Err(format!("contains {}, which this field cannot hold{why}", control(c)));
    }
    match kind {
        // systemd trims trailing whitespace before it looks for the continuation.
        Kind::Path if text.trim() != text => {
            Err("starts or ends with whitespace, which init files trim from a path".to_owned())
        }
        Kind::Line | Kind::Path if text.trim_end().ends_with('\\') => {
            Err("ends with `\\`, which systemd units and environment files read as a line continuation".to_owned())
        }
        Kind::Lines => text.lines().try_for_each(|line| check(Kind::Line, line)),
        Kind::ListPath if text.chars().any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\')) => Err(
            "contains whitespace, a quote or `\\`: systemd reads this directive as a list of paths, split on spaces and unquoted".to_owned(),
        ),
        Kind::Uri if !URI_SCHEMES.iter().any(|s| text.starts_with(s)) || text.chars().any(char::is_whitespace) => {
            Err(format!("`{text}` is not a documentation URI: write one starting with {}", URI_SCHEMES.join(", ")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_fields_refuse_what_ends_a_line() {
        assert!(check(Kind::Line, "Redis\tstore").is_ok());
        for bad in ["a\nb", "a\rb", "a\0b", "a\u{1b}[2J", "a\u{7f}", "a\u{85}", "ends \\", "ends \\ "] {
            assert!(check(Kind::Line, bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            check(Kind::Line, "x\ny").unwrap_err(),
            "contains a newline, which this field cannot hold; this field is one line (write longer text in `description`)"
        );
    }

    #[test]
    fn arguments_and_prose_may_span_lines() {
        assert!(check(Kind::Argument, "echo a\necho b\t").is_ok());
        assert!(check(Kind::Lines, "one\ntwo").is_ok());
        assert!(check(Kind::Argument, "a\rb").is_err());
        assert!(check(Kind::Lines, "one \\\ntwo").is_err());
    }

    #[test]
    fn paths_and_uris() {
        assert!(check(Kind::Path, "/srv/my app").is_ok());
        assert!(check(Kind::Path, "/srv/a\tb").is_err());
        assert!(check(Kind::Path, "/srv/a ").is_err());
        assert!(check(Kind::Path, "/srv/a\\ ").is_err());
        assert!(check(Kind::ListPath, "redis/a b").is_err());
        assert!(check(Kind::Uri, "man:redis-server(1)").is_ok());
        assert!(check(Kind::Uri, "https://x/ y").is_err());
        assert!(check(Kind::Uri, "see the wiki").is_err());
    }
}
