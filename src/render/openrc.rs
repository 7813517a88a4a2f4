//! The OpenRC service: an openrc-run script; instances are `NAME.INSTANCE` links to it.

use std::fmt::Write as _;

use super::{
    Artifact, Options,
    service_sh::{Drop, SERVICE_LIB, preamble},
    sh,
    sysv::ACTIONS,
};
use crate::recipe::Recipe;

pub fn render(recipe: &Recipe, options: &Options) -> Artifact {
    let name = &recipe.name;
    let mut s = String::from("#!/sbin/openrc-run\n");
    let _ = write!(
        s,
        "# {summary}\n# Rendered by initkit from the recipe \"{name}\"; render again rather than edit.\n\
         # Instances: ln -s {name} /etc/init.d/{name}.INSTANCE; settings in {settings}/{name}{inst}, read as data.\n\
         # shellcheck shell=sh\n\
         # The constants and library are shared by every target (some go unused here), values\n\
         # are single-quoted on purpose, and openrc-run calls the functions below.\n\
         # shellcheck disable=SC2016,SC2034,SC2317\n\n\
         description={desc}\nextra_commands=\"configtest\"\nextra_started_commands=\"reload\"\n\
         description_configtest=\"Test the configuration.\"\n\
         description_reload=\"Test the configuration, then reload; a failing test changes nothing.\"\n\n",
        summary = sh::comment(&recipe.summary),
        settings = options.layout.settings(options.flavor),
        inst = if recipe.instances.is_some() {
            format!(", then {}/{name}.d/INSTANCE", options.layout.settings(options.flavor))
        } else {
            String::new()
        },
        desc = sh::quote(&recipe.summary),
    );
    s.push_str(&preamble(recipe, options, Drop::Setpriv { setsid: true }));
    // openrc-run's helpers (service_started, eerror, ...) live in its libexec bin.
    s.push_str("PATH=\"${RC_LIBEXECDIR:-/lib/rc}/bin:$PATH\"\n");
    s.push_str(SERVICE_LIB);
    s.push_str(ACTIONS);
    s.push_str(
        r#"
# ---- openrc-run ----

# ik_instance: the instance this link of the script stands for.
ik_instance() {
    case $RC_SVCNAME in
        "$NAME".*) ik_load "${RC_SVCNAME#"$NAME".}" ;;
        *) ik_load "$DEFAULT_INSTANCE" ;;
    esac
    if [ "$MULTI" = 1 ] && [ -z "$instance" ]; then
        eerror "$NAME runs as instances: use /etc/init.d/$NAME.INSTANCE"
        return 1
    fi
    ik_identity || { eerror "$NAME: user '$RUN_USER' does not exist"; return 1; }
}

# `use`, not `need`: not every OpenRC system has a `net` service (Debian's has none).
depend() {
    use net logger dns
    after firewall
}

start() {
    ik_instance || return 1
    ik_start_one
}

# A restart tests the config first and leaves the running service alone when
# it fails; then the pre-stop hooks run, within their budgets.
stop_pre() {
    ik_instance || return 1
    if [ "${RC_CMD:-}" = restart ] && ! ik_configtest_one >/dev/null 2>&1; then
        ik_check_quiet
        ik_report_check
        return 1
    fi
    if ik_running; then
        ik_before_stop
    fi
    ik_hooks_done=1
}

stop() {
    ik_instance || return 1
    ik_hooks_done=1
    ik_stop_one
}

status() {
    ik_instance || return 1
    ik_status_one
}

configtest() {
    ik_instance || return 1
    ik_configtest_one
}

reload() {
    ik_instance || return 1
    if ! ik_configtest_one >/dev/null 2>&1; then
        ik_check_quiet
        ik_report_check
        return 1
    fi
    ik_reload_one
}
"#,
    );
    Artifact { path: format!("{}/init.d/{name}", options.layout.etc()), mode: 0o755, content: s }
}
