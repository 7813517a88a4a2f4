# ---- the SysV command line ----

# ik_gate: test the config of every instance the action touches, before
# touching any; on failure show why and leave everything running as it is.
ik_gate() {
    ik_gate_out=$(ik_each ik_configtest_one 2>&1) && { ik_gated=1; return 0; }
    printf '%s\n' "$ik_gate_out" | grep -v -e ': config test ok$' -e ': no config test' >&2
    return 1
}

# ik_one FUNCTION: FUNCTION on the loaded instance; actions that change it
# hold its lock, so two at once queue rather than race.
ik_one() {
    case $1 in
        ik_status_one|ik_configtest_one) $1; return ;;
    esac
    ik_lock || return 1
    $1
    ik_one_rc=$?
    ik_unlock
    return "$ik_one_rc"
}

# ik_each FUNCTION: run FUNCTION for the chosen instance, or for each
# configured one. Action codes: the first failure. Status codes: the worst.
ik_each() {
    ik_fn=$1
    ik_rc=0
    if [ -n "$ONLY" ] || [ "$MULTI" = 0 ]; then
        ik_load "$ONLY"
        ik_one "$ik_fn"
        return
    fi
    ik_any=0
    for ik_file in "$INSTANCE_DIR"/*; do
        [ -f "$ik_file" ] || continue
        ik_name=${ik_file##*/}
        case $ik_name in *.dpkg-*|*.rpm*|*~|*.bak|*.swp) continue ;; esac
        ik_valid_instance "$ik_name" || { ik_warn "ignoring $ik_file: not a valid instance name"; continue; }
        ik_any=1
        ik_load "$ik_name"
        ik_one "$ik_fn"
        ik_one=$?
        if [ "$ik_fn" = ik_status_one ]; then
            [ "$ik_one" -ne 0 ] && { [ "$ik_rc" -eq 0 ] || [ "$ik_one" -lt "$ik_rc" ]; } && ik_rc=$ik_one
        elif [ "$ik_rc" -eq 0 ]; then
            ik_rc=$ik_one
        fi
    done
    if [ "$ik_any" = 0 ]; then
        if [ -n "$DEFAULT_INSTANCE" ]; then
            ik_load "$DEFAULT_INSTANCE"
            ik_one "$ik_fn"
            return
        fi
        ik_err "$NAME: no instances configured: add a settings file per instance in $INSTANCE_DIR/"
        [ "$ik_fn" = ik_status_one ] && return 3
        return 6
    fi
    return "$ik_rc"
}

