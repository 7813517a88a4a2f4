//! Install: write a recipe's artifacts where the host's init system keeps them,
//! as one transaction (intent recorded, each file written beside and renamed,
//! result recorded), never over a file, link or directory initkit did not
//! write (without `--force`, and then with a backup that keeps its owner, mode
//! and time), idempotently.

use std::{
    collections::{HashMap, HashSet},
    fs,
    path::{Path, PathBuf},
};

use super::{
    driver::driver_for,
    error::{HostError, Result},
    fsops::{self, Attrs, Existing},
    manifest::{self, Backup, FileRecord, LinkRecord, Manifest, Pending, Saved, hash, host_path, under},
    scope::Place,
    sets::SetsByInstance,
    settings,
};
use crate::{
    recipe::{
        Recipe,
        text::{self, Kind},
    },
    render::{Flavor, Options, Target, artifacts, envfile},
};

pub struct Request<'a> {
    pub recipe: &'a Recipe,
    pub recipe_text: &'a str,
    /// The instances to install; empty for a recipe without instances.
    pub instances: Vec<String>,
    pub target: Target,
    pub flavor: Flavor,
    /// The root, and the user whose service it is (none: the system's).
    pub place: Place,
    pub sets: Vec<Setting>,
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
    /// The current text, for the diff (a link or directory shows as empty).
    pub old: Option<String>,
    pub new: String,
    pub change: Change,
    /// What stands there is not initkit's (or was edited since): it is backed up.
    pub foreign: Option<Foreign>,
    pub instance: Option<String>,
    /// Unchanged, but not in the record: initkit's own rendering found on
    /// disk (a lost or damaged manifest), recorded again as initkit's.
    pub adopt: bool,
}

/// Something initkit did not write, standing where it will write.
#[derive(Debug, Clone)]
pub struct Foreign {
    pub what: Existing,
    pub attrs: Attrs,
}

#[derive(Debug)]
pub struct PlannedLink {
    pub link: LinkRecord,
    /// The link is already there, pointing where it should.
    pub exists: bool,
    pub foreign: Option<Foreign>,
}

#[derive(Debug)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
    pub links: Vec<PlannedLink>,
    /// Every reason the install cannot go ahead, all at once.
    pub problems: Vec<String>,
    pub previous: Option<Manifest>,
}

impl Plan {
    pub fn changes_anything(&self) -> bool {
        self.files.iter().any(|f| f.change != Change::Unchanged || f.adopt) || self.links.iter().any(|l| !l.exists)
    }
}

/// One `--set`: a variable's value for one instance, or for every instance
/// installed (and for a service without instances).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub instance: Option<String>,
    pub key: String,
    pub value: String,
}

impl Setting {
    /// `KEY=VALUE` or `INSTANCE:KEY=VALUE` (neither a key nor an instance
    /// name holds `:` or `=`, so the value may hold both).
    pub fn parse(text: &str) -> Option<Setting> {
        let (lhs, value) = text.split_once('=')?;
        let (instance, key) = match lhs.split_once(':') {
            Some((i, k)) => (Some(i.to_owned()), k),
            None => (None, lhs),
        };
        Some(Setting { instance, key: key.to_owned(), value: value.to_owned() })
    }
}

