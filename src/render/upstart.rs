//! Upstart: a job with `instance`, a `pre-start` config test, a `pre-stop`
//! running the hooks and a `kill timeout`, plus a job that starts every
//! configured instance. Both call one helper script rendered beside them.

use std::fmt::Write as _;

use super::{
    Artifact, Options, seconds,
    service_sh::{Drop, SERVICE_LIB, preamble},
    supervised::stop_budget_ms,
};
use crate::recipe::Recipe;

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

pub fn render(recipe: &Recipe, options: &Options) -> Vec<Artifact> {
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
    if recipe.check.is_some() {
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
            seconds(stop_budget_ms(recipe) - recipe.stop.timeout_ms)
        );
    }
    let mut out =
        vec![Artifact { path: format!("{}/init/{name}.conf", options.layout.etc()), mode: 0o644, content: job }];
    if multi {
        let settings = format!("{}/{name}.d", options.layout.settings(options.flavor));
        out.push(Artifact {
            path: format!("{}/init/{name}-instances.conf", options.layout.etc()),
            mode: 0o644,
            content: format!(
                "# Rendered by initkit: starts every configured instance of {name}.\n\
                 description {}\nstart on runlevel [2345]\ntask\n\nscript\n    \
                 for f in {settings}/*; do\n        [ -f \"$f\" ] || continue\n        \
                 start {name} INSTANCE=\"${{f##*/}}\" || :\n    done\nend script\n",
                quoted(&format!("every instance of {name}"))
            ),
        });
    }
    let mut helper_text = format!(
        "#!/bin/sh\n# Upstart helper for {name}, rendered by initkit; the jobs in /etc/init call it.\n\
         # The constants and library are shared by every target; some go unused here.\n\
         # shellcheck disable=SC2016,SC2034,SC2317\n"
    );
    helper_text.push_str(&preamble(recipe, options, Drop::Setpriv { setsid: false }));
    helper_text.push_str(SERVICE_LIB);
    helper_text.push_str(
        r#"
# ---- the job's steps: check, run, ready, before-stop ----
ik_load "${2:-}"
ik_identity || { ik_err "$NAME: user '$RUN_USER' does not exist"; exit 1; }
case ${1:-} in
    check)
        ik_check_quiet || { ik_report_check; exit 1; } ;;
    run)
        exec 2>&1
        ik_prepare || exit 1
        ik_exec ;;
    ready)
        ik_now
        ik_ready_deadline=$((now + READY_TIMEOUT_MS))
        until ik_ready; do
            ik_now
            [ "$now" -ge "$ik_ready_deadline" ] && exit 1
            sleep 0.05
        done ;;
    before-stop)
        console_log=/dev/stdout
        ik_before_stop ;;
    *)
        ik_err "usage: $0 check|run|ready|before-stop [INSTANCE]"
        exit 2 ;;
esac
"#,
    );
    out.push(Artifact { path: helper, mode: 0o755, content: helper_text });
    out
}