# ik_systemd_redirect ACTION [INSTANCE]: on a host where systemd runs, the
# LSB actions go to the unit initkit installed for this service, as Debian's
# /lib/lsb/init-functions.d/40-systemd does, but to the right unit: one
# instance's, or every configured instance's. Without a loaded unit of ours,
# the script acts itself.
ik_systemd_redirect() {
    [ -d /run/systemd/system ] && [ "$PPID" -ne 1 ] || return 0
    [ -z "${SYSTEMCTL_SKIP_REDIRECT:-}" ] && [ -z "${_SYSTEMCTL_SKIP_REDIRECT:-}" ] || return 0
    command -v systemctl >/dev/null 2>&1 || return 0
    case $1 in start|stop|restart|try-restart|reload|force-reload|status) ;; *) return 0 ;; esac
    ik_sd_action=$1
    if [ "$MULTI" = 0 ]; then
        set -- "$NAME.service"
    elif [ -n "${2:-}" ]; then
        ik_valid_instance "$2" || return 0
        set -- "$NAME@$2.service"
    else
        set --
        for ik_file in "$INSTANCE_DIR"/*; do
            ik_name=${ik_file##*/}
            [ -f "$ik_file" ] && ik_valid_instance "$ik_name" && set -- "$@" "$NAME@$ik_name.service"
        done
        [ $# -gt 0 ] || [ -z "$DEFAULT_INSTANCE" ] || set -- "$NAME@$DEFAULT_INSTANCE.service"
        [ $# -gt 0 ] || return 0
    fi
    [ "$(systemctl -p LoadState --value show "$1" 2>/dev/null)" = loaded ] || return 0
    if [ "$ik_sd_action" = reload ] && [ "$(systemctl -p CanReload --value show "$1" 2>/dev/null)" = no ]; then
        return 0
    fi
    exec systemctl --no-pager "$ik_sd_action" "$@"
}

ik_main() {
    ik_systemd_redirect "$@"
    if [ $# -lt 1 ] || [ $# -gt 2 ]; then
        ik_say "usage: $0 {start|stop|restart|try-restart|reload|force-reload|status|configtest} [INSTANCE]" >&2
        [ "${1:-}" = status ] && exit 4
        exit 2
    fi
    ik_action=$1
    ONLY=${2:-}
    ik_gated=0
    if [ -n "$ONLY" ]; then
        if [ "$MULTI" = 0 ]; then
            ik_err "$NAME has no instances; use '$0 $ik_action'"
            [ "$ik_action" = status ] && exit 4
            exit 2
        fi
        if ! ik_valid_instance "$ONLY"; then
            ik_err "'$ONLY' is not a valid instance name"
            [ "$ik_action" = status ] && exit 4
            exit 2
        fi
        if [ ! -f "$INSTANCE_DIR/$ONLY" ] && [ "$ONLY" != "$DEFAULT_INSTANCE" ]; then
            ik_err "$NAME@$ONLY is not configured: create $INSTANCE_DIR/$ONLY"
            [ "$ik_action" = status ] && exit 4
            exit 6
        fi
    fi
    case $ik_action in
        start|stop|restart|try-restart|reload|force-reload|configtest)
            if [ "$(id -u)" != 0 ]; then
                ik_err "$NAME: '$ik_action' needs root"
                exit 4
            fi
            ;;
    esac
    if ! ik_identity; then
        ik_err "$NAME: user '$RUN_USER' does not exist"
        [ "$ik_action" = status ] && exit 4
        exit 6
    fi
    if [ ! -x "$PROGRAM" ]; then
        ik_err "$NAME: $PROGRAM is not installed"
        [ "$ik_action" = status ] && exit 4
        exit 5
    fi
    case $ik_action in
        start) ik_each ik_start_one ;;
        stop)
            ik_each ik_stop_one
            ik_stop_rc=$?
            [ -n "$LOCK_FILE" ] && [ -z "$ONLY" ] && [ "$ik_stop_rc" = 0 ] && rm -f -- "$LOCK_FILE"
            exit "$ik_stop_rc"
            ;;
        restart)
            ik_gate || exit 6
            ik_each ik_restart_one
            ;;
        try-restart)
            ik_gate || exit 6
            ik_each ik_try_restart_one
            ;;
        reload)
            [ "$RELOAD" = none ] && { ik_err "$NAME has no reload; use restart"; exit 3; }
            ik_gate || exit 6
            ik_each ik_reload_one
            ;;
        force-reload)
            ik_gate || exit 6
            if [ "$RELOAD" = none ]; then ik_each ik_try_restart_one; else ik_each ik_reload_one; fi
            ;;
        status) ik_each ik_status_one ;;
        configtest) ik_each ik_configtest_one ;;
        *)
            ik_err "unknown action '$ik_action'"
            exit 3
            ;;
    esac
}

# /lib/lsb/init-functions for Debian's conventions (and lintian); its own
# redirect to NAME.service is turned off: ik_systemd_redirect picks the unit.
SYSTEMCTL_SKIP_REDIRECT=initkit
# shellcheck disable=SC1091 # the distribution's file, not ours to check
[ -r /lib/lsb/init-functions ] && . /lib/lsb/init-functions
unset SYSTEMCTL_SKIP_REDIRECT

ik_main "$@"
