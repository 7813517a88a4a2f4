//! `initkit import` and `initkit convert`: existing units, scripts and
//! process files read into recipes, with a fidelity report for each.

use std::{
    fs,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

use super::{CliError, output::print};
use crate::{
    catalogue::{Catalogue, default_dirs},
    host::fsops::write_atomic,
    import::{self, Format, Imported, Problem, Source},
    recipe::parse_recipe,
    render::{Flavor, Layout, Options, Target, render},
};

/// The largest file an import reads: units and scripts are a few kB.
const MAX_BYTES: u64 = 1 << 20;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Unit files, init scripts (LSB or OpenRC), Upstart jobs, supervisord files, runit or s6 service directories, launchd plists, Procfiles, or directories of them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub format: Format,
    /// Write NAME.toml for each recipe here instead of printing it.
    #[arg(short = 'o', long)]
    pub out: Option<PathBuf>,
    /// Print JSON: each recipe and its report (see docs/json.md).
    #[arg(long)]
    pub json: bool,
    /// Fail when any source setting would be dropped.
    #[arg(long)]
    pub strict: bool,
    /// Replace a recipe file in --out that differs.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
pub struct ConvertArgs {
    /// A unit file, init script, Upstart job, supervisord file, service directory, launchd plist or Procfile.
    pub file: PathBuf,
    #[arg(long, value_enum)]
    pub to: Target,
    #[arg(long, value_enum, default_value = "auto")]
    pub format: Format,
    #[arg(long, value_enum, default_value = "debian")]
    pub flavor: Flavor,
    /// Write the artifacts under this directory (at their host paths) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Fail when any source setting would be dropped.
    #[arg(long)]
    pub strict: bool,
}

/// Every source under the paths, with the problems of those that cannot be read.
pub fn sources(paths: &[PathBuf]) -> (Vec<Source>, Vec<Problem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if service_dir(path) {
            read_one(&path.join("run"), &mut out, &mut problems);
        } else if path.is_dir() {
            let mut entries: Vec<PathBuf> = match fs::read_dir(path) {
                Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).collect(),
                Err(e) => {
                    problems.push(problem(path, format!("cannot read the directory: {e}")));
                    continue;
                }
            };
            entries.sort();
            for p in entries {
                // Drop-in directories are read with their unit, service
                // directories (runit, s6) by their run file; others are skipped.
                if service_dir(&p) {
                    read_one(&p.join("run"), &mut out, &mut problems);
                } else if p.is_file() && !import::companion_unit(&p.display().to_string()) {
                    read_one(&p, &mut out, &mut problems);
                }
            }
        } else {
            read_one(path, &mut out, &mut problems);
        }
    }
    (out, problems)
}

/// A runit or s6 service directory: one with a `run` file.
fn service_dir(path: &Path) -> bool {
    path.is_dir() && path.join("run").is_file()
}

/// The files of a service directory that amend its `run` file (runit, s6;
/// runit's `check` and `control/t` carry initkit's readiness and stop steps).
const SERVICE_DIR_FILES: [&str; 13] = [
    "finish",
    "check",
    "control/t",
    "log/run",
    "type",
    "notification-fd",
    "down",
    "down-signal",
    "timeout-kill",
    "timeout-finish",
    "max-death-tally",
    "dependencies",
    "conf",
];

fn problem(path: &Path, message: String) -> Problem {
    Problem { file: path.display().to_string(), line: 1, message }
}

pub(super) fn read_text(path: &Path) -> Result<String, String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_BYTES {
        return Err(format!("{} bytes: larger than any unit or script ({MAX_BYTES} at most)", meta.len()));
    }
    let bytes = fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.starts_with(b"bplist") {
        return Err(import::plist::binary_message(&path.display().to_string()));
    }
    if bytes.contains(&0) {
        return Err("a binary file, not a text one".into());
    }
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
}

