# ---- the stop wrapper, for supervisors without a pre-stop hook of their own ----
# The daemon runs as this script's child, in a process group of its own. On
# SIGTERM or SIGINT (the supervisor's stop) the pre-stop steps run within
# their budgets, then the daemon gets the recipe's stop signal, a budget, and
# KILL to its whole group; what it left in its group goes too. On SIGHUP the
# daemon is reloaded its own way, once its config passes its test.

ik_child=

# ik_wrapped_stop: the supervisor asked for a stop (TERM or INT).
ik_wrapped_stop() {
    trap '' TERM INT HUP
    if [ -z "$ik_child" ]; then
        exit 0
    fi
    if ik_alive "$ik_child"; then
        # The wait in a step ends if the daemon exits: it stays a zombie until this script reaps it.
        # shellcheck disable=SC2034 # read by the steps' polls, when the recipe has any
        ik_main_pid=$ik_child
        ik_before_stop
        kill -s "$STOP_SIGNAL" "$ik_child"
        if ! ik_wait_gone "$ik_child" "$STOP_TIMEOUT_MS"; then
            ik_say "$label: still running ${STOP_TIMEOUT_MS}ms after SIG$STOP_SIGNAL; sending SIGKILL to its process group"
            kill -s KILL -- "-$ik_child" 2>/dev/null
        fi
    fi
    wait "$ik_child"
    ik_record_exit $?
    [ "$STOP_MODE" = process ] || ik_end_group "$ik_child" "$LEFTOVER_MS"
    rm -f -- "$pidfile"
    exit 0
}

# ik_record_exit STATUS: how the daemon ended, beside its pidfile, for status.
ik_record_exit() {
    printf '%s\n' "$1" >"${pidfile%.pid}.exit"
}

# ik_wrapped_reload: the supervisor sent SIGHUP.
ik_wrapped_reload() {
    # shellcheck disable=SC2034 # the PID a signal reload goes to
    pid=$ik_child
    if [ "$RELOAD" = none ]; then
        ik_say "$label: no reload; ignoring SIGHUP"
    elif ik_check_quiet; then
        ik_do_reload
    else
        ik_say "$label: config test failed; not reloading:"
        printf '%s\n' "$check_output" | sed 's/^/    /'
    fi
}

# ik_supervise NOTIFY_FD: start the daemon and stay with it; when NOTIFY_FD
# is set, write a newline to it once the daemon is ready (s6's protocol).
ik_supervise() {
    ik_prepare || return 1
    ( ik_exec ) &
    ik_child=$!
    ik_stat "$ik_child" && ik_child_start=$ik_start
    # The supervisor knows this script's PID; the daemon's goes where root keeps pidfiles.
    ik_private_dir "$PID_DIR" && ik_write_pidfile "$ik_child" "$ik_child_start"
    if [ -n "$1" ] && ik_wait_ready "$ik_child" "$ik_child_start"; then
        # shellcheck disable=SC2039,SC3023 # the fd number comes from notification-fd
        printf '\n' >&"$1"
    fi
    ik_rc=1
    while ik_alive "$ik_child"; do
        wait "$ik_child"
        ik_rc=$?
    done
    ik_record_exit "$ik_rc"
    [ "$STOP_MODE" = process ] || ik_end_group "$ik_child" "$LEFTOVER_MS"
    rm -f -- "$pidfile"
    return "$ik_rc"
}

exec 2>&1
# A stop or reload runs in the trap itself: a signal that arrived between a
# check and a wait would otherwise be lost.
trap ik_wrapped_stop TERM INT
trap ik_wrapped_reload HUP
ik_instance_load
# shellcheck disable=SC2034 # where the pre-stop steps log, when the recipe has any
console_log=/dev/stdout
# The script's status is the daemon's.
ik_supervise "$NOTIFY_FD"
