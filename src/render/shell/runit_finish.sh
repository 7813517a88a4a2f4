# ---- finish: how the daemon ended, and what it left in its process group ----
# runsv runs this once ./run's process (the daemon, leading a process group of
# its own) has ended: $1 is its exit code (-1 when a signal ended it), $2 the
# signal. Whatever the daemon left in its group (the workers of a master
# killed with SIGKILL) gets SIGTERM, then SIGKILL, before runsv runs it again.
ik_instance_load
printf 'initkit: %s exited (code %s, signal %s)\n' "$label" "${1:-?}" "${2:-?}"
case ${1:-} in
    -1) ik_rc=$((128 + ${2:-0})) ;;
    ''|*[!0-9]*) ik_rc= ;;
    *) ik_rc=$1 ;;
esac
if ik_read_pid; then
    [ "$STOP_MODE" = process ] || ik_end_group "$pid" "$LEFTOVER_MS"
    rm -f -- "$pidfile"
fi
# Kept as a shell's wait status, where `initkit status` reads it.
if [ -n "$ik_rc" ] && ik_private_dir "$PID_DIR" && ik_private_file "${pidfile%.pid}.exit"; then
    printf '%s\n' "$ik_rc" >"${pidfile%.pid}.exit"
fi
exit 0
