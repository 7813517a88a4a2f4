//! What an OpenRC import knows while it reads: the script's and conf.d's
//! values (conf.d first, as openrc-run sources it), the recipe being
//! built, its report, and the settings the commands name.

use super::script::{self, Script};
use crate::import::{
    Source,
    draft::{Draft, lit},
    ini::Problem,
    report::Report,
    sysv,
    words::{self, Dialect, Piece, Word},
};

/// A value the script or conf.d sets.
#[derive(Debug, Clone)]
pub struct Val {
    pub file: String,
    pub line: usize,
    pub key: String,
    pub value: String,
    /// Set by conf.d, or settable there (`X=${X:-default}`): a setting.
    pub conf: bool,
    pub exported: bool,
}

pub struct Context {
    pub file: String,
    pub stem: String,
    pub name: String,
    pub script: Script,
    pub conf: Option<Script>,
    pub conf_file: String,
    pub vals: Vec<Val>,
    pub draft: Draft,
    pub report: Report,
    pub problems: Vec<Problem>,
    /// Settings the recipe's commands name, with their defaults.
    pub settings: Vec<(String, String)>,
    /// Every value a command or a setting read, so the rest can be reported.
    pub used: Vec<String>,
}

/// Variables openrc-run sets itself: the service's name.
const OWN_NAMES: [&str; 2] = ["RC_SVCNAME", "SVCNAME"];

impl Context {
    pub fn new(src: &Source, conf: Option<&Source>, name: &str) -> Context {
        let script = script::read(&src.text);
        let conf_script = conf.map(|c| script::read(&c.text));
        let conf_file = conf.map(|c| c.file.clone()).unwrap_or_default();
        let mut vals = Vec::new();
        if let Some(c) = &conf_script {
            for a in &c.assigns {
                vals.push(Val {
                    file: conf_file.clone(),
                    line: a.line,
                    key: a.key.clone(),
                    value: a.value.clone(),
                    conf: true,
                    exported: a.exported,
                });
            }
        }
        for a in &script.assigns {
            // `X=${X:-default}`: conf.d's X wins; the default otherwise.
            if a.value == format!("${{{}}}", a.key) {
                if vals.iter().any(|v| v.key == a.key) {
                    continue;
                }
                let default = script.defaults.iter().rev().find(|(k, _)| *k == a.key).map(|(_, d)| d.clone());
                // Settable in conf.d: a setting, whose default is the script's.
                vals.push(Val {
                    file: src.file.clone(),
                    line: a.line,
                    key: a.key.clone(),
                    value: default.unwrap_or_default(),
                    conf: true,
                    exported: a.exported,
                });
                continue;
            }
            vals.push(Val {
                file: src.file.clone(),
                line: a.line,
                key: a.key.clone(),
                value: a.value.clone(),
                conf: false,
                exported: a.exported,
            });
        }
        let mut draft = Draft::new(name, name);
        draft.set_list::<&str>(&[], "needs", &[]);
        Context {
            file: src.file.clone(),
            stem: src.stem().to_owned(),
            name: name.to_owned(),
            script,
            conf: conf_script,
            conf_file,
            vals,
            draft,
            report: Report::default(),
            problems: Vec::new(),
            settings: Vec::new(),
            used: Vec::new(),
        }
    }

    /// The value that takes effect for `key`.
    pub fn val(&self, key: &str) -> Option<&Val> {
        self.vals.iter().rev().find(|v| v.key == key)
    }

    fn use_name(&mut self, key: &str) {
        if !self.used.iter().any(|u| u == key) {
            self.used.push(key.to_owned());
        }
    }

    /// `key`'s value with every reference filled in, as openrc-run's shell would.
    pub fn scalar(&mut self, key: &str) -> Option<(String, usize, String)> {
        let v = self.val(key)?.clone();
        self.use_name(key);
        Some((v.file.clone(), v.line, self.expand(&v.value)))
    }

    pub fn expand(&mut self, text: &str) -> String {
        let mut table: Vec<(usize, String, String)> =
            OWN_NAMES.iter().map(|n| (0, (*n).to_owned(), self.stem.clone())).collect();
        for (k, d) in &self.script.defaults {
            table.push((0, k.clone(), d.clone()));
        }
        for v in &self.vals {
            table.push((v.line, v.key.clone(), v.value.clone()));
        }
        for (_, k, _) in &table {
            if text.contains(&format!("${{{k}}}")) || text.contains(&format!("${k}")) {
                self.used.push(k.clone());
            }
        }
        sysv::expand(text, &table)
    }

    /// A command line as recipe templates: openrc's and the script's own
    /// values filled in, conf.d's as settings (their defaults its values).
    /// A command that is not taken leaves no setting behind: see [`Context::rollback`].
    pub fn argv(&mut self, text: &str) -> Result<Vec<String>, String> {
        let mark = self.mark();
        let out = self.argv_inner(text);
        if out.is_err() {
            self.rollback(mark);
        }
        out
    }