fn read_one(path: &Path, out: &mut Vec<Source>, problems: &mut Vec<Problem>) {
    let text = match read_text(path) {
        Ok(t) => t,
        Err(e) => return problems.push(problem(path, e)),
    };
    let mut src = Source::new(&path.display().to_string(), &text);
    let abs = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    src.dir = abs.parent().map(|d| d.display().to_string());
    src.owner = fs::metadata(path).ok().and_then(|m| user_name(m.uid()));
    // A unit's drop-ins: FILE.d/*.conf, in name order, each read once.
    let drop_dir = PathBuf::from(format!("{}.d", path.display()));
    if drop_dir.is_dir() {
        let mut confs: Vec<PathBuf> = fs::read_dir(&drop_dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                    .collect()
            })
            .unwrap_or_default();
        confs.sort();
        for c in confs {
            read_extra(&c, &mut src, problems);
        }
    }
    // A service directory's other files and its environment directory.
    if path.file_name().is_some_and(|n| n == "run")
        && let Some(dir) = path.parent()
    {
        for f in SERVICE_DIR_FILES {
            if dir.join(f).is_file() {
                read_extra(&dir.join(f), &mut src, problems);
            }
        }
        for sub in ["env", "dependencies.d"] {
            let mut files: Vec<PathBuf> = fs::read_dir(dir.join(sub))
                .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect())
                .unwrap_or_default();
            files.sort();
            for f in files {
                read_extra(&f, &mut src, problems);
            }
        }
    }
    // An OpenRC script's settings: /etc/conf.d/NAME beside /etc/init.d/NAME.
    if let (Some(dir), Some(base)) = (path.parent(), path.file_name())
        && dir.file_name().is_some_and(|n| n == "init.d")
        && text
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("#!") && (l.contains("openrc-run") || l.contains("/runscript")))
    {
        let conf = dir.with_file_name("conf.d").join(base);
        if conf.is_file() {
            read_extra(&conf, &mut src, problems);
        }
    }
    // An LSB script's settings, which it sources (read as data, never run):
    // /etc/default/NAME, or /etc/sysconfig/NAME on RHEL.
    if let (Some(dir), Some(base)) = (path.parent(), path.file_name())
        && dir.file_name().is_some_and(|n| n == "init.d")
        && text.contains("### BEGIN INIT INFO")
    {
        let etc = if dir.parent().is_some_and(|p| p.file_name().is_some_and(|n| n == "rc.d")) {
            dir.parent().and_then(Path::parent)
        } else {
            dir.parent()
        };
        if let Some(conf) = etc
            .into_iter()
            .flat_map(|e| [e.join("default").join(base), e.join("sysconfig").join(base)])
            .find(|c| c.is_file())
        {
            read_extra(&conf, &mut src, problems);
        }
    }
    // A service's timer or socket beside it: what starts it.
    let name = path.display().to_string();
    if let Some(stem) = name.strip_suffix(".service") {
        for companion in [format!("{stem}.timer"), format!("{stem}.socket")] {
            let companion = PathBuf::from(companion);
            if companion.is_file() {
                read_extra(&companion, &mut src, problems);
            }
        }
    }
    out.push(src);
}

/// A file that amends a source (a drop-in, a companion unit), read beside it.
fn read_extra(path: &Path, src: &mut Source, problems: &mut Vec<Problem>) {
    match read_text(path) {
        Ok(t) => src.extra.push(Source::new(&path.display().to_string(), &t)),
        Err(e) => problems.push(problem(path, e)),
    }
}

fn cannot_write(path: &Path, e: &dyn std::fmt::Display) -> CliError {
    CliError::msg(format!("cannot write {}: {e}", path.display()))
}

fn user_name(uid: u32) -> Option<String> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2].parse() == Ok(uid)).then(|| f[0].to_owned())
    })
}

/// The catalogue recipe for the same daemon: by name, or by the program it runs.
fn recognise(imported: &mut Imported, catalogue: Option<&Catalogue>) {
    let Some(catalogue) = catalogue else { return };
    let Ok(recipe) = parse_recipe(Path::new("x.toml"), &imported.recipe) else { return };
    // A shell or an interpreter says nothing about which daemon it runs.
    let program = recipe.run.command.first().and_then(crate::recipe::Template::as_literal).filter(|p| {
        let base = p.rsplit('/').next().unwrap_or(p);
        !["sh", "bash", "dash", "env", "perl", "ruby", "node", "java", "php"].contains(&base)
            && !base.starts_with("python")
    });
    for entry in &catalogue.entries {
        let Ok(known) = entry.parse() else { continue };
        let same_program =
            program.is_some() && known.run.command.first().and_then(crate::recipe::Template::as_literal) == program;
        if known.name == imported.name || same_program {
            imported.catalogue = Some(known.name.clone());
            return;
        }
    }
}

fn import_all(paths: &[PathBuf], format: Format) -> (Vec<Imported>, Vec<Problem>) {
    let (sources, mut problems) = sources(paths);
    let catalogue = Catalogue::load(&default_dirs()).ok();
    let mut imported = Vec::new();
    for src in &sources {
        match import::import(src, format) {
            Ok(list) => imported.extend(list),
            Err(p) => problems.extend(p),
        }
    }
    for i in &mut imported {
        recognise(i, catalogue.as_ref());
    }
    (imported, problems)
}

fn report_text(imported: &[Imported], problems: &[Problem]) -> String {
    let mut s = String::new();
    for i in imported {
        s.push_str(&format!("{} -> {}.toml\n", i.source, i.name));
        s.push_str(&i.report.text());
        if let Some(c) = &i.catalogue {
            s.push_str(&format!(
                "  the catalogue has a recipe for this daemon, `{c}`, with its config test and hooks: `initkit show {c}`\n"
            ));
        }
    }
    for p in problems {
        s.push_str(&format!("error: {p}\n"));
    }
    s
}

