# ---- the stop wrapper, for supervisors without a pre-stop hook of their own ----
# The daemon runs as this script's child. On SIGTERM or SIGINT (the
# supervisor's stop) the pre-stop hooks run within their budgets, then the
# daemon gets the recipe's stop signal, a budget, and KILL. On SIGHUP the
# daemon is reloaded its own way.

ik_child=

ik_wrapped_stop() {
    trap '' TERM INT HUP
    ik_before_stop
    if ik_alive "$ik_child"; then
        kill -s "$STOP_SIGNAL" "$ik_child"
        if ! ik_wait_gone "$ik_child" "$STOP_TIMEOUT_MS"; then
            ik_say "$label: still running ${STOP_TIMEOUT_MS}ms after SIG$STOP_SIGNAL; sending SIGKILL"
            kill -s KILL "$ik_child"
        fi
    fi
    wait "$ik_child"
    rm -f -- "$pidfile"
    exit 0
}

ik_wrapped_reload() {
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
    ik_prepare || exit 1
    ( ik_exec ) &
    ik_child=$!
    # The supervisor knows this script's PID; the daemon's goes where root keeps pidfiles.
    ik_private_dir "$PID_DIR" && printf '%s\n' "$ik_child" >"$pidfile"
    trap ik_wrapped_stop TERM INT
    trap ik_wrapped_reload HUP
    if [ -n "$1" ]; then
        if ik_wait_ready "$ik_child"; then
            # shellcheck disable=SC2039,SC3023
            printf '\n' >&"$1"
        fi
    fi
    ik_rc=1
    while ik_alive "$ik_child"; do
        wait "$ik_child"
        ik_rc=$?
    done
    rm -f -- "$pidfile"
    exit "$ik_rc"
}
