//! Install: write a recipe's artifacts where the host's init system keeps them,
//! atomically, never over a file initkit did not write (without `--force`, and
//! then with a backup), idempotently, and recorded in the manifest.

use std::{
    fs, io,
    os::unix::fs::symlink,
    path::{Path, PathBuf},
};

use super::{
    enable,
    manifest::{self, FileRecord, LinkRecord, Manifest, hash, under},
    settings,
};
use crate::{
    recipe::Recipe,
    render::{Flavor, Options, Target, artifacts},
};

pub struct Request<'a> {
    pub recipe: &'a Recipe,
    pub recipe_text: &'a str,
    /// The instances to install; empty for a recipe without instances.
    pub instances: Vec<String>,
    pub target: Target,
    pub flavor: Flavor,
    pub root: PathBuf,
    pub sets: Vec<(String, String)>,
    pub enable: bool,
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Create,
    Update,
    Unchanged,
}

#[derive(Debug)]
pub struct PlannedFile {
    pub path: String,
    pub mode: u32,
    pub old: Option<String>,
    pub new: String,
    pub change: Change,
    /// The current file is not one initkit wrote (or was edited since): back it up.
    pub foreign: bool,
    pub instance: Option<String>,
}

#[derive(Debug)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
    pub links: Vec<(LinkRecord, bool)>,
    /// Every reason the install cannot go ahead, all at once.
    pub problems: Vec<String>,
    pub previous: Option<Manifest>,
}

impl Plan {
    pub fn changes_anything(&self) -> bool {
        self.files.iter().any(|f| f.change != Change::Unchanged) || self.links.iter().any(|(_, exists)| !exists)
    }
}

/// Characters systemd's EnvironmentFile= would interpret rather than take literally.
const SYSTEMD_SPECIAL: &[char] = &['"', '\'', '\\', '$', '`'];

/// Checks `--set` pairs against the recipe: known keys, values that survive the file format.
pub fn check_sets(recipe: &Recipe, target: Target, sets: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    let known: Vec<&str> = recipe.vars.iter().map(|v| v.name.as_str()).collect();
    for (key, value) in sets {
        if recipe.var(key).is_none() {
            let known =
                if known.is_empty() { "it has none".to_owned() } else { format!("it has: {}", known.join(", ")) };
            problems.push(format!("--set {key}: recipe `{}` has no variable `{key}` ({known})", recipe.name));
        } else if value.contains('\n') {
            problems.push(format!("--set {key}: a value cannot contain a newline"));
        } else if target == Target::Systemd && value.contains(SYSTEMD_SPECIAL) {
            problems.push(format!(
                "--set {key}: systemd would interpret {:?} in {value:?}; use a value without quotes, `\\`, `$` or backticks",
                value.chars().find(|c| SYSTEMD_SPECIAL.contains(c)).unwrap_or('"')
            ));
        }
    }
    problems
}

