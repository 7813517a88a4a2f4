//! `initkit install` and `initkit uninstall`: artifacts onto the host (or a root), and off again.

use std::path::{Path, PathBuf};

use super::{CliError, operate, output::print, resolve, suggest, user};
use crate::{
    host::{
        detect::{Detection, detect, detect_host},
        driver::{driver, driver_of},
        error::HostError,
        install::{self, Change, Request, Setting},
        leftovers,
        lock::Lock,
        manifest,
        preconditions::{self, Missing},
        scope::Place,
        uninstall::{self, uninstall},
    },
    recipe::{Recipe, ServiceSpec, parse_recipe},
    render::{Flavor, Target},
};

/// `auto` (detect the host's init system) or a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetArg(Option<Target>);

fn target_arg(text: &str) -> Result<TargetArg, String> {
    if text == "auto" {
        return Ok(TargetArg(None));
    }
    <Target as clap::ValueEnum>::from_str(text, false)
        .map(|t| TargetArg(Some(t)))
        .map_err(|_| format!("expected auto or one of: {}", Target::ALL.map(Target::name).join(", ")))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FlavorArg {
    Auto,
    Debian,
    Rhel,
}

#[derive(clap::Args, Debug)]
#[allow(clippy::struct_excessive_bools)] // each is a command-line flag
pub struct InstallArgs {
    /// `NAME`, `NAME@INSTANCE` (several instances of one recipe may be given), or a recipe file.
    #[arg(required = true)]
    specs: Vec<String>,
    /// `auto`, or systemd, sysv, openrc, runit, s6, daemontools, supervisord, upstart, launchd.
    #[arg(long, value_parser = target_arg, default_value = "auto")]
    target: TargetArg,
    #[arg(long, value_enum, default_value_t = FlavorArg::Auto)]
    flavor: FlavorArg,
    /// Install into this root (a chroot or image) instead of the running host.
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// A variable for the settings file: `KEY=VALUE` for every instance
    /// installed, `INSTANCE:KEY=VALUE` for one; repeatable.
    #[arg(long = "set", value_name = "[INSTANCE:]KEY=VALUE")]
    sets: Vec<String>,
    /// Show what would change, as a diff, and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Enable at boot.
    #[arg(long)]
    enable: bool,
    /// Start after installing (the running host only).
    #[arg(long)]
    start: bool,
    /// Replace files initkit did not write (each is backed up first); install
    /// even when the user or the executable is missing.
    #[arg(long)]
    force: bool,
    /// Make the recipe's user and group as system accounts when they do not exist.
    #[arg(long)]
    create_user: bool,
    /// A service of the calling user, without root: a systemd user unit in
    /// ~/.config/systemd/user, run by the user's own manager, as that user.
    #[arg(long)]
    user: bool,
    /// With --user: enable lingering (`loginctl enable-linger`), so the
    /// user's manager, and the service, run from boot without a login.
    #[arg(long, requires = "user")]
    linger: bool,
}

#[derive(clap::Args, Debug)]
pub struct UninstallArgs {
    /// `NAME` (everything) or `NAME@INSTANCE` (that instance).
    spec: String,
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// Also remove files changed since initkit wrote them, and go on when
    /// the service cannot be stopped.
    #[arg(long)]
    force: bool,
    /// Also remove the service's state, log and runtime directories and its
    /// console logs (its data: there is no undo).
    #[arg(long)]
    purge: bool,
    /// A service of the calling user (installed with `install --user`).
    #[arg(long)]
    user: bool,
}

fn check_root(root: &Path) -> Result<(), CliError> {
    if !root.is_dir() {
        return Err(CliError::msg(format!(
            "--root {} does not exist or is not a directory; nothing was written",
            root.display()
        )));
    }
    Ok(())
}

/// Whether the nearest existing ancestor of `dir` lets us create files.
fn writable(dir: &Path) -> bool {
    let mut cur = dir;
    while !cur.exists() {
        match cur.parent() {
            Some(p) => cur = p,
            None => return false,
        }
    }
    let probe = cur.join(format!(".initkit-probe-{}", std::process::id()));
    let ok = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

/// The running host's view for `/`, the image's for any other root.
fn detection(root: &Path) -> Detection {
    if root == Path::new("/") { detect_host() } else { detect(root, None) }
}

fn resolve_target(arg: TargetArg, root: &Path) -> Result<Target, CliError> {
    if let TargetArg(Some(target)) = arg {
        return Ok(target);
    }
    detection(root).init.ok_or_else(|| {
        CliError::msg(format!(
            "no init system initkit knows was found under {} (`initkit detect --explain` shows what was looked at); give --target with one of: {}",
            root.display(),
            Target::ALL.map(Target::name).join(", ")
        ))
    })
}

fn resolve_flavor(arg: FlavorArg, root: &Path) -> Flavor {
    match arg {
        FlavorArg::Debian => Flavor::Debian,
        FlavorArg::Rhel => Flavor::Rhel,
        FlavorArg::Auto => detection(root).family.unwrap_or_default(),
    }
}

/// The recipe and instances a list of specs names (all must name one recipe).
fn recipe_and_instances(specs: &[String]) -> Result<(Recipe, String, Vec<String>), CliError> {
    let (recipe, first, text) = resolve::recipe_with_text(&specs[0])?;
    let mut instances: Vec<String> = first.into_iter().collect();
    for spec in &specs[1..] {
        if let Some(instance) = resolve::same_recipe_instance(&specs[0], spec) {
            instances.extend(instance?);
            continue;
        }
        let (other, instance, _) = resolve::recipe_with_text(spec)?;
        if other.name != recipe.name {
            return Err(CliError::msg(format!(
                "`{spec}` is not an instance of `{}`: install one recipe at a time",
                recipe.name
            )));
        }
        instances.extend(instance);
    }
    let default = recipe.instances.as_ref().map(|i| i.default.clone());
    match (default, instances.is_empty()) {
        (None, false) => {
            Err(CliError::msg(format!("recipe `{}` has no [instances]; install it as `{}`", recipe.name, recipe.name)))
        }
        (Some(Some(default)), true) => Ok((recipe, text, vec![default])),
        (Some(None), true) => {
            Err(CliError::msg(format!("`{}` runs as instances: name one, as `{}@NAME`", recipe.name, recipe.name)))
        }
        _ => Ok((recipe, text, instances)),
    }
}

pub fn run_install(args: &InstallArgs) -> Result<(), CliError> {
    check_root(&args.root)?;
    let place = user::place(&args.root, args.user)?;
    let live = place.live();
    if args.user && args.create_user {
        return Err(CliError::msg(
            "--create-user makes system accounts, and a user's service runs as that user: drop one of them",
        ));
    }
    let (recipe, text, instances) = recipe_and_instances(&args.specs)?;
    let mut sets = Vec::new();
    for pair in &args.sets {
        sets.push(
            Setting::parse(pair)
                .ok_or_else(|| CliError::msg(format!("--set {pair:?} is not KEY=VALUE or INSTANCE:KEY=VALUE")))?,
        );
    }
    if args.start && !live {
        return Err(CliError::msg("--start works on the running host only, not under --root"));
    }
    let target = resolve_target(args.target, &args.root)?;
    let flavor = resolve_flavor(args.flavor, &args.root);
    let user_notes = if args.dry_run { Vec::new() } else { user::ready(&place, target, args.linger)? };
    // On a live host with update-rc.d or chkconfig, that tool makes the rc links, not initkit.
    let links_by_tool = live && driver(target).enables_natively(flavor);
    let req = Request {
        recipe: &recipe,
        recipe_text: &text,
        instances,
        target,
        flavor,
        place,
        sets,
        enable: args.enable && !links_by_tool,
        force: args.force,
    };
    if args.dry_run {
        // Read only: no lock, nothing written.
        let previous = manifest::load(&req.place, &recipe.name).or_else(|e| match e {
            HostError::DamagedManifest { .. } if args.force => Ok(None),
            e => Err(e),
        })?;
        let installed = previous.as_ref().map(|m| m.instances.clone()).unwrap_or_default();
        let plan = install::plan(&req, previous, &[])?;
        gate(args, &req, &plan, &installed, live)?;
        let diff = install::diff(&plan);
        return print(&if diff.is_empty() { "nothing would change\n".to_owned() } else { diff });
    }
    let lock = Lock::root(&req.place, &format!("installing {}", recipe.name))?;
    let result = install_locked(args, &req, &lock, live, user_notes);
    let m = match result {
        Ok(m) => m,
        Err(e) => {
            // Nothing was installed: the lock and the directories made for it go again.
            uninstall::finish(&req.place, &[], lock);
            return Err(e);
        }
    };
    drop(lock);
    if args.start {
        // Only what this command installed starts, not the service's other instances.
        if req.instances.is_empty() {
            operate::run_manifest(&m, operate::Action::Start, None, false, false)?;
        }
        for i in &req.instances {
            operate::run_manifest(&m, operate::Action::Start, Some(i), false, false)?;
        }
    }
    Ok(())
}

fn notes_text(notes: &[String]) -> String {
    notes.iter().fold(String::new(), |mut acc, n| {
        acc.push_str("     note  ");
        acc.push_str(n);
        acc.push('\n');
        acc
    })
}

/// The plan's problems and what the host lacks, all at once: an error on the
/// running host, a warning for an image (its packages may come later) or
/// with --force; returns the accounts --create-user is to make.
fn gate(
    args: &InstallArgs,
    req: &Request<'_>,
    plan: &install::Plan,
    installed: &[String],
    live: bool,
) -> Result<Vec<Missing>, CliError> {
    let mut problems = plan.problems.clone();
    let mut create = Vec::new();
    for gap in preconditions::missing(req, installed, live && args.start) {
        match gap {
            gap if gap.is_account() && args.create_user => create.push(gap),
            gap @ Missing::Port { .. } => problems.push(gap.to_string()),
            gap if !live || args.force => eprintln!("warning: {gap}"),
            gap => problems.push(format!("{gap} (--force installs anyway)")),
        }
    }
    problems_to_error(&problems)?;
    Ok(create)
}

fn problems_to_error(problems: &[String]) -> Result<(), CliError> {
    if problems.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = problems.iter().map(|p| format!("error: {p}")).collect();
    Err(CliError::Message(format!("{}\nnothing was written\n", list.join("\n"))))
}

/// The install proper, under the root's lock: recover or salvage the previous
/// record, plan, check, apply, report, tell the init system.
fn install_locked(
    args: &InstallArgs,
    req: &Request<'_>,
    lock: &Lock,
    live: bool,
    mut notes: Vec<String>,
) -> Result<manifest::Manifest, CliError> {
    let name = &req.recipe.name;
    let place = &req.place;
    if let Some(u) = &place.user
        && u.name != req.recipe.run.user
    {
        notes.push(format!(
            "runs as {} (a user's service runs as its user; the recipe names `{}`)",
            u.name, req.recipe.run.user
        ));
    }
    let (previous, salvaged) = match manifest::load(place, name) {
        Ok(Some(mut m)) => {
            notes.extend(manifest::recover(&args.root, &mut m)?);
            (Some(m), Vec::new())
        }
        Ok(None) => (None, Vec::new()),
        Err(HostError::DamagedManifest { .. }) if args.force => {
            let salvaged = manifest::salvage(place, name)?;
            notes.push(format!(
                "the manifest of `{name}` was damaged; {} path(s) read from it count as initkit's, and a new one is written",
                salvaged.len()
            ));
            (None, salvaged)
        }
        Err(e) => return Err(e.into()),
    };
    let installed = previous.as_ref().map(|m| m.instances.clone()).unwrap_or_default();
    let plan = install::plan(req, previous, &salvaged)?;
    let create = gate(args, req, &plan, &installed, live)?;
    let run = &req.recipe.run;
    let made = preconditions::create_accounts(&args.root, &run.user, run.group.as_deref(), &create)
        .map_err(|e| CliError::msg(format!("{e}; nothing was written")))?;
    for account in &made {
        notes.push(format!("created the system {account}"));
    }
    let unwritable: Vec<String> = plan
        .files
        .iter()
        .filter(|f| f.change != Change::Unchanged)
        .map(|f| manifest::under(&args.root, &f.path))
        .filter(|p| !p.parent().is_some_and(writable))
        .map(|p| p.display().to_string())
        .collect();
    if !unwritable.is_empty() {
        return Err(CliError::msg(format!(
            "no permission to write {} (run as root); nothing was written",
            unwritable.join(", ")
        )));
    }
    let changed = plan.changes_anything();
    let mut m = install::apply(req, &plan, &lock.created).map_err(|e| match e {
        HostError::Io { .. } => CliError::msg(format!(
            "{e}\n  = help: the install stopped part-way; what it wrote is recorded: run the same install again once the cause is fixed, or `initkit uninstall {name}`"
        )),
        e => e.into(),
    })?;
    if !made.is_empty() {
        m.created_accounts.extend(made);
        manifest::save(place, &m)?;
    }
    let mut report = notes_text(&notes);
    for f in &plan.files {
        let what = match f.change {
            Change::Create => "created",
            Change::Update if f.foreign.is_some() => "replaced (backup kept)",
            Change::Update => "updated",
            Change::Unchanged if f.adopt => "recorded",
            Change::Unchanged => "unchanged",
        };
        report.push_str(&format!("{what:>9}  {}\n", f.path));
    }
    for l in &plan.links {
        if !l.exists {
            report.push_str(&format!("   linked  {} -> {}\n", l.link.path, l.link.target));
        }
    }
    if !changed {
        report.push_str(&format!("nothing to do: {name} is installed and up to date\n"));
    }
    print(&report)?;
    if live {
        driver_of(&m).after_change(&mut m, args.enable)?;
    }
    Ok(m)
}

pub fn run_uninstall(args: &UninstallArgs) -> Result<(), CliError> {
    check_root(&args.root)?;
    let ServiceSpec { name, instance } = ServiceSpec::parse(&args.spec).map_err(|e| CliError::msg(e.to_string()))?;
    let instance = instance.as_deref();
    let place = user::place(&args.root, args.user)?;
    let lock = Lock::root(&place, &format!("uninstalling {name}"))?;
    let mut m = match manifest::load(&place, &name) {
        Ok(Some(m)) => m,
        Ok(None) => {
            uninstall::finish(&place, &[], lock);
            return Err(CliError::msg(format!("`{name}` is not installed {}", where_installed(&place))));
        }
        Err(HostError::DamagedManifest { .. }) if args.force && instance.is_none() => {
            let outcome = uninstall::salvage(&place, &name, args.force, lock)?;
            return report_uninstall(&outcome);
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(i) = instance
        && !m.instances.iter().any(|x| x == i)
    {
        return Err(CliError::msg(format!(
            "`{name}@{i}` is not installed (installed: {}){}",
            m.instances.join(", "),
            suggest::hint(i, m.instances.iter().map(String::as_str))
        )));
    }
    let live = place.live();
    // What stays behind is worked out from the recipe before its copy goes.
    let leftovers = manifest::recipe_text(&place, &m)
        .ok()
        .and_then(|text| parse_recipe(&manifest::recipe_path(&place, &name).ok()?, &text).ok())
        .map(|recipe| leftovers::find(&place, &recipe, &m.instances, instance))
        .unwrap_or_default();
    if live {
        if let Err(e) = operate::run_manifest(&m, operate::Action::Stop, instance, false, false) {
            let why = e.to_string();
            if !args.force {
                return Err(CliError::msg(format!(
                    "{}\n`{}` could not be stopped, so nothing was removed (its files are what stops it); fix the cause, or --force removes them anyway",
                    why.trim_end(),
                    args.spec
                )));
            }
            eprintln!("warning: {}: removing it anyway (--force)", why.trim_end());
        }
        driver_of(&m).disable_natively(&mut m, instance);
    }
    let mut outcome = uninstall(&place, &mut m, instance, args.force, lock)?;
    if live {
        driver_of(&m).after_change(&mut m, false)?;
    }
    let mut owners = leftovers::package_owners(&args.root, &leftovers);
    let mut purged = Vec::new();
    for path in leftovers {
        if let Some(package) = owners.remove(&path) {
            outcome.packaged.push((path, package));
        } else if args.purge {
            leftovers::purge(&args.root, &path)?;
            outcome.removed.push(format!("{path} (--purge)"));
            purged.push(path);
        } else {
            outcome.left.push(path);
        }
    }
    if m.files.is_empty() && m.links.is_empty() {
        leftovers::tidy_user(&place, &name, &purged, &m.created_dirs);
    }
    // The accounts initkit made go with the whole service, when asked to.
    if instance.is_none() && outcome.kept.is_empty() && !m.created_accounts.is_empty() {
        // An account another installed service runs as stays, whoever made
        // it, and passes to that service's record: it goes with the last one.
        let mut others: Vec<(manifest::Manifest, Vec<String>)> = manifest::load_all(&place)
            .map(|(all, _)| all)
            .unwrap_or_default()
            .into_iter()
            .filter(|o| o.recipe != name)
            .filter_map(|o| {
                let recipe = parse_recipe(Path::new("x.toml"), &manifest::recipe_text(&place, &o).ok()?).ok()?;
                let runs_as =
                    [Some(format!("user {}", recipe.run.user)), recipe.run.group.map(|g| format!("group {g}"))];
                Some((o, runs_as.into_iter().flatten().collect()))
            })
            .collect();
        let uses =
            |runs_as: &[String], a: &String| runs_as.contains(a) || runs_as.contains(&a.replacen("group ", "user ", 1));
        let (shared, own): (Vec<String>, Vec<String>) =
            m.created_accounts.iter().cloned().partition(|a| others.iter().any(|(_, runs_as)| uses(runs_as, a)));
        for a in &shared {
            if let Some((heir, _)) = others.iter_mut().find(|(_, runs_as)| uses(runs_as, a)) {
                if !heir.created_accounts.contains(a) {
                    heir.created_accounts.push(a.clone());
                    manifest::save(&place, heir)?;
                }
                outcome.notes.push(format!(
                    "kept the system {a} initkit made: `{}` runs as it too, and uninstalling that one removes it (with --purge)",
                    heir.recipe
                ));
            }
        }
        m.created_accounts = own;
    }
    if instance.is_none() && outcome.kept.is_empty() && !m.created_accounts.is_empty() {
        if args.purge {
            for account in preconditions::remove_accounts(&args.root, &m.created_accounts).map_err(CliError::msg)? {
                outcome.removed.push(format!("the system {account} initkit made (--purge)"));
            }
        } else {
            outcome.notes.push(format!(
                "kept the system {} initkit made (--purge removes {})",
                m.created_accounts.join(" and "),
                if m.created_accounts.len() == 1 { "it" } else { "them" }
            ));
        }
    }
    report_uninstall(&outcome)
}

/// Where a service was looked for: under the root, or among a user's.
fn where_installed(place: &Place) -> String {
    match &place.user {
        Some(u) => format!("for {} (--user)", u.name),
        None => format!("under {}", place.root.display()),
    }
}

fn report_uninstall(outcome: &uninstall::Outcome) -> Result<(), CliError> {
    let mut report = notes_text(&outcome.notes);
    for p in &outcome.removed {
        report.push_str(&format!("  removed  {p}\n"));
    }
    for p in &outcome.restored {
        report.push_str(&format!(" restored  {p} (what initkit had replaced)\n"));
    }
    for p in &outcome.left {
        report.push_str(&format!("     kept  {p} (data and logs; --purge removes it)\n"));
    }
    for (p, package) in &outcome.packaged {
        report.push_str(&format!("     kept  {p} (the package {package} owns it; --purge leaves it)\n"));
    }
    print(&report)?;
    if outcome.kept.is_empty() {
        Ok(())
    } else {
        let one = outcome.kept.len() == 1;
        Err(CliError::msg(format!(
            "kept {} because {} changed since initkit wrote {}; use --force to remove {}",
            outcome.kept.join(", "),
            if one { "it was" } else { "they were" },
            if one { "it" } else { "them" },
            if one { "it" } else { "them" }
        )))
    }
}
