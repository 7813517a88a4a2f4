//! Upstart: a job with `instance`, a `pre-start` config test, a `pre-stop`
//! running the hooks and a `kill timeout`, plus a job that starts every
//! configured instance. Both call one helper script rendered beside them.

use std::fmt::Write as _;

use super::{
    Artifact, Backend, Options, Practice, Support, facts,
    features::{self, Feature},
    seconds,
    shell::{
        Script, UPSTART_HELPER,
        generated::{self, Drop, Exec},
    },
};
use crate::recipe::{Recipe, Reload};

pub struct Upstart;

impl Backend for Upstart {
    fn name(&self) -> &'static str {
        "upstart"
    }

    fn per_instance(&self) -> bool {
        false
    }

    fn render(&self, recipe: &Recipe, options: &Options, _: Option<&str>) -> Vec<Artifact> {
        render(recipe, options)
    }

    fn feature(&self, feature: Feature) -> Support {
        features::supervised(feature)
    }

    #[allow(clippy::match_same_arms)] // a table: one row per practice
    fn support(&self, practice: Practice) -> Support {
        match practice {
            Practice::ConfigTestRestart => Support::Initkit(
                "helper in `pre-start`: a failing test keeps the job from starting; the front-end gates restart",
            ),
            Practice::ConfigTestReload => Support::Initkit("front-end"),
            Practice::OwnReload => {
                Support::Initkit("front-end sends the recipe's reload signal (`initctl reload` can only send SIGHUP)")
            }
            Practice::LsbCodes => Support::Initkit("front-end"),
            Practice::ProcessIdentity => Support::Native("Upstart tracks the process"),
            Practice::RuntimeDirs => Support::Initkit("helper `run`"),
            Practice::StopEscalation => Support::Native("`kill signal`, `kill timeout`"),
            Practice::PreStopHooks => Support::Native("`pre-stop`; initkit runs the steps"),
            Practice::Instances => Support::Native("`instance $INSTANCE`, plus a job that starts them all"),
            Practice::Hardening => Support::No("Upstart has no sandbox"),
            Practice::Quoting => Support::Initkit("`\"$INSTANCE\"` is data"),
            Practice::Registration => Support::Native("`start on`"),
            Practice::Logs => Support::Native("`console log`"),
            Practice::Readiness => Support::Initkit("`post-start` waits"),
        }
    }
}

/// Whether `initctl reload` (SIGHUP) is the recipe's own reload.
pub fn reload_is_hup(recipe: &Recipe) -> bool {
    matches!(recipe.reload, Some(Reload::Signal(s)) if s.name() == "HUP")
}

/// Where the helper the jobs call lives.
pub fn helper_path(recipe: &Recipe, options: &Options) -> String {
    format!("{}/usr/lib/initkit/upstart/{}", options.layout.root, recipe.name)
}

/// Upstart strings are double-quoted; `"` and `\` are escaped, and a control
/// character (refused by validation already) becomes a space.
fn quoted(text: &str) -> String {
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("\"{}\"", line.replace('\\', "\\\\").replace('"', "\\\""))
}

fn render(recipe: &Recipe, options: &Options) -> Vec<Artifact> {
    let name = &recipe.name;
    let helper = helper_path(recipe, options);
    let multi = recipe.instances.is_some();
    let inst = if multi { " \"$INSTANCE\"" } else { "" };
    let mut job = format!(
        "# Rendered by initkit from the recipe \"{name}\"; render again rather than edit.\n\
         description {}\n",
        quoted(&recipe.summary)
    );
    if multi {
        let _ = writeln!(
            job,
            "# One job per instance: start {name} INSTANCE=NAME (or start {name}-instances).\ninstance $INSTANCE"
        );
    } else {
        job.push_str("start on runlevel [2345]\n");
    }
    job.push_str("stop on runlevel [!2345]\n\nrespawn\nrespawn limit 10 5\n");
    let _ = writeln!(job, "kill signal {}", recipe.stop.signal);
    // The stop signal's budget; pre-stop hooks have theirs inside the helper.
    let _ = writeln!(job, "kill timeout {}", recipe.stop.timeout_ms.div_ceil(1000));
    job.push_str("console log\n\n");
    // A trial start would only repeat the start: the job's own start is its trial.
    if recipe.check.as_ref().is_some_and(|c| c.command().is_some()) {
        let _ =
            writeln!(job, "# A failing config test keeps the job from starting.\npre-start exec {helper} check{inst}");
    }
    let _ = writeln!(job, "exec {helper} run{inst}");
    if recipe.ready.is_some() {
        let _ = writeln!(job, "post-start exec {helper} ready{inst}");
    }
    if !recipe.stop.before.is_empty() {
        let _ = writeln!(
            job,
            "# Runs before the kill signal, each hook within its budget ({}s in all).\npre-stop exec {helper} before-stop{inst}",
            seconds(facts::stop_budget_ms(recipe) - recipe.stop.timeout_ms)
        );
    }
    let mut out = vec![Artifact::new(format!("{}/init/{name}.conf", options.layout.etc()), 0o644, job)];
    if multi {
        let settings = Upstart.settings(name, &options.layout, options.flavor).instance_prefix;
        let settings = settings.trim_end_matches('/');
        out.push(Artifact::new(
            format!("{}/init/{name}-instances.conf", options.layout.etc()),
            0o644,
            format!(
                "# Rendered by initkit: starts every configured instance of {name}.\n\
                 description {}\nstart on runlevel [2345]\ntask\n\nscript\n    \
                 for f in {settings}/*; do\n        [ -f \"$f\" ] || continue\n        \
                 start {name} INSTANCE=\"${{f##*/}}\" || :\n    done\nend script\n",
                quoted(&format!("every instance of {name}"))
            ),
        ));
    }
    let header =
        format!("#!/bin/sh\n# Upstart helper for {name}, rendered by initkit; the jobs in /etc/init call it.\n\n");
    let helper_text = Script {
        header,
        consts: generated::consts(recipe, options, &Upstart.settings(name, &options.layout, options.flavor)),
        generated: generated::functions(
            recipe,
            options,
            Exec { drop: Drop::Setpriv, setsid: false, dies_with_parent: false },
            None,
        ),
        main: UPSTART_HELPER,
        setup: "",
    }
    .build();
    out.push(Artifact::new(helper, 0o755, helper_text));
    out
}
