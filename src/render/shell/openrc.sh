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
    if [ -n "$instance" ] && ! ik_valid_instance "$instance"; then
        eerror "$NAME: '$instance' is not a valid instance name"
        return 1
    fi
    ik_identity || { eerror "$NAME: user '$RUN_USER' does not exist"; return 1; }
}

# `use`, not `need`: not every OpenRC system has a `net` service (Debian's has none).
# shellcheck disable=SC2317 # openrc-run calls the functions below
depend() {
    use net logger dns
    after firewall
}

start() {
    ik_instance || return 1
    ik_lock || return 1
    ik_start_one
}

# A restart tests the config first and leaves the running service alone when
# it fails; then the pre-stop steps run, within their budgets.
stop_pre() {
    ik_instance || return 1
    if [ "${RC_CMD:-}" = restart ] && ! ik_configtest_one >/dev/null 2>&1; then
        ik_check_quiet
        ik_report_check
        return 1
    fi
    ik_lock || return 1
    if ik_running; then
        # shellcheck disable=SC2034 # read by the steps' polls, when the recipe has any
        ik_main_pid=$pid
        ik_before_stop
    fi
    ik_hooks_done=1
}

stop() {
    ik_instance || return 1
    ik_lock || return 1
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
    ik_lock || return 1
    ik_reload_one
}
