//! OpenRC scripts (`#!/sbin/openrc-run`, with `/etc/conf.d/NAME` beside them) read into a recipe.
//!
//! openrc-run sources conf.d, then the script, and starts `command` with
//! `command_args` (word-split, as its `eval` does) through start-stop-daemon
//! or supervise-daemon. Those variables, the hook functions and `depend()`
//! are read as data; any other shell is reported with its line. A script
//! initkit rendered is read back exactly by [`own`].

mod context;
mod functions;
mod own;
mod own_conditions;
mod script;
mod variables;

use super::{Source, draft::Draft, ini::Problem, report::Report};

pub fn import(src: &Source) -> Result<(String, Draft, Report), Vec<Problem>> {
    if own::is_own(&src.text) {
        return own::import(src);
    }
    let name = super::recipe_name(src.stem());
    let conf =
        src.extra(&format!("conf.d/{}", src.stem())).or_else(|| src.extra.iter().find(|e| e.file.contains("conf.d")));
    let mut cx = context::Context::new(src, conf, &name);
    variables::read(&mut cx)?;
    functions::read(&mut cx);
    variables::leftovers(&mut cx);
    cx.finish()
}
