//! The cron.d twin of a timer: where the init system has no timers (SysV,
//! OpenRC), cron runs the task's `start` at the recipe's times.

use super::{Artifact, Options};
use crate::recipe::{Recipe, Schedule, schedule};

/// The schedule in cron's five fields, or why cron cannot say it.
fn fields(s: &Schedule) -> Result<String, String> {
    match (&s.calendar, s.every_ms) {
        (Some(c), _) => schedule::calendar_to_cron(c).ok_or_else(|| {
            format!("[schedule] calendar `{c}`: cron cannot say it (years, seconds and `~` are systemd's only)")
        }),
        (None, Some(ms)) => schedule::every_to_cron(ms).ok_or_else(|| {
            "[schedule] every: cron can run a task every N minutes or hours only when N divides an hour or a day"
                .to_owned()
        }),
        (None, None) => Err("[schedule] has no time".to_owned()),
    }
}

/// Why the recipe's schedule cannot be a cron.d entry, if it cannot.
pub fn refusals(recipe: &Recipe) -> Vec<String> {
    recipe.schedule.as_ref().and_then(|s| fields(s).err()).into_iter().collect()
}

/// `/etc/cron.d/initkit-NAME`, running `SCRIPT start` as root.
pub fn render(recipe: &Recipe, options: &Options, script: &str) -> Option<Artifact> {
    let s = recipe.schedule.as_ref()?;
    let fields = fields(s).ok()?;
    let mut text = format!(
        "# Rendered by initkit from the recipe \"{}\": this init system has no timers,\n\
         # so cron starts the task at the recipe's times; the script's lock keeps runs apart.\n",
        recipe.name
    );
    if s.persistent {
        text.push_str("# A run missed while the machine was off is not made up (systemd's Persistent=).\n");
    }
    if s.random_delay_ms.is_some() {
        text.push_str("# Runs at the time itself, without systemd's random delay.\n");
    }
    text.push_str(&format!(
        "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n{fields} root {script} start >/dev/null 2>&1\n"
    ));
    Some(Artifact::new(format!("{}/cron.d/initkit-{}", options.layout.etc(), recipe.name), 0o644, text))
}