/// Checks `--set` values against the recipe and the instances installed:
/// known keys, known instances, values that survive the file format.
pub fn check_sets(recipe: &Recipe, target: Target, instances: &[String], sets: &[Setting]) -> Vec<String> {
    let mut problems = Vec::new();
    let known: Vec<&str> = recipe.vars.iter().map(|v| v.name.as_str()).collect();
    let installing: HashSet<&str> = instances.iter().map(String::as_str).collect();
    for Setting { instance, key, value } in sets {
        if let Some(i) = instance
            && !installing.contains(i.as_str())
        {
            let why = if instances.is_empty() {
                format!("recipe `{}` has no instances", recipe.name)
            } else {
                format!("this install is of {}", instances.join(", "))
            };
            problems.push(format!("--set {i}:{key}: `{i}` is not an instance being installed ({why})"));
        } else if recipe.var(key).is_none() {
            let known =
                if known.is_empty() { "it has none".to_owned() } else { format!("it has: {}", known.join(", ")) };
            problems.push(format!("--set {key}: recipe `{}` has no variable `{key}` ({known})", recipe.name));
        } else if let Err(why) = text::check(Kind::Line, value) {
            problems.push(format!("--set {key}: the value {why}"));
        } else if !target.backend().reads_settings() {
            problems.push(format!(
                "--set {key}: {} substitutes nothing at run time, so a setting has nowhere to go; override the recipe instead",
                target.name()
            ));
        }
    }
    problems
}

