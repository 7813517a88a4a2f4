# ---- the job's steps: check, run, ready, before-stop ----
ik_load "${2:-}"
if [ -n "${2:-}" ] && ! ik_valid_instance "$2"; then
    ik_err "'$2' is not a valid instance name"
    exit 2
fi
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
        done
        # It must stay up a while: some daemons listen, then fail on the rest.
        [ "$READY_SETTLE_MS" -gt 0 ] && sleep "$((READY_SETTLE_MS / 1000)).$(printf %03d $((READY_SETTLE_MS % 1000)))"
        ik_ready ;;
    before-stop)
        # shellcheck disable=SC2034 # where the pre-stop steps log, when the recipe has any
        console_log=/dev/stdout
        ik_before_stop ;;
    *)
        ik_err "usage: $0 check|run|ready|before-stop [INSTANCE]"
        exit 2 ;;
esac