/// The settings file after `--set`: existing lines kept, set keys replaced
/// (or uncommented, or appended).
pub fn merge_settings(existing: &str, sets: &[(String, String)]) -> String {
    let mut lines: Vec<String> = existing.lines().map(str::to_owned).collect();
    for (key, value) in sets {
        let line = format!("{key}={value}");
        let set = lines.iter().position(|l| l.split_once('=').is_some_and(|(k, _)| k == key));
        let commented = lines
            .iter()
            .position(|l| l.strip_prefix('#').and_then(|r| r.split_once('=')).is_some_and(|(k, _)| k == key));
        match set.or(commented) {
            Some(i) => lines[i] = line,
            None => lines.push(line),
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn read_optional(path: &Path) -> io::Result<Option<String>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Works out what an install would change, and every reason it cannot.
pub fn plan(req: &Request<'_>) -> io::Result<Plan> {
    let previous = manifest::load(&req.root, &req.recipe.name)?;
    let mut problems = check_sets(req.recipe, req.target, &req.sets);
    if let Some(prev) = &previous
        && (prev.target != req.target || prev.flavor != req.flavor)
    {
        problems.push(format!(
            "`{}` is installed for {} ({}); uninstall it before installing for {} ({})",
            req.recipe.name,
            prev.target.name(),
            prev.flavor.name(),
            req.target.name(),
            req.flavor.name()
        ));
    }
    let options = Options { flavor: req.flavor, ..Options::default() };
    let mut wanted: Vec<(String, u32, String, Option<String>)> = Vec::new();
    // The unit, script or service directories; the settings files come below.
    if req.target.per_instance() && !req.instances.is_empty() {
        for instance in &req.instances {
            let options = Options { instance: Some(instance.clone()), ..options.clone() };
            for a in artifacts(req.recipe, req.target, &options).map_err(io::Error::other)? {
                wanted.push((a.path, a.mode, a.content, Some(instance.clone())));
            }
        }
    } else {
        for a in artifacts(req.recipe, req.target, &options).map_err(io::Error::other)? {
            wanted.push((a.path, a.mode, a.content, None));
        }
    }
    // Settings: the instance's own file (or the service's, without instances).
    let settings_targets: Vec<Option<String>> =
        if req.instances.is_empty() { vec![None] } else { req.instances.iter().cloned().map(Some).collect() };
    for instance in &settings_targets {
        let path = settings::files(req.recipe, req.flavor, instance.as_deref()).pop().unwrap_or_default();
        let existing = read_optional(&under(&req.root, &path))?;
        let new = match (&existing, instance) {
            (Some(text), _) if req.sets.is_empty() => text.clone(),
            (Some(text), _) => merge_settings(text, &req.sets),
            (None, Some(i)) => {
                let sample = crate::render::sysv_instance_file(req.recipe, &options, i);
                merge_settings(&sample.content, &req.sets)
            }
            (None, None) if req.sets.is_empty() => continue,
            (None, None) => merge_settings("", &req.sets),
        };
        wanted.push((path, 0o644, new, instance.clone()));
    }

    let mut files = Vec::new();
    for (path, mode, new, instance) in wanted {
        let old = read_optional(&under(&req.root, &path))?;
        let recorded = previous.as_ref().and_then(|m| m.files.iter().find(|f| f.path == path));
        let is_settings = settings::files(req.recipe, req.flavor, instance.as_deref()).contains(&path);
        let (change, foreign) = match &old {
            None => (Change::Create, false),
            Some(old) if *old == new => (Change::Unchanged, false),
            Some(old) => {
                let ours_unedited = recorded.is_some_and(|r| r.hash == hash(old.as_bytes()));
                // A settings file initkit wrote is the operator's to edit: merging into it is not a conflict.
                let ours = ours_unedited || (is_settings && recorded.is_some());
                if !ours && !req.force {
                    problems.push(if recorded.is_some() {
                        format!(
                            "{path} was changed since initkit wrote it; use --force to replace it (a backup is kept)"
                        )
                    } else {
                        format!(
                            "{path} exists and initkit did not write it; use --force to replace it (a backup is kept)"
                        )
                    });
                }
                (Change::Update, !ours)
            }
        };
        files.push(PlannedFile { path, mode, old, new, change, foreign, instance });
    }

    let mut wanted_links: Vec<LinkRecord> = Vec::new();
    for instance in &req.instances {
        wanted_links.extend(enable::instance_links(req.recipe, req.target, Some(instance)));
    }
    if req.enable {
        let link_instances: Vec<Option<&str>> = match req.target {
            Target::Sysv => vec![None],
            _ if req.instances.is_empty() => vec![None],
            _ => req.instances.iter().map(|i| Some(i.as_str())).collect(),
        };
        for instance in link_instances {
            wanted_links.extend(enable::links(req.recipe, req.target, req.flavor, instance));
        }
    }
    let mut links = Vec::new();
    for link in wanted_links {
        let path = under(&req.root, &link.path);
        let exists = match fs::read_link(&path) {
            Ok(t) if t == Path::new(&link.target) => true,
            Ok(_) | Err(_) if path.symlink_metadata().is_ok() => {
                let recorded = previous.as_ref().is_some_and(|m| m.links.iter().any(|l| l.path == link.path));
                if !recorded && !req.force {
                    problems
                        .push(format!("{} exists and initkit did not make it; use --force to replace it", link.path));
                }
                false
            }
            _ => false,
        };
        links.push((link, exists));
    }
    Ok(Plan { files, links, problems, previous })
}

/// A unified diff of every file the plan changes, and the links it makes.
pub fn diff(plan: &Plan) -> String {
    let mut out = String::new();
    for f in plan.files.iter().filter(|f| f.change != Change::Unchanged) {
        let old = f.old.as_deref().unwrap_or("");
        let from = if f.old.is_some() { f.path.clone() } else { "/dev/null".to_owned() };
        let text = similar::TextDiff::from_lines(old, &f.new);
        out.push_str(&text.unified_diff().context_radius(3).header(&from, &f.path).to_string());
    }
    for (link, exists) in &plan.links {
        if !exists {
            out.push_str(&format!("link {} -> {}\n", link.path, link.target));
        }
    }
    out
}

/// Creates `dir` and its missing parents, recording each one created.
fn create_dirs(root: &Path, dir: &Path, created: &mut Vec<String>) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut cur = dir;
    while !cur.exists() {
        missing.push(cur.to_path_buf());
        match cur.parent() {
            Some(p) => cur = p,
            None => break,
        }
    }
    for d in missing.iter().rev() {
        fs::create_dir(d)?;
        let rel = d.strip_prefix(root).map(|r| format!("/{}", r.display())).unwrap_or_default();
        if !created.contains(&rel) {
            created.push(rel);
        }
    }
    Ok(())
}

/// Where the file at host `path` is saved before it is replaced.
fn backup_path(root: &Path, path: &str) -> (PathBuf, String) {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let rel = format!("/{}/{}.{stamp}", manifest::BACKUPS, path.trim_start_matches('/'));
    (under(root, &rel), rel)
}

/// Carries out a plan that has no problems; returns the new manifest.
pub fn apply(req: &Request<'_>, plan: &Plan) -> io::Result<Manifest> {
    let root = &req.root;
    let mut m = plan.previous.clone().unwrap_or(Manifest {
        recipe: req.recipe.name.clone(),
        target: req.target,
        flavor: req.flavor,
        instances: Vec::new(),
        files: Vec::new(),
        links: Vec::new(),
        created_dirs: Vec::new(),
        registered_with: None,
        recipe_text: String::new(),
    });
    req.recipe_text.clone_into(&mut m.recipe_text);
    create_dirs(root, &root.join(manifest::DIR), &mut m.created_dirs)?;
    for f in &plan.files {
        let dest = under(root, &f.path);
        if f.change != Change::Unchanged {
            if let Some(parent) = dest.parent() {
                create_dirs(root, parent, &mut m.created_dirs)?;
            }
            let mut backup = None;
            if f.foreign {
                let (abs, rel) = backup_path(root, &f.path);
                if let Some(parent) = abs.parent() {
                    create_dirs(root, parent, &mut m.created_dirs)?;
                }
                fs::copy(&dest, &abs)?;
                backup = Some(rel);
            }
            manifest::write_atomic(&dest, f.new.as_bytes(), f.mode)?;
            let previous_backup = m.files.iter().find(|r| r.path == f.path).and_then(|r| r.backup.clone());
            m.files.retain(|r| r.path != f.path);
            m.files.push(FileRecord {
                path: f.path.clone(),
                hash: hash(f.new.as_bytes()),
                backup: previous_backup.or(backup),
                instance: f.instance.clone(),
            });
        }
    }
    for (link, exists) in &plan.links {
        if !exists {
            let path = under(root, &link.path);
            if let Some(parent) = path.parent() {
                create_dirs(root, parent, &mut m.created_dirs)?;
            }
            if path.symlink_metadata().is_ok() {
                fs::remove_file(&path)?;
            }
            symlink(&link.target, &path)?;
        }
        if !m.links.iter().any(|l| l.path == link.path) {
            m.links.push(link.clone());
        }
    }
    for i in &req.instances {
        if !m.instances.contains(i) {
            m.instances.push(i.clone());
        }
    }
    manifest::save(root, &m)?;
    Ok(m)
}