/// The settings file after `--set`: existing lines kept, set keys replaced
/// (or uncommented, or appended).
pub fn merge_settings(existing: &str, sets: &[&Setting]) -> String {
    let mut lines: Vec<String> = existing.lines().map(str::to_owned).collect();
    for Setting { key, value, .. } in sets {
        // Quoted as systemd's EnvironmentFile= and the scripts read it: any one-line value is data.
        let line = envfile::line(key, value).trim_end().to_owned();
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

fn metadata_attrs(path: &Path) -> Attrs {
    fs::symlink_metadata(path).map_or(Attrs { uid: 0, gid: 0, mode: 0o644, mtime_ns: 0 }, |m| Attrs::of(&m))
}

/// Settings files hold values a person sets, passwords among them: root only.
pub const SETTINGS_MODE: u32 = 0o600;

/// Works out what an install would change, and every reason it cannot.
/// `salvaged` names files a damaged manifest still showed as initkit's.
pub fn plan(req: &Request<'_>, previous: Option<Manifest>, salvaged: &[(String, Option<String>)]) -> Result<Plan> {
    let mut problems = check_sets(req.recipe, req.target, &req.instances, &req.sets);
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
    let options = Options { flavor: req.flavor, layout: req.place.layout(), ..Options::default() };
    let layout = &options.layout;
    let mut wanted: Vec<(String, u32, String, Option<String>)> = Vec::new();
    // The unit, script or service directories; the settings files come below.
    let render_err = |e: crate::render::RenderError| HostError::Refused(e.to_string());
    if req.target.per_instance() && !req.instances.is_empty() {
        for instance in &req.instances {
            let options = Options { instance: Some(instance.clone()), ..options.clone() };
            for a in artifacts(req.recipe, req.target, &options).map_err(render_err)? {
                // What every instance shares is written once and belongs to none of them.
                if a.shared && wanted.iter().any(|w| w.0 == a.path) {
                    continue;
                }
                let owner = if a.shared { None } else { Some(instance.clone()) };
                wanted.push((a.path, a.mode, a.content, owner));
            }
        }
    } else {
        for a in artifacts(req.recipe, req.target, &options).map_err(render_err)? {
            wanted.push((a.path, a.mode, a.content, None));
        }
    }
    // Settings: the instance's own file (or the service's, without instances).
    // Not for a target that reads no settings at run time (launchd).
    let settings_targets: Vec<Option<String>> = if !req.target.backend().reads_settings() {
        Vec::new()
    } else if req.instances.is_empty() {
        vec![None]
    } else {
        req.instances.iter().cloned().map(Some).collect()
    };
    let by_instance = SetsByInstance::new(&req.sets);
    for instance in &settings_targets {
        let path =
            settings::files(req.recipe, req.target, layout, req.flavor, instance.as_deref()).pop().unwrap_or_default();
        let existing = match fsops::existing(&under(&req.place.root, &path))? {
            Existing::File(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            _ => None,
        };
        let sets = by_instance.get(instance.as_deref());
        let new = match (&existing, instance) {
            (Some(text), _) if sets.is_empty() => text.clone(),
            (Some(text), _) => merge_settings(text, &sets),
            (None, Some(i)) => {
                let sample = crate::render::settings_file(req.recipe, req.target, &options, i);
                merge_settings(&sample.content, &sets)
            }
            (None, None) if sets.is_empty() => continue,
            (None, None) => merge_settings("", &sets),
        };
        wanted.push((path, SETTINGS_MODE, new, instance.clone()));
    }
    // A supervisor that runs what its scan directory links (runit, s6,
    // daemontools): an instance that is not to start at boot gets its `down`
    // file, written before its link, so that linking it does not start it.
    let drv = driver_for(req.target, req.place.user.is_some());
    for instance in instances_or_service(&req.instances) {
        let Some(down) = drv.down_file(&req.recipe.name, instance) else { continue };
        let was_enabled = previous.as_ref().is_some_and(|m| {
            drv.instance_links(req.recipe, instance).iter().all(|l| m.links.iter().any(|r| r.path == l.path))
                && !m.files.iter().any(|f| f.path == down)
        });
        if !req.enable && !was_enabled {
            wanted.push((down, super::enable::DOWN_MODE, String::new(), instance.map(str::to_owned)));
        }
    }

    let records = by_path(previous.iter().flat_map(|m| &m.files), |f| &f.path);
    let mut files = Vec::new();
    for (path, mode, new, instance) in wanted {
        let abs = under(&req.place.root, &path);
        let current = fsops::existing(&abs)?;
        let recorded = records.get(path.as_str()).copied();
        let salvaged_hash = salvaged.iter().find(|(p, _)| *p == path).map(|(_, h)| h.clone());
        let is_settings =
            settings::files(req.recipe, req.target, layout, req.flavor, instance.as_deref()).contains(&path);
        let mut foreign = None;
        let (change, old) = match &current {
            Existing::Nothing => (Change::Create, None),
            Existing::File(bytes) if *bytes == new.as_bytes() => (Change::Unchanged, Some(new.clone())),
            Existing::File(bytes) => {
                let h = hash(bytes);
                let ours_unedited = recorded.is_some_and(|r| r.hash == h)
                    || salvaged_hash.as_ref().is_some_and(|s| s.as_deref() == Some(h.as_str()));
                // A settings file initkit wrote is the operator's to edit: merging into it is not a conflict.
                let ours = ours_unedited || (is_settings && recorded.is_some());
                if !ours {
                    if !req.force {
                        problems.push(if recorded.is_some() {
                            format!("{path} was changed since initkit wrote it; use --force to replace it (a backup is kept)")
                        } else {
                            format!("{path} exists and initkit did not write it; use --force to replace it (a backup is kept)")
                        });
                    }
                    foreign = Some(Foreign { what: current.clone(), attrs: metadata_attrs(&abs) });
                }
                (Change::Update, Some(String::from_utf8_lossy(bytes).into_owned()))
            }
            Existing::Link(target) => {
                if !req.force {
                    problems.push(format!(
                        "{path} is a symlink to {} that initkit did not make; use --force to replace it (the link is kept and restored on uninstall)",
                        target.display()
                    ));
                }
                foreign = Some(Foreign { what: current.clone(), attrs: metadata_attrs(&abs) });
                (Change::Update, Some(String::new()))
            }
            Existing::Dir => {
                if !req.force {
                    problems.push(format!(
                        "{path} is a directory initkit did not make; use --force to move it aside (it is restored on uninstall)"
                    ));
                }
                foreign = Some(Foreign { what: current.clone(), attrs: metadata_attrs(&abs) });
                (Change::Update, Some(String::new()))
            }
            Existing::Other => {
                problems.push(format!("{path} is a socket, fifo or device; initkit will not replace it"));
                (Change::Update, None)
            }
        };
        // A settings file is the operator's until initkit writes it; an artifact identical
        // to what initkit renders is initkit's, whatever happened to its record.
        let adopt = change == Change::Unchanged && recorded.is_none() && !is_settings;
        files.push(PlannedFile { path, mode, old, new, change, foreign, instance, adopt });
    }

    let mut wanted_links: Vec<LinkRecord> = Vec::new();
    for instance in instances_or_service(&req.instances) {
        wanted_links.extend(drv.instance_links(req.recipe, instance));
    }
    if req.enable {
        let link_instances: Vec<Option<&str>> = if drv.enables_once() || req.instances.is_empty() {
            vec![None]
        } else {
            req.instances.iter().map(|i| Some(i.as_str())).collect()
        };
        for instance in link_instances {
            wanted_links.extend(drv.enable_links(req.recipe, layout, req.flavor, instance));
        }
    }
    let recorded_links = by_path(previous.iter().flat_map(|m| &m.links), |l| &l.path);
    let mut links = Vec::new();
    for link in wanted_links {
        let abs = under(&req.place.root, &link.path);
        let current = fsops::existing(&abs)?;
        let recorded = recorded_links.contains_key(link.path.as_str());
        let (exists, foreign) = match &current {
            Existing::Link(t) if t == Path::new(&link.target) => (true, None),
            Existing::Nothing => (false, None),
            _ if recorded => (false, None),
            Existing::Other => {
                problems.push(format!("{} is a socket, fifo or device; initkit will not replace it", link.path));
                (false, None)
            }
            _ => {
                if !req.force {
                    problems.push(format!(
                        "{} exists and initkit did not make it; use --force to replace it (it is restored on uninstall)",
                        link.path
                    ));
                }
                (false, Some(Foreign { what: current.clone(), attrs: metadata_attrs(&abs) }))
            }
        };
        links.push(PlannedLink { link, exists, foreign });
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
    for l in &plan.links {
        if !l.exists {
            out.push_str(&format!("link {} -> {}\n", l.link.path, l.link.target));
        }
    }
    out
}

/// Where the thing at host `path` is saved before it is replaced.
fn backup_path(place: &Place, path: &str) -> String {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{}/{}.{stamp}", place.backups(), path.trim_start_matches('/'))
}

/// The backup a foreign thing gets: a copy of a file, the target of a link, a
/// directory moved aside.
fn planned_backup(place: &Place, foreign: &Foreign, path: &str) -> Backup {
    let saved = match &foreign.what {
        Existing::Link(target) => Saved::Link { target: target.display().to_string() },
        Existing::Dir => Saved::Dir { moved_to: backup_path(place, path) },
        _ => Saved::File { copy: backup_path(place, path) },
    };
    Backup::new(saved, foreign.attrs)
}

/// The missing directories above `path` (host paths, outermost first).
fn missing_dirs(root: &Path, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = Path::new(path).parent();
    while let Some(dir) = cur {
        if dir == Path::new("/") || under(root, &dir.display().to_string()).exists() {
            break;
        }
        out.push(dir.display().to_string());
        cur = dir.parent();
    }
    out.reverse();
    out
}

/// Saves what a foreign thing at `abs` was, before it is replaced.
fn make_backup(place: &Place, abs: &Path, backup: &Backup, m: &mut Manifest) -> Result<()> {
    let root = &place.root;
    match &backup.saved {
        Saved::Link { .. } | Saved::Legacy { .. } => Ok(()),
        Saved::File { copy } => {
            let dest = under(root, copy);
            record_dirs(root, &dest, m)?;
            let bytes = fs::read(abs).map_err(HostError::io("reading", abs))?;
            fsops::write_atomic(&dest, &bytes, 0o600, None)
        }
        Saved::Dir { moved_to } => {
            let dest = under(root, moved_to);
            record_dirs(root, &dest, m)?;
            fs::rename(abs, &dest).map_err(|e| {
                if e.raw_os_error() == Some(libc::EXDEV) {
                    HostError::Refused(format!(
                        "{} is a directory on another file system than {}; move it away yourself",
                        abs.display(),
                        place.backups()
                    ))
                } else {
                    HostError::io("moving aside", abs)(e)
                }
            })
        }
    }
}

/// Creates the directories above `abs`, recording each.
fn record_dirs(root: &Path, abs: &Path, m: &mut Manifest) -> Result<()> {
    if let Some(parent) = abs.parent() {
        for d in fsops::create_dirs(parent)? {
            m.created(host_path(root, &d));
        }
    }
    Ok(())
}

/// Carries out a plan that has no problems, as one transaction; returns the
/// new manifest. `state_dirs` are directories made for initkit's own state
/// (the lock's), recorded so uninstall removes them.
pub fn apply(req: &Request<'_>, plan: &Plan, state_dirs: &[PathBuf]) -> Result<Manifest> {
    let place = &req.place;
    let root = &place.root;
    let mut m = plan.previous.clone().unwrap_or_else(|| Manifest::new(&req.recipe.name, req.target, req.flavor));
    m.user = place.user.as_ref().map(|u| u.name.clone());
    for d in state_dirs {
        m.created(host_path(root, d));
    }
    record_dirs(root, &place.at(&place.installed()).join("x"), &mut m)?;
    manifest::save_recipe(place, &req.recipe.name, req.recipe_text)?;
    m.recipe_text.clear();

    // The intent: every record this change will make, before the first write.
    let mut pending = Pending::default();
    let records = by_path(&m.files, |r| &r.path);
    let link_records = by_path(&m.links, |r| &r.path);
    for f in plan.files.iter().filter(|f| f.change != Change::Unchanged || f.adopt) {
        let previous_backup = records.get(f.path.as_str()).and_then(|r| r.backup.clone());
        let backup = previous_backup.or_else(|| f.foreign.as_ref().map(|x| planned_backup(&req.place, x, &f.path)));
        pending.files.push(FileRecord {
            path: f.path.clone(),
            hash: hash(f.new.as_bytes()),
            backup,
            instance: f.instance.clone(),
            mode: Some(f.mode),
        });
        pending.dirs.extend(missing_dirs(root, &f.path));
    }
    for l in plan.links.iter().filter(|l| !l.exists) {
        let mut link = l.link.clone();
        link.backup = link_records
            .get(link.path.as_str())
            .and_then(|r| r.backup.clone())
            .or_else(|| l.foreign.as_ref().map(|x| planned_backup(&req.place, x, &link.path)));
        pending.dirs.extend(missing_dirs(root, &link.path));
        pending.links.push(link);
    }
    m.pending = Some(pending.clone());
    manifest::save(place, &m)?;

    let result = write_all(req, plan, &pending, &mut m);
    match result {
        Ok(()) => {
            // The result: the records, and nothing pending.
            m.pending = None;
            replace_records(&mut m.files, pending.files);
            let mut linked: HashSet<String> = m.links.iter().map(|l| l.path.clone()).collect();
            for link in pending.links {
                if linked.insert(link.path.clone()) {
                    m.links.push(link);
                }
            }
            let mut known: HashSet<String> = m.instances.iter().cloned().collect();
            for i in &req.instances {
                if known.insert(i.clone()) {
                    m.instances.push(i.clone());
                }
            }
            if req.enable {
                lift_down_files(req, &mut m)?;
            }
            manifest::save(place, &m)?;
            Ok(m)
        }
        Err(e) => {
            // Record what was written; if even that fails, the intent on disk lets the next run do it.
            if manifest::recover(root, &mut m).is_ok() {
                let _ = manifest::save(place, &m);
            }
            Err(e)
        }
    }
}

/// The instances of a request, or `None` once for a recipe without instances.
fn instances_or_service(instances: &[String]) -> Vec<Option<&str>> {
    if instances.is_empty() { vec![None] } else { instances.iter().map(|i| Some(i.as_str())).collect() }
}

/// Enabling an instance of a supervisor that runs what its scan directory
/// links: its `down` file goes, and with it its record.
fn lift_down_files(req: &Request<'_>, m: &mut Manifest) -> Result<()> {
    let drv = driver_for(req.target, req.place.user.is_some());
    for instance in instances_or_service(&req.instances) {
        let Some(down) = drv.down_file(&req.recipe.name, instance) else { continue };
        let abs = under(&req.place.root, &down);
        match fs::remove_file(&abs) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(HostError::io("removing", &abs)(e)),
            _ => {}
        }
        m.files.retain(|f| f.path != down);
    }
    Ok(())
}

/// Records by path, the first of each: one lookup per planned file instead
/// of a scan of the whole record (an install of many instances has many).
fn by_path<'a, T: 'a>(
    records: impl IntoIterator<Item = &'a T>,
    path: impl Fn(&T) -> &String,
) -> HashMap<&'a str, &'a T> {
    let mut map = HashMap::new();
    for r in records {
        map.entry(path(r).as_str()).or_insert(r);
    }
    map
}

/// `files` with each of `new` in place of the record of its path: the
/// others in their order, then the new ones (the last of a path wins), as
/// removing and appending them one at a time would leave it.
fn replace_records(files: &mut Vec<FileRecord>, new: Vec<FileRecord>) {
    let last: HashMap<&str, usize> = new.iter().enumerate().map(|(at, r)| (r.path.as_str(), at)).collect();
    files.retain(|r| !last.contains_key(r.path.as_str()));
    let keep: Vec<bool> = new.iter().enumerate().map(|(at, r)| last[r.path.as_str()] == at).collect();
    files.extend(new.into_iter().zip(keep).filter_map(|(r, k)| k.then_some(r)));
}

fn write_all(req: &Request<'_>, plan: &Plan, pending: &Pending, m: &mut Manifest) -> Result<()> {
    let root = &req.place.root;
    for f in plan.files.iter().filter(|f| f.change != Change::Unchanged) {
        let abs = under(root, &f.path);
        record_dirs(root, &abs, m)?;
        if f.foreign.is_some()
            && let Some(backup) = pending.files.iter().find(|r| r.path == f.path).and_then(|r| r.backup.as_ref())
        {
            make_backup(&req.place, &abs, backup, m)?;
        }
        fsops::write_atomic(&abs, f.new.as_bytes(), f.mode, None)?;
    }
    for l in plan.links.iter().filter(|l| !l.exists) {
        let abs = under(root, &l.link.path);
        record_dirs(root, &abs, m)?;
        if l.foreign.is_some()
            && let Some(backup) = pending.links.iter().find(|r| r.path == l.link.path).and_then(|r| r.backup.as_ref())
        {
            make_backup(&req.place, &abs, backup, m)?;
        }
        fsops::symlink_atomic(Path::new(&l.link.target), &abs, None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{FileRecord, replace_records};

    fn rec(path: &str, hash: &str) -> FileRecord {
        FileRecord { path: path.to_owned(), hash: hash.to_owned(), backup: None, instance: None, mode: None }
    }

    #[test]
    fn records_are_replaced_as_one_at_a_time_would() {
        let old = vec![rec("/a", "1"), rec("/b", "1"), rec("/c", "1")];
        let new = vec![rec("/b", "2"), rec("/d", "2"), rec("/b", "3")];
        let mut one_at_a_time = old.clone();
        for r in new.clone() {
            one_at_a_time.retain(|f| f.path != r.path);
            one_at_a_time.push(r);
        }
        let mut files = old;
        replace_records(&mut files, new);
        assert_eq!(files, one_at_a_time);
        let order: Vec<(&str, &str)> = files.iter().map(|f| (f.path.as_str(), f.hash.as_str())).collect();
        assert_eq!(order, [("/a", "1"), ("/c", "1"), ("/d", "2"), ("/b", "3")]);
    }
}
