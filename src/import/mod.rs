//! Import: existing units, scripts and process files read into recipes, each
//! with a fidelity report. A pure stage: the caller reads the files.

pub mod draft;
pub mod ini;
pub mod launchd;
pub mod openrc;
pub mod package_json;
pub mod plist;
pub mod procfile;
pub mod report;
pub mod rundir;
pub mod sandbox;
pub mod supervisord;
pub mod systemd;
pub mod sysv;
pub mod upstart;
pub mod upstart_job;
pub mod words;

use std::path::Path;

use clap::ValueEnum;
use serde::Serialize;

pub use ini::Problem;
pub use report::{Outcome, Report};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Auto,
    Systemd,
    Sysv,
    Upstart,
    Openrc,
    Supervisord,
    Runit,
    S6,
    Launchd,
    Procfile,
}

/// One source file with the files that amend it (a unit's drop-ins).
#[derive(Debug, Clone)]
pub struct Source {
    pub file: String,
    pub text: String,
    pub extra: Vec<Source>,
    /// The directory the file is in, absolute (a Procfile's app runs there).
    pub dir: Option<String>,
    /// Who owns the file: the user an app found there runs as.
    pub owner: Option<String>,
}

impl Source {
    pub fn new(file: &str, text: &str) -> Source {
        Source { file: file.to_owned(), text: text.to_owned(), extra: Vec::new(), dir: None, owner: None }
    }

    /// The file name without its directory and its unit or script suffix;
    /// for a runit or s6 `run` file, its service directory's name.
    pub fn stem(&self) -> &str {
        let path = Path::new(&self.file);
        let base = path.file_name().and_then(|n| n.to_str()).unwrap_or(&self.file);
        if base == "run"
            && let Some(dir) = path.parent().and_then(Path::file_name).and_then(|n| n.to_str())
        {
            return dir;
        }
        [".service", ".conf", ".sh", ".init", ".plist"].iter().find_map(|s| base.strip_suffix(s)).unwrap_or(base)
    }

    /// The extra file at `name` beside this one or beside its directory
    /// (`finish`, `log/run`, `conf.d/NAME` for `init.d/NAME`): a whole
    /// path, so `env/down` is never taken for `down`.
    pub fn extra(&self, name: &str) -> Option<&Source> {
        let dir = Path::new(&self.file).parent().unwrap_or(Path::new(""));
        let beside = [Some(dir.join(name)), dir.parent().map(|p| p.join(name))];
        self.extra.iter().find(|e| e.file == name || beside.iter().flatten().any(|b| Path::new(&e.file) == b))
    }
}

/// One recipe an import made.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub name: String,
    pub source: String,
    pub format: Format,
    /// The recipe text; it parses as a recipe (checked before it is returned).
    pub recipe: String,
    pub report: Report,
    /// The catalogue recipe for the same daemon, with its config test and hooks.
    pub catalogue: Option<String>,
}

/// Which format a file is, from its name and its first lines (unit and
/// script names are lower case by convention: compared as they are).
#[allow(clippy::case_sensitive_file_extension_comparisons)]
pub fn detect(file: &str, text: &str) -> Option<Format> {
    let base = Path::new(file).file_name().and_then(|n| n.to_str()).unwrap_or(file);
    let first = text.lines().next().unwrap_or("");
    if base == "Procfile" || base.starts_with("Procfile.") {
        return Some(Format::Procfile);
    }
    if base.ends_with(".plist") || text.contains("<plist") {
        return Some(Format::Launchd);
    }
    if [".service", ".socket", ".timer"].iter().any(|s| base.ends_with(s))
        || text.contains("\n[Service]")
        || text.starts_with("[Unit]")
    {
        return Some(Format::Systemd);
    }
    if text.contains("[program:") {
        return Some(Format::Supervisord);
    }
    if first.starts_with("#!") && (first.contains("openrc-run") || first.contains("/runscript")) {
        return Some(Format::Openrc);
    }
    if text.contains("### BEGIN INIT INFO") || (first.starts_with("#!") && file.contains("init.d")) {
        return Some(Format::Sysv);
    }
    if base == "run" && first.starts_with("#!") {
        // initkit's own s6 run script says so on its second line.
        let s6 = first.contains("execlineb")
            || text.contains("s6-")
            || text.lines().nth(1).is_some_and(|l| l.starts_with("# s6 run script of "));
        return Some(if s6 { Format::S6 } else { Format::Runit });
    }
    if base.ends_with(".conf")
        && text.lines().any(|l| l.trim_start().starts_with("exec ") || l.trim_start().starts_with("start on"))
    {
        return Some(Format::Upstart);
    }
    None
}

