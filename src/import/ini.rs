//! INI files as systemd and supervisord write them: `[section]`, `key=value`,
//! comments, `\` continuation lines; every entry keeps its file and line.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub file: String,
    pub line: usize,
    pub section: String,
    pub key: String,
    pub value: String,
}

/// A located problem in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Reads every entry; a line that is neither a section, an assignment nor a
/// comment is a problem, and reading goes on.
pub fn parse(file: &str, text: &str, comments: &[char]) -> (Vec<Entry>, Vec<Problem>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut section = String::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, raw)) = lines.next() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with(comments) {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            match rest.strip_suffix(']') {
                Some(name) => name.trim().clone_into(&mut section),
                None => problems.push(Problem {
                    file: file.into(),
                    line: i + 1,
                    message: "a section header without `]`".into(),
                }),
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            problems.push(Problem {
                file: file.into(),
                line: i + 1,
                message: format!("`{}` is not `key=value`", line.chars().take(60).collect::<String>()),
            });
            continue;
        };
        let mut value = value.trim().to_owned();
        // A trailing backslash joins the next line (comments inside are skipped).
        while value.ends_with('\\') {
            value.pop();
            match lines.next() {
                Some((_, next)) if next.trim_start().starts_with(comments) => value.push('\\'),
                Some((_, next)) => {
                    value.push(' ');
                    value.push_str(next.trim());
                }
                None => break,
            }
        }
        entries.push(Entry {
            file: file.into(),
            line: i + 1,
            section: section.clone(),
            key: key.trim().to_owned(),
            value,
        });
    }
    (entries, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_comments_and_bad_lines() {
        let (e, p) = parse(
            "u",
            "# c\n[Service]\nExecStart=/bin/x \\\n  -a \\\n  -b\nnonsense\n[Bad\nUser = nobody\n",
            &['#', ';'],
        );
        assert_eq!(e[0].value, "/bin/x  -a  -b");
        assert_eq!((e[0].line, e[1].line, e[1].key.as_str(), e[1].value.as_str()), (3, 8, "User", "nobody"));
        assert_eq!(p.iter().map(|p| p.line).collect::<Vec<_>>(), [6, 7]);
    }
}