fn verdict(imported: &[Imported], problems: &[Problem], strict: bool) -> Result<(), CliError> {
    if imported.is_empty() {
        return Err(CliError::msg(format!("nothing could be imported ({} problems)", problems.len())));
    }
    let dropped: Vec<&str> = imported.iter().filter(|i| i.report.dropped_any()).map(|i| i.name.as_str()).collect();
    if strict && !dropped.is_empty() {
        return Err(CliError::msg(format!("--strict: settings would be dropped from {}", dropped.join(", "))));
    }
    if strict && !problems.is_empty() {
        return Err(CliError::msg(format!("--strict: {} files could not be imported", problems.len())));
    }
    Ok(())
}

/// One service read from `path` for a command that uses it at once
/// (`install`, `render`): its name and recipe text; the fidelity report goes
/// to stderr, so what was approximated or dropped is said before anything
/// is written.
pub fn import_for_use(path: &Path) -> Result<(String, String), CliError> {
    let (imported, problems) = import_all(&[path.to_path_buf()], Format::Auto);
    eprint!("{}", report_text(&imported, &problems));
    verdict(&imported, &problems, false)?;
    match imported.as_slice() {
        [one] => Ok((one.name.clone(), one.recipe.clone())),
        many => Err(CliError::msg(format!(
            "{} holds {} services ({}): write them with `initkit import {} -o DIR`, then name one recipe file",
            path.display(),
            many.len(),
            many.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", "),
            path.display()
        ))),
    }
}

pub fn run_import(args: &ImportArgs) -> Result<(), CliError> {
    let (imported, problems) = import_all(&args.paths, args.format);
    if args.json {
        let json = serde_json::json!({
            "imports": imported.iter().map(|i| {
                let (c, a, d) = i.report.counts();
                serde_json::json!({
                    "name": i.name, "source": i.source, "format": i.format, "recipe": i.recipe,
                    "catalogue": i.catalogue, "carried": c, "approximated": a, "dropped": d,
                    "report": i.report.entries,
                })
            }).collect::<Vec<_>>(),
            "problems": problems.iter().map(|p| serde_json::json!({"file": p.file, "line": p.line, "message": p.message})).collect::<Vec<_>>(),
        });
        print(&format!("{}\n", serde_json::to_string_pretty(&json).unwrap_or_default()))?;
    } else {
        eprint!("{}", report_text(&imported, &problems));
    }
    verdict(&imported, &problems, args.strict)?;
    if args.strict && imported.iter().any(|i| i.report.dropped_any()) {
        return Ok(());
    }
    match &args.out {
        Some(dir) => {
            fs::create_dir_all(dir)
                .map_err(|e| CliError::msg(format!("cannot create the directory {}: {e}", dir.display())))?;
            let mut refused = Vec::new();
            for i in &imported {
                let dest = dir.join(format!("{}.toml", i.name));
                if let Ok(old) = fs::read_to_string(&dest)
                    && old != i.recipe
                {
                    if !args.force {
                        refused.push(dest.display().to_string());
                        continue;
                    }
                    // What --force replaces is kept beside it.
                    let backup = dir.join(format!("{}.toml.bak", i.name));
                    write_atomic(&backup, old.as_bytes(), 0o644, None).map_err(|e| cannot_write(&backup, &e))?;
                    if !args.json {
                        print(&format!("kept the old {} as {}\n", dest.display(), backup.display()))?;
                    }
                }
                write_atomic(&dest, i.recipe.as_bytes(), 0o644, None).map_err(|e| cannot_write(&dest, &e))?;
                if !args.json {
                    print(&format!("wrote {}\n", dest.display()))?;
                }
            }
            if !refused.is_empty() {
                return Err(CliError::msg(format!(
                    "{} differ from what the import says; use --force to replace them",
                    refused.join(", ")
                )));
            }
        }
        None if !args.json => {
            let mut text = String::new();
            for i in &imported {
                if imported.len() > 1 {
                    text.push_str(&format!("# ==> {}.toml <==\n", i.name));
                }
                text.push_str(&i.recipe);
            }
            print(&text)?;
        }
        None => {}
    }
    Ok(())
}

pub fn run_convert(args: &ConvertArgs) -> Result<(), CliError> {
    let (imported, problems) = import_all(std::slice::from_ref(&args.file), args.format);
    eprint!("{}", report_text(&imported, &problems));
    verdict(&imported, &problems, args.strict)?;
    let mut artifacts = Vec::new();
    for i in &imported {
        let recipe = parse_recipe(Path::new(&format!("{}.toml", i.name)), &i.recipe)?;
        let options = Options { flavor: args.flavor, layout: Layout::default(), instance: None };
        artifacts.extend(render(&recipe, args.to, &options)?);
    }
    super::render::emit(&artifacts, args.out.as_deref())
}