/// Unit types that are not services: in a directory they are skipped (a
/// target or a mount is not a daemon); named alone they are refused.
const NOT_SERVICES: [&str; 10] =
    [".socket", ".timer", ".target", ".mount", ".automount", ".path", ".slice", ".scope", ".swap", ".device"];

pub fn companion_unit(file: &str) -> bool {
    NOT_SERVICES.iter().any(|s| file.ends_with(s))
}

/// A path's last component, for messages and descriptions.
pub fn base_name(file: &str) -> &str {
    Path::new(file).file_name().and_then(|n| n.to_str()).unwrap_or(file)
}

/// A recipe name from a file name: lowercase, other characters as `-`.
pub fn recipe_name(stem: &str) -> String {
    let mut name: String =
        stem.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' }).collect();
    name = name.trim_matches(['-', '_']).chars().take(64).collect();
    if name.is_empty() { "imported".to_owned() } else { name }
}

/// Imports one source; every problem of a file that cannot be read is returned at once.
pub fn import(src: &Source, format: Format) -> Result<Vec<Imported>, Vec<Problem>> {
    if src.text.starts_with("bplist") {
        return Err(vec![Problem { file: src.file.clone(), line: 1, message: plist::binary_message(&src.file) }]);
    }
    let format = match format {
        Format::Auto => detect(&src.file, &src.text).ok_or_else(|| {
            vec![Problem {
                file: src.file.clone(),
                line: 1,
                message: "not a format initkit reads: give --format (systemd, sysv, upstart, openrc, supervisord, runit, s6, launchd, procfile)"
                    .into(),
            }]
        })?,
        f => f,
    };
    if src.text.contains('\0') {
        return Err(vec![Problem { file: src.file.clone(), line: 1, message: "a binary file, not a text one".into() }]);
    }
    if format == Format::Systemd && companion_unit(&src.file) {
        return Err(vec![Problem {
            file: src.file.clone(),
            line: 1,
            message: "not a service unit: import the .service it belongs to".into(),
        }]);
    }
    let drafts = match format {
        Format::Systemd => vec![systemd::import(src)?],
        Format::Sysv => vec![sysv::import(src)?],
        Format::Procfile => procfile::import(src)?,
        Format::Supervisord => supervisord::import(src)?,
        Format::Upstart => vec![upstart_job::import(src)?],
        Format::Openrc => vec![openrc::import(src)?],
        Format::Runit | Format::S6 => vec![rundir::import(src, format)?],
        Format::Launchd => vec![launchd::import(src)?],
        Format::Auto => unreachable!("auto is resolved above"),
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (name, mut draft, mut report) in drafts {
        // A unit says what sandbox it has (the systemd import reads it); every other format has none.
        if format != Format::Systemd {
            sandbox::open_for_unsandboxed(&mut draft, &mut report, &src.file, 1);
        }
        let recipe =
            draft.text(&format!("Imported by initkit from {}: review it, then run `initkit check` on it.", src.file));
        // What an import writes must be a recipe: the same parser checks it.
        if let Err(e) = crate::recipe::parse_recipe(Path::new(&format!("{name}.toml")), &recipe) {
            for d in &e.diagnostics {
                problems.push(Problem {
                    file: src.file.clone(),
                    line: 1,
                    message: format!("the imported recipe is not valid: {}: {}", d.field, d.message),
                });
            }
            continue;
        }
        out.push(Imported { name, source: src.file.clone(), format, recipe, report, catalogue: None });
    }
    if out.is_empty() && !problems.is_empty() {
        return Err(problems);
    }
    Ok(out)
}
