//! The fidelity report of an import: each source setting carried over,
//! approximated (how) or dropped (why), with its file and line.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "outcome", content = "why")]
pub enum Outcome {
    Carried,
    /// Kept with a different meaning; says how.
    Approximated(String),
    /// Not kept; says why.
    Dropped(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub file: String,
    pub line: usize,
    /// The setting as the source names it: `ExecStart`, `Required-Start`, `DAEMON`.
    pub setting: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub entries: Vec<Entry>,
}

impl Report {
    pub fn carried(&mut self, file: &str, line: usize, setting: &str) {
        self.push(file, line, setting, Outcome::Carried);
    }

    pub fn approximated(&mut self, file: &str, line: usize, setting: &str, how: impl Into<String>) {
        self.push(file, line, setting, Outcome::Approximated(how.into()));
    }

    pub fn dropped(&mut self, file: &str, line: usize, setting: &str, why: impl Into<String>) {
        self.push(file, line, setting, Outcome::Dropped(why.into()));
    }

    fn push(&mut self, file: &str, line: usize, setting: &str, outcome: Outcome) {
        self.entries.push(Entry { file: file.to_owned(), line, setting: setting.to_owned(), outcome });
    }

    /// How many were carried, approximated and dropped.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for e in &self.entries {
            match e.outcome {
                Outcome::Carried => c.0 += 1,
                Outcome::Approximated(_) => c.1 += 1,
                Outcome::Dropped(_) => c.2 += 1,
            }
        }
        c
    }

    pub fn dropped_any(&self) -> bool {
        self.counts().2 > 0
    }

    /// One line per approximated or dropped setting, in file and line
    /// order, then the totals.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        for e in entries {
            let (word, why) = match &e.outcome {
                Outcome::Carried => continue,
                Outcome::Approximated(how) => ("approximated", how),
                Outcome::Dropped(why) => ("dropped", why),
            };
            s.push_str(&format!("  {}:{}: {} {word}: {why}\n", e.file, e.line, e.setting));
        }
        let (c, a, d) = self.counts();
        s.push_str(&format!("  {c} carried, {a} approximated, {d} dropped\n"));
        s
    }
}
