//! `initkit enable` and `initkit disable`: start at boot, or not, the native
//! way (the links the init system reads; update-rc.d or rc-update on a running
//! host that has them), recorded in the manifest like everything initkit does.

use std::path::PathBuf;

use super::{CliError, output::print, suggest, user};
use crate::{
    host::{
        driver::driver_of,
        enable,
        install::{self, Request},
        lock::Lock,
        manifest,
    },
    recipe::{ServiceSpec, parse_recipe},
};

#[derive(clap::Args, Debug)]
pub struct EnableArgs {
    /// `NAME` (every installed instance) or `NAME@INSTANCE`; several may be given.
    #[arg(required = true)]
    specs: Vec<String>,
    /// The root initkit installed into (a chroot or image).
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// The calling user's services (installed with `install --user`): started at login.
    #[arg(long)]
    user: bool,
}

pub fn run(args: &EnableArgs, on: bool) -> Result<(), CliError> {
    let place = user::place(&args.root, args.user)?;
    let root = &args.root;
    let live = place.live();
    let lock = Lock::root(&place, if on { "enabling services" } else { "disabling services" })?;
    let mut report = String::new();
    for spec in &args.specs {
        let ServiceSpec { name, instance } = ServiceSpec::parse(spec).map_err(|e| CliError::msg(e.to_string()))?;
        let Some(mut m) = manifest::load(&place, &name)? else {
            return Err(CliError::msg(format!("`{name}` is not installed under {}", root.display())));
        };
        if let Some(i) = &instance
            && !m.instances.contains(i)
        {
            return Err(CliError::msg(format!(
                "`{name}@{i}` is not installed (installed: {}){}",
                m.instances.join(", "),
                suggest::hint(i, m.instances.iter().map(String::as_str))
            )));
        }
        let drv = driver_of(&m);
        if let Some(i) = &instance
            && drv.enables_once()
        {
            return Err(CliError::msg(format!(
                "{} starts every instance of `{name}` from one script at boot, so `{name}@{i}` cannot be {} alone; \
                 {} `{name}` as a whole, or uninstall `{name}@{i}`",
                m.target.name(),
                if on { "enabled" } else { "disabled" },
                if on { "enable" } else { "disable" },
            )));
        }
        if !on {
            let done = enable::disable(&place, drv, &mut m, instance.as_deref())?;
            for path in done.unlinked {
                report.push_str(&format!(" unlinked  {path}\n"));
            }
            for path in done.held_down {
                report.push_str(&format!("  written  {path} (supervised, not started at boot)\n"));
            }
            if live && drv.disable_natively(&mut m, instance.as_deref()) {
                manifest::save(&place, &m)?;
            }
            if live {
                drv.after_change(&mut m, false)?;
            }
            let still: Vec<String> = match &instance {
                Some(i) => vec![i.clone()],
                None if m.instances.is_empty() || drv.enables_once() => vec![String::new()],
                None => m.instances.clone(),
            }
            .into_iter()
            .filter(|i| drv.enabled(root, &m, (!i.is_empty()).then_some(i.as_str())))
            .collect();
            for i in still {
                let spec = if i.is_empty() { name.clone() } else { format!("{name}@{i}") };
                eprintln!(
                    "warning: `{spec}` still starts at boot through links initkit did not make (a package's); \
                     the init system's own tool removes them (`systemctl disable`, `update-rc.d`, `rc-update del`)"
                );
            }
            continue;
        }
        let text = manifest::recipe_text(&place, &m)?;
        let recipe = parse_recipe(&manifest::recipe_path(&place, &name)?, &text)?;
        let instances = match &instance {
            Some(i) => vec![i.clone()],
            None => m.instances.clone(),
        };
        let by_tool = live && drv.enables_natively(m.flavor);
        let req = Request {
            recipe: &recipe,
            recipe_text: &text,
            instances,
            target: m.target,
            flavor: m.flavor,
            place: place.clone(),
            sets: Vec::new(),
            enable: !by_tool,
            force: false,
        };
        let plan = install::plan(&req, Some(m.clone()), &[])?;
        if !plan.problems.is_empty() {
            let list: Vec<String> = plan.problems.iter().map(|p| format!("error: {p}")).collect();
            return Err(CliError::Message(format!("{}\nnothing was changed\n", list.join("\n"))));
        }
        let before: Vec<String> = m.files.iter().map(|f| f.path.clone()).collect();
        let mut m = install::apply(&req, &plan, &lock.created)?;
        for l in plan.links.iter().filter(|l| !l.exists && drv.is_enable_link(&l.link)) {
            report.push_str(&format!("   linked  {} -> {}\n", l.link.path, l.link.target));
        }
        for path in before.iter().filter(|p| !m.files.iter().any(|f| &f.path == *p)) {
            report.push_str(&format!("  removed  {path} (starts at boot)\n"));
        }
        if live {
            drv.after_change(&mut m, true)?;
        }
    }
    drop(lock);
    print(&report)
}
