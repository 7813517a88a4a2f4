//! Templates: strings with `{var}` references that initkit substitutes, never a shell.

use std::fmt;

/// One piece of a template: literal text or a reference to a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Var(String),
    /// `{name...}`: the variable's value split into words at blanks, as data
    /// (never globbed or evaluated), each its own argument; an empty value
    /// gives no argument. Only a whole argument of a command can be this.
    Words(String),
}

/// A parsed template such as `/etc/redis/{instance}.conf`.
///
/// `{{` and `}}` stand for literal braces.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pub segments: Vec<Segment>,
}

/// Why a template could not be parsed; `offset` is a byte offset into the source string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

impl Template {
    /// A template made of literal text only.
    pub fn literal(text: &str) -> Self {
        let mut template = Template::default();
        template.push_literal(text);
        template
    }

    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut template = Template::default();
        let mut literal = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((offset, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => {
                    return Err(TemplateError {
                        offset,
                        message: "unmatched `}` (write `}}` for a literal brace)".into(),
                    });
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for (_, n) in chars.by_ref() {
                        if n == '}' {
                            closed = true;
                            break;
                        }
                        name.push(n);
                    }
                    if !closed {
                        return Err(TemplateError {
                            offset,
                            message: "unclosed `{` (write `{{` for a literal brace)".into(),
                        });
                    }
                    let (name, words) = match name.strip_suffix("...") {
                        Some(n) => (n.to_owned(), true),
                        None => (name, false),
                    };
                    if !is_var_name(&name) {
                        return Err(TemplateError {
                            offset,
                            message: format!(
                                "`{{{name}}}` is not a variable reference: names are letters, digits and `_`, starting with a letter"
                            ),
                        });
                    }
                    if !literal.is_empty() {
                        template.segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    }
                    template.segments.push(if words { Segment::Words(name) } else { Segment::Var(name) });
                }
                _ => literal.push(c),
            }
        }
        if !literal.is_empty() {
            template.segments.push(Segment::Literal(literal));
        }
        Ok(template)
    }

    pub fn push_literal(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(Segment::Literal(last)) = self.segments.last_mut() {
            last.push_str(text);
        } else {
            self.segments.push(Segment::Literal(text.to_owned()));
        }
    }

    /// The variables this template refers to, in order of appearance.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Var(name) | Segment::Words(name) => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// The variable of a `{name...}` template (a whole argument split into words).
    pub fn words(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [Segment::Words(name)] => Some(name),
            _ => None,
        }
    }

    /// Whether a `{name...}` stands anywhere in it.
    pub fn has_words(&self) -> bool {
        self.segments.iter().any(|s| matches!(s, Segment::Words(_)))
    }

    /// Replaces variables with templates (for example a built-in directory by its own
    /// template); variables `lookup` returns `None` for are left as they are.
    #[must_use]
    pub fn expand(&self, lookup: &dyn Fn(&str) -> Option<Template>) -> Template {
        let mut out = Template::default();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_literal(text),
                Segment::Var(name) => match lookup(name) {
                    Some(replacement) => {
                        for inner in replacement.segments {
                            match inner {
                                Segment::Literal(text) => out.push_literal(&text),
                                other => out.segments.push(other),
                            }
                        }
                    }
                    None => out.segments.push(Segment::Var(name.clone())),
                },
                Segment::Words(name) => out.segments.push(Segment::Words(name.clone())),
            }
        }
        out
    }

    /// The literal text, when the template has no variables.
    pub fn as_literal(&self) -> Option<String> {
        let mut text = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(t) => text.push_str(t),
                Segment::Var(_) | Segment::Words(_) => return None,
            }
        }
        Some(text)
    }

    /// Substitutes every variable with a value from `lookup` (missing ones become empty).
    pub fn substitute(&self, lookup: &dyn Fn(&str) -> Option<String>) -> String {
        let mut text = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(t) => text.push_str(t),
                Segment::Var(name) | Segment::Words(name) => text.push_str(&lookup(name).unwrap_or_default()),
            }
        }
        text
    }
}

impl fmt::Display for Template {
    /// Writes the template back in recipe syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for segment in &self.segments {
            match segment {
                Segment::Literal(t) => f.write_str(&t.replace('{', "{{").replace('}', "}}"))?,
                Segment::Var(name) => write!(f, "{{{name}}}")?,
                Segment::Words(name) => write!(f, "{{{name}...}}")?,
            }
        }
        Ok(())
    }
}

/// Variable names: `[A-Za-z][A-Za-z0-9_]*`, at most 64 bytes. Upper case is
/// allowed so a recipe can read the settings a distribution's
/// `/etc/default/NAME` already holds (`DAEMON_OPTS`); the names the
/// environment itself uses are refused by [`reserved_var`].
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | 'A'..='Z'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
}

/// Why a variable name cannot be a setting: systemd passes settings on as
/// environment variables, so one named like the environment's own (PATH,
/// HOME, the loader's and systemd's variables) would change how every
/// program in the service runs.
pub fn reserved_var(name: &str) -> Option<&'static str> {
    const OWN: [&str; 14] = [
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "TERM",
        "PWD",
        "IFS",
        "ENV",
        "MAINPID",
        "NOTIFY_SOCKET",
        "INVOCATION_ID",
        "MANAGERPID",
        "TZ",
    ];
    const PREFIXES: [&str; 6] = ["LD_", "LISTEN_", "SYSTEMD_", "JOURNAL_", "LC_", "LANG"];
    if OWN.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p)) {
        Some("is a name the environment itself uses (the loader, the shell or systemd)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vars_and_escaped_braces() {
        let t = Template::parse("/etc/{name}/{{x}}-{instance}.conf").unwrap();
        assert_eq!(
            t.segments,
            vec![
                Segment::Literal("/etc/".into()),
                Segment::Var("name".into()),
                Segment::Literal("/{x}-".into()),
                Segment::Var("instance".into()),
                Segment::Literal(".conf".into()),
            ]
        );
        assert_eq!(t.to_string(), "/etc/{name}/{{x}}-{instance}.conf");
    }

    #[test]
    fn reports_the_offset_of_a_bad_reference() {
        let err = Template::parse("a {1port} b").unwrap_err();
        assert_eq!(err.offset, 2);
        assert!(err.message.contains("`{1port}`"), "{}", err.message);
        assert_eq!(Template::parse("a {port").unwrap_err().offset, 2);
        assert_eq!(Template::parse("a } b").unwrap_err().offset, 2);
    }

    #[test]
    fn a_split_argument_is_its_own_segment() {
        let t = Template::parse("{opts...}").unwrap();
        assert_eq!(t.segments, vec![Segment::Words("opts".into())]);
        assert_eq!(t.words(), Some("opts"));
        assert_eq!(t.to_string(), "{opts...}");
        assert_eq!(Template::parse("--{opts...}").unwrap().words(), None);
        assert!(Template::parse("{DAEMON_OPTS}").is_ok());
        assert!(Template::parse("{opts..}").is_err());
    }

    #[test]
    fn expand_splices_templates() {
        let t = Template::parse("{runtime_dir}/x.sock").unwrap();
        let e = t.expand(&|v| (v == "runtime_dir").then(|| Template::parse("/run/{name}").unwrap()));
        assert_eq!(e.to_string(), "/run/{name}/x.sock");
    }
}
