//! Per-user services: where one user's service manager keeps units, settings
//! and state, and what a service of an unprivileged user cannot have.

use crate::recipe::{IoClass, Recipe, Test};

/// One user's directories, as absolute host paths (resolved from `HOME` and
/// the XDG variables by the host stage; a renderer only reads them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDirs {
    /// The login name, for messages and `loginctl`.
    pub name: String,
    pub uid: u32,
    pub home: String,
    /// `$XDG_CONFIG_HOME`, else `~/.config`.
    pub config: String,
    /// `$XDG_STATE_HOME`, else `~/.local/state`.
    pub state: String,
    /// `$XDG_RUNTIME_DIR`, else `/run/user/UID`.
    pub runtime: String,
}

/// Why `recipe` cannot run as an ordinary user's service, one line per field:
/// what needs privilege the user does not have. A service runs as the user
/// who installs it, so `run.user` and `run.group` are not among them (they are
/// left out, and install says so).
pub fn refusals(recipe: &Recipe) -> Vec<String> {
    let mut out = Vec::new();
    if !recipe.systemd.capabilities.is_empty() {
        out.push(format!(
            "systemd.capabilities ({}): a user's service cannot be given capabilities",
            recipe.systemd.capabilities.join(", ")
        ));
    }
    if let Some(nice) = recipe.run.nice.filter(|n| *n < 0) {
        out.push(format!("run.nice = {nice}: only root may raise a priority"));
    }
    if let Some(oom) = recipe.run.oom_score_adjust.filter(|o| *o < 0) {
        out.push(format!("run.oom_score_adjust = {oom}: only root may lower it"));
    }
    if recipe.run.io.is_some_and(|(class, _)| class == IoClass::Realtime) {
        out.push("run.io: the realtime class needs root".to_owned());
    }
    let hooks =
        recipe.start.before.iter().chain(&recipe.start.after).chain(&recipe.stop.before).chain(&recipe.stop.after);
    let other = |u: &Option<String>| u.as_ref().filter(|u| **u != recipe.run.user).cloned();
    for user in hooks.filter_map(|h| other(&h.user)).chain(recipe.check.as_ref().and_then(|c| other(&c.user))) {
        out.push(format!("a step runs as `{user}`: a user's service runs everything as that user"));
    }
    if recipe.check.as_ref().is_some_and(|c| c.test == Test::Trial) {
        out.push(
            "check: a trial start needs root (its namespaces and copy-on-write layers); give a config-test command, or none"
                .to_owned(),
        );
    }
    out.dedup();
    out
}

/// `recipe` as one user's own supervisor runs it: everything as that user
/// (`run.user`, with the user's own group), which may not change user. For
/// the service-directory supervisors, whose scripts would otherwise drop to
/// the recipe's user; [`refusals`] has already refused a step as another one.
pub fn own(recipe: &Recipe, user: &UserDirs) -> Recipe {
    let mut own = recipe.clone();
    own.run.user.clone_from(&user.name);
    own.run.group = None;
    let hooks = own.start.before.iter_mut().chain(&mut own.start.after).chain(&mut own.stop.before);
    for hook in hooks.chain(&mut own.stop.after) {
        hook.user = None;
    }
    if let Some(check) = &mut own.check {
        check.user = None;
    }
    own
}