    fn argv_inner(&mut self, text: &str) -> Result<Vec<String>, String> {
        let text = script::defaults_as_references(text, &mut self.script.defaults);
        let ws = words::split(&text, Dialect::Shell)?;
        let mut out = Vec::new();
        for w in &ws {
            for resolved in self.resolve(w, 0)? {
                out.push(self.template(&resolved)?);
            }
        }
        Ok(out)
    }

    /// How many settings and report entries there are now.
    pub fn mark(&self) -> (usize, usize) {
        (self.settings.len(), self.report.entries.len())
    }

    /// Forgets the settings (and their report entries) a command that is
    /// not taken named: a recipe's unused setting is an error.
    pub fn rollback(&mut self, (settings, entries): (usize, usize)) {
        self.settings.truncate(settings);
        self.report.entries.truncate(entries);
    }

    /// One word with references resolved; a script value that stands alone
    /// unquoted splits into words, as the shell splits it.
    fn resolve(&mut self, word: &Word, depth: usize) -> Result<Vec<Word>, String> {
        if depth > 8 {
            return Err("values that refer to each other without end".into());
        }
        if let [Piece::Var { name, split: true }] = word.as_slice()
            && let Some(text) = self.inline_text(name)
        {
            let mut out = Vec::new();
            for w in words::split(&text, Dialect::Shell)? {
                out.extend(self.resolve(&w, depth + 1)?);
            }
            return Ok(out);
        }
        let mut pieces = Vec::new();
        for p in word {
            let text = match p {
                Piece::Var { name, .. } => self.inline_text(name),
                Piece::Lit(_) => None,
            };
            match text {
                Some(text) => {
                    let again = self.resolve(&refs(&text), depth + 1)?;
                    pieces.extend(again.into_iter().flatten());
                }
                None => pieces.push(p.clone()),
            }
        }
        Ok(vec![pieces])
    }

    /// The text a reference stands for when it is not a setting: openrc's
    /// own names, the script's values and unset names' defaults.
    fn inline_text(&mut self, name: &str) -> Option<String> {
        if OWN_NAMES.contains(&name) {
            return Some(self.stem.clone());
        }
        match self.val(name) {
            Some(v) if v.conf => None,
            Some(v) => {
                let text = v.value.clone();
                self.use_name(name);
                Some(text)
            }
            None => {
                let d = self.script.defaults.iter().rev().find(|(k, _)| k == name).map(|(_, d)| d.clone());
                if d.is_some() {
                    self.use_name(name);
                }
                d
            }
        }
    }

    /// A resolved word as a template; a conf.d value (or an unset one) becomes a setting.
    fn template(&mut self, word: &Word) -> Result<String, String> {
        let mut out = String::new();
        for p in word {
            match p {
                Piece::Lit(l) => out.push_str(&lit(l)),
                Piece::Var { name, split } => {
                    if !crate::recipe::template::is_var_name(name) {
                        return Err(format!("`${name}` cannot be a recipe setting"));
                    }
                    if let Some(why) = crate::recipe::template::reserved_var(name) {
                        return Err(format!("`${name}` cannot be a setting: {why}"));
                    }
                    self.setting(name);
                    out.push_str(&if *split { format!("{{{name}...}}") } else { format!("{{{name}}}") });
                }
            }
        }
        Ok(out)
    }

    fn setting(&mut self, name: &str) {
        if self.settings.iter().any(|(k, _)| k == name) {
            return;
        }
        self.use_name(name);
        if let Some(v) = self.val(name).cloned() {
            let default = self.expand(&v.value);
            self.report.carried(&v.file, v.line, name);
            self.settings.push((name.to_owned(), default));
        } else {
            {
                self.report.dropped(
                    &self.file.clone(),
                    1,
                    &format!("${name}"),
                    format!("set neither by the script nor by conf.d: a setting with no value; give it with `--set {name}=…`"),
                );
                self.settings.push((name.to_owned(), String::new()));
            }
        }
    }

    pub fn problem(&mut self, line: usize, message: impl Into<String>) {
        self.problems.push(Problem { file: self.file.clone(), line, message: message.into() });
    }

    /// The recipe, once every value the commands name is a setting.
    pub fn finish(mut self) -> Result<(String, Draft, Report), Vec<Problem>> {
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        for (k, v) in &self.settings {
            self.draft.set(&["vars"], k, lit(v));
        }
        Ok((self.name, self.draft, self.report))
    }
}

/// Text in which references are `${NAME}` as pieces (none split).
fn refs(text: &str) -> Word {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        let after = &rest[at + 2..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(Piece::Lit(rest[..at + 2].to_owned()));
            rest = after;
            continue;
        }
        if at > 0 {
            out.push(Piece::Lit(rest[..at].to_owned()));
        }
        out.push(Piece::Var { name: name.to_owned(), split: false });
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Lit(rest.to_owned()));
    }
    merge(out)
}

/// Adjacent literals joined.
fn merge(pieces: Word) -> Word {
    let mut out: Word = Vec::new();
    for p in pieces {
        match (out.last_mut(), p) {
            (Some(Piece::Lit(a)), Piece::Lit(b)) => a.push_str(&b),
            (_, p) => out.push(p),
        }
    }
    out
}
