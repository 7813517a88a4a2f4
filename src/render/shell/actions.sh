# ---- the actions on one instance, shared by SysV and OpenRC ----

# ik_start_one: start the daemon in a session of its own, record its PID with
# its start time, and wait until it is ready. A start that fails leaves
# nothing running: the daemon's whole process group goes with it.
ik_start_one() {
    [ "$KIND" = oneshot ] && { ik_run_task; return; }
    if ik_running; then
        ik_say "$label: already running (pid $pid)"
        return 0
    fi
    if ! ik_conditions; then
        ik_say "$label: not started: $ik_unmet"
        return 0
    fi
    ik_end_leftovers
    ik_private_dir "$PID_DIR" || return 1
    ik_private_dir "$CONSOLE_LOG_DIR" || return 1
    ik_private_file "$console_log" || return 1
    rm -f -- "$pidfile"
    ik_prepare || return 1
    ik_before_start || { ik_show_log_tail; return 1; }
    # After the gate of a restart the config was just tested: not again, inside
    # the downtime. A trial start would only repeat this start: it is its own trial.
    if [ "${ik_gated:-0}" != 1 ] && [ "$GATE" != trial ] && ! ik_check_quiet; then
        ik_report_check
        return 6
    fi
    if [ "$KIND" = forking ]; then
        ik_launch_forking || return 1
    else
        ( exec 9>&- </dev/null >>"$console_log" 2>&1; ik_exec ) &
        pid=$!
        # The child is this shell's until it is waited for, so its start time is
        # readable even if it already exited.
        ik_stat "$pid" || { ik_err "$label: exited at once"; ik_show_log_tail; return 1; }
        pid_start=$ik_start
    fi
    ik_write_pidfile "$pid" "$pid_start"
    ik_wait_ready "$pid" "$pid_start"
    ik_ready_rc=$?
    if [ "$ik_ready_rc" = 0 ] && ! ik_after_start; then ik_ready_rc=3; fi
    case $ik_ready_rc in
        0)
            [ -n "$LOCK_FILE" ] && { ik_private_dir "${LOCK_FILE%/*}" && : >"$LOCK_FILE"; }
            ik_say "$label: started (pid $pid)"
            return 0
            ;;
        1) ik_err "$label: exited while starting" ;;
        2) ik_err "$label: not ready within ${READY_TIMEOUT_MS}ms; stopping it" ;;
        *) ik_err "$label: a step after start failed; stopping it" ;;
    esac
    # setsid made the daemon the leader of its own group; nothing of it stays.
    kill -s KILL -- "-$pid" 2>/dev/null
    ik_end_group "$pid" 0
    rm -f -- "$pidfile"
    ik_show_log_tail
    return 1
}

# ik_launch_forking: a daemon that forks: its start command must exit with
# success, then the PID it writes to its own pidfile is taken, once, and only
# if that process started after the command did (a stale file names another).
ik_launch_forking() {
    ik_daemon_pidfile
    # A mark in the daemon's environment: a daemon that forks calls setsid
    # and leaves the launcher's group, but it keeps its environment.
    ik_now
    ik_mark="$label.$$.$now"
    ik_launch_id=$ik_mark
    ( exec 9>&- </dev/null >>"$console_log" 2>&1; ik_exec ) &
    ik_launch_id=
    ik_launcher=$!
    ik_stat "$ik_launcher" || ik_start=0
    ik_launch_start=$ik_start
    wait "$ik_launcher"
    ik_lrc=$?
    if ! ik_success "$ik_lrc"; then
        ik_kill_launched
        ik_err "$label: its start command exited $ik_lrc"
        ik_show_log_tail
        return 1
    fi
    ik_now
    ik_fork_deadline=$((now + READY_TIMEOUT_MS))
    ik_pause_reset
    while :; do
        if [ -f "$ik_dpf" ] && read -r pid _ <"$ik_dpf" 2>/dev/null; then
            case $pid in
                ''|*[!0-9]*) ;;
                *)
                    if ik_alive "$pid" && [ "$ik_start" -ge "$ik_launch_start" ]; then
                        pid_start=$ik_start
                        return 0
                    fi
                    ;;
            esac
        fi
        ik_now
        [ "$now" -ge "$ik_fork_deadline" ] && break
        ik_pause
    done
    ik_kill_launched
    ik_err "$label: no process of its own in $ik_dpf within ${READY_TIMEOUT_MS}ms"
    ik_show_log_tail
    return 1
}

# ik_kill_launched: a failed forking start leaves nothing running: the
# launcher's group ends, and so does what left it (a daemon that forks calls
# setsid): each process started since the launch that carries this start's
# mark in its environment, or, when it rewrote its environment for its
# process title (redis, nginx), that is the service's program, run as the
# service's user, orphaned, and named by no pidfile of the service's instances.
ik_kill_launched() {
    kill -s KILL -- "-$ik_launcher" 2>/dev/null
    ik_uid=$(id -u "$RUN_USER" 2>/dev/null)
    ik_prog=$(readlink -f -- "$PROGRAM" 2>/dev/null)
    for ik_proc in /proc/[0-9]*; do
        ik_p=${ik_proc#/proc/}
        ik_stat "$ik_p" || continue
        [ "$ik_start" -ge "$ik_launch_start" ] || continue
        if { tr '\0' '\n' <"$ik_proc/environ"; } 2>/dev/null | grep -qxF "INITKIT_LAUNCH=$ik_mark"; then
            kill -s KILL "$ik_p" 2>/dev/null
            continue
        fi
        [ -n "$ik_prog" ] || continue
        [ "$ik_ppid" = 1 ] || continue
        [ "$(readlink "$ik_proc/exe" 2>/dev/null)" = "$ik_prog" ] || continue
        [ "$(stat -c %u "$ik_proc" 2>/dev/null)" = "$ik_uid" ] || continue
        grep -qs "^$ik_p " "$PID_DIR"/*.pid && continue
        kill -s KILL "$ik_p" 2>/dev/null
    done
}

# ik_run_task: a one-shot task runs to its end; its exit is the start's. With
# REMAIN it then counts as active until it is stopped.
ik_run_task() {
    if [ "$REMAIN" = 1 ] && [ -f "$pidfile" ]; then
        ik_say "$label: already done, and active"
        return 0
    fi
    if ! ik_conditions; then
        ik_say "$label: not started: $ik_unmet"
        return 0
    fi
    ik_private_dir "$PID_DIR" || return 1
    ik_private_dir "$CONSOLE_LOG_DIR" || return 1
    ik_private_file "$console_log" || return 1
    ik_prepare || return 1
    ik_before_start || { ik_show_log_tail; return 1; }
    if [ "${ik_gated:-0}" != 1 ] && ! ik_check_quiet; then
        ik_report_check
        return 6
    fi
    ( exec 9>&- </dev/null >>"$console_log" 2>&1; ik_exec ) &
    pid=$!
    wait "$pid"
    ik_trc=$?
    # What the task left behind ends with it, unless it is to remain.
    [ "$REMAIN" = 1 ] || ik_end_group "$pid" "$LEFTOVER_MS"
    if ! ik_success "$ik_trc"; then
        ik_err "$label: the task exited $ik_trc"
        ik_show_log_tail
        return 1
    fi
    ik_after_start || return 1
    if [ "$REMAIN" = 1 ]; then
        ik_private_file "$pidfile" && printf 'done\n' >"$pidfile"
    fi
    ik_say "$label: done"
    return 0
}

# ik_end_leftovers: the pidfile names a main process that is gone (killed
# with -9, crashed): what it left in its process group (workers, children
# holding its ports) is still the service's and ends now, as systemd ends
# the rest of a unit's cgroup. A live process with that PID means the PID
# was reused, which the kernel does only once the group is empty.
ik_end_leftovers() {
    ik_read_pid || return 0
    ik_alive "$pid" && return 0
    # After a handover the group is the first main's: alive, its PID was reused.
    [ "$pgid" = "$pid" ] || ! ik_alive "$pgid" || return 0
    ik_group_left "$pgid" || return 0
    ik_warn "$label: its main process (pid $pid) is gone; ending what it left in its process group"
    ik_end_group "$pgid" "$LEFTOVER_MS"
}

# ik_stop_one: the pre-stop steps, the stop signal, a budget, then KILL to the
# whole group; then what the daemon left in its group is ended too.
ik_stop_one() {
    if [ "$KIND" = oneshot ]; then
        [ -f "$pidfile" ] || { ik_say "$label: not active"; return 0; }
        ik_stop_command
        ik_after_stop
        rm -f -- "$pidfile"
        ik_say "$label: stopped"
        return 0
    fi
    if ! ik_running; then
        ik_end_leftovers
        if [ -f "$pidfile" ]; then
            ik_say "$label: not running; removing the stale pidfile (pid ${pid:-?} is not $label)"
            rm -f -- "$pidfile"
        else
            ik_say "$label: not running"
        fi
        return 0
    fi
    # OpenRC runs the steps in stop_pre; everywhere else they run here.
    # shellcheck disable=SC2034 # read by the steps' polls, when the recipe has any
    ik_main_pid=$pid
    [ "${ik_hooks_done:-0}" = 1 ] || ik_before_stop
    # The steps take time: look again before signalling, the PID must still be ours.
    # The daemon's own shutdown tool first, when it has one; a signal if that is not enough.
    if ik_ours "$pid" "$pid_start" && ik_stop_command && ik_wait_gone "$pid" "$STOP_TIMEOUT_MS"; then
        :
    elif ik_ours "$pid" "$pid_start"; then
        if [ "$STOP_MODE" = group ]; then
            kill -s "$STOP_SIGNAL" -- "-$pgid" 2>/dev/null
        else
            kill -s "$STOP_SIGNAL" "$pid"
        fi
        if ! ik_wait_gone "$pid" "$STOP_TIMEOUT_MS"; then
            ik_warn "$label: still running ${STOP_TIMEOUT_MS}ms after SIG$STOP_SIGNAL; sending SIGKILL to its process group"
            ik_ours "$pid" "$pid_start" && kill -s KILL -- "-$pgid" 2>/dev/null
            if ! ik_wait_gone "$pid" 10000; then
                ik_err "$label: pid $pid survived SIGKILL"
                return 1
            fi
        fi
    fi
    [ "$STOP_MODE" = process ] || ik_end_group "$pgid" "$LEFTOVER_MS"
    rm -f -- "$pidfile"
    ik_after_stop
    ik_say "$label: stopped"
    return 0
}

# ik_status_one: LSB codes. 0 running, 1 dead with pidfile, 2 dead with
# subsys lock (RHEL), 3 not running.
ik_status_one() {
    if [ "$KIND" = oneshot ]; then
        if [ "$REMAIN" = 1 ] && [ -f "$pidfile" ]; then
            ik_say "$label: done, and active"
            return 0
        fi
        ik_say "$label: not running"
        return 3
    fi
    if ik_running; then
        ik_say "$label: running (pid $pid)"
        return 0
    fi
    if [ -f "$pidfile" ]; then
        ik_say "$label: dead, but pidfile $pidfile remains (pid ${pid:-?} is not $label)"
        return 1
    fi
    if [ -n "$LOCK_FILE" ] && [ -f "$LOCK_FILE" ] && [ -z "$instance" ]; then
        ik_say "$label: dead, but $LOCK_FILE remains"
        return 2
    fi
    ik_say "$label: not running"
    return 3
}

ik_configtest_one() {
    if [ "$GATE" = none ]; then
        ik_say "$label: no config test (the recipe has none)"
        return 0
    fi
    if ik_check_quiet; then
        ik_say "$label: config test ok"
        return 0
    fi
    ik_report_check
    return 6
}

# ik_trial: the gate of a daemon without a config-test mode. The configuration
# starts for real, as the service's user, in a network namespace of its own
# (its ports are free there; the host's addresses are on its loopback), with
# directories of its own, and with whatever else it writes kept in a private
# copy-on-write layer (TRIAL_SETUP), so it neither sees nor disturbs the
# running instance. Ready within the start budget means it passed; then it is
# killed. Its log is the report.
ik_trial() {
    if ! ik_trial_dir=$(mktemp -d "${TMPDIR:-/tmp}/initkit-trial.XXXXXX"); then
        ik_say "cannot make a directory for a trial start in ${TMPDIR:-/tmp}"
        return 1
    fi
    # The copy-on-write layers of what the trial writes, on a tmpfs.
    if ! ik_trial_stage=$(mktemp -d /dev/shm/initkit-trial.XXXXXX); then
        ik_say "cannot make a directory for a trial start in /dev/shm"
        rm -rf -- "$ik_trial_dir"
        return 1
    fi
    (ik_trial_run)
    ik_trial_rc=$?
    rm -rf -- "$ik_trial_dir" "$ik_trial_stage"
    return "$ik_trial_rc"
}

# ik_trial_run: the trial itself, in a subshell (it changes the directories).
ik_trial_run() {
    chmod 0711 "$ik_trial_dir" || return 1
    # shellcheck disable=SC2034 # read by the functions that build the command
    d_runtime=$ik_trial_dir/run d_state=$ik_trial_dir/state d_logs=$ik_trial_dir/log
    ik_prepare || return 1
    ik_trial_log=$ik_trial_dir/console.log
    ik_trial_net=new
    ( exec 9>&- </dev/null >"$ik_trial_log" 2>&1; ik_exec ) &
    pid=$!
    if ik_stat "$pid"; then
        ik_trial_start=$ik_start
        # Until it is in its own namespace, a probe of it would see the host's ports.
        ik_host_net=$(readlink "/proc/$$/ns/net")
        ik_pause_reset
        while ik_alive "$pid" && [ "$(readlink "/proc/$pid/ns/net")" = "$ik_host_net" ]; do
            ik_pause
        done
        ik_trial_net=$pid
        ik_wait_ready "$pid" "$ik_trial_start"
        ik_trial_rc=$?
        # Ready, and still up a moment later: some daemons listen before they fail.
        if [ "$ik_trial_rc" = 0 ] && ik_wait_gone "$pid" "$TRIAL_SETTLE_MS"; then
            ik_trial_rc=1
        fi
    else
        ik_trial_rc=1
    fi
    # KILL, not the stop signal: a daemon that saves at shutdown writes nothing.
    # The first process of its PID namespace goes first, and the whole
    # namespace with it, whatever session or group its processes made; the
    # unshare before it exits once all of them are gone.
    # (The kernel writes that list without a final newline: read would fail.)
    ik_init=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)
    ik_init=${ik_init%% *}
    if [ -n "$ik_init" ]; then
        kill -s KILL "$ik_init" 2>/dev/null
        ik_wait_gone "$pid" "$LEFTOVER_MS"
    fi
    kill -s KILL -- "-$pid" 2>/dev/null || kill -s KILL "$pid" 2>/dev/null
    ik_end_group "$pid" 0
    wait "$pid" 2>/dev/null
    case $ik_trial_rc in
        0) return 0 ;;
        1) ik_say "a trial start of the new configuration exited; its last lines:" ;;
        *) ik_say "a trial start of the new configuration was not ready within ${READY_TIMEOUT_MS}ms; its last lines:" ;;
    esac
    tail -n 8 "$ik_trial_log"
    return 1
}

# ik_host_addresses: the host's addresses, one per line, for a trial's loopback
# (link-local ones and loopback's own left out).
ik_host_addresses() {
    ip -o addr show 2>/dev/null | while read -r _ ik_if _ ik_addr _; do
        case $ik_if:$ik_addr in lo:*|*:fe80:*) continue ;; esac
        printf '%s\n' "${ik_addr%/*}"
    done
}

ik_restart_one() {
    ik_stop_one || return 1
    ik_start_one
}

# ik_handover_one: a restart with no window (the recipe's restart.handover).
# The main process gets HANDOVER_SIGNAL and hands its listening sockets over
# itself: to a new main process it starts as its child (HANDOVER=child, nginx's
# binary upgrade), or to new workers once it has run itself again (same,
# haproxy -W). It is done when a child started after the signal has workers of
# its own (child) or is a new worker (same), and is still up HANDOVER_SETTLE_MS
# later, all within HANDOVER_TIMEOUT_MS; then the old main gets HANDOVER_FINISH
# (child) and the new one is recorded. 0 done; 1 not, with why in $ik_ho_why:
# nothing but the signal reached the running service.
ik_handover_one() {
    ik_children "$pid"
    ik_ho_before="$ik_kids "
    kill -s "$HANDOVER_SIGNAL" "$pid" 2>/dev/null || { ik_ho_why="SIG$HANDOVER_SIGNAL could not be sent"; return 1; }
    ik_now
    ik_ho_deadline=$((now + HANDOVER_TIMEOUT_MS))
    ik_ho_seen=''
    ik_pause_reset
    while :; do
        if ! ik_ours "$pid" "$pid_start"; then
            ik_ho_why="its main process (pid $pid) exited"
            return 1
        fi
        ik_children "$pid"
        ik_ho_new='' ik_ho_any=''
        for ik_kid in $ik_kids; do
            case $ik_ho_before in *" $ik_kid "*) continue ;; esac
            ik_ho_seen=${ik_kid%:*} ik_ho_any=1
            if [ "$HANDOVER" = same ]; then
                ik_ho_new=$ik_kid
                break
            fi
            # A new main process is ready once it has started its own workers.
            ik_ho_kid=$ik_kid
            ik_children "${ik_kid%:*}"
            [ -n "$ik_kids" ] && { ik_ho_new=$ik_ho_kid; break; }
        done
        if [ -n "$ik_ho_new" ]; then
            # It must stay up a moment: a worker can fail on what the test missed.
            if ik_wait_gone "${ik_ho_new%:*}" "$HANDOVER_SETTLE_MS"; then
                ik_ho_why="the new process (pid ${ik_ho_new%:*}) exited at once"
                return 1
            fi
            break
        fi
        # What the signal started was seen and is gone, and nothing else came:
        # it failed (nginx: the new binary did not start; the old master
        # serves on). Missed when it is reaped between two looks: the budget
        # ends the wait then.
        if [ -n "$ik_ho_seen" ] && [ -z "$ik_ho_any" ]; then
            ik_ho_why="the new main process (pid $ik_ho_seen) exited"
            return 1
        fi
        ik_now
        if [ "$now" -ge "$ik_ho_deadline" ]; then
            if [ -n "$ik_ho_seen" ]; then
                ik_ho_why="pid $ik_ho_seen did not become ready within ${HANDOVER_TIMEOUT_MS}ms"
            elif [ "$HANDOVER" = same ]; then
                ik_ho_why="no new worker within ${HANDOVER_TIMEOUT_MS}ms"
            else
                ik_ho_why="no new main process within ${HANDOVER_TIMEOUT_MS}ms"
            fi
            return 1
        fi
        ik_pause
    done
    if [ "$HANDOVER" = same ]; then
        ik_say "$label: restarted with a handover: new workers (pid ${ik_ho_new%:*}) of main pid $pid"
        return 0
    fi
    ik_ho_old=$pid ik_ho_old_start=$pid_start
    pid=${ik_ho_new%:*} pid_start=${ik_ho_new#*:}
    ik_write_pidfile "$pid" "$pid_start" "$pgid"
    # The old main shuts down as it does at a stop; its connections finish.
    kill -s "$HANDOVER_FINISH" "$ik_ho_old" 2>/dev/null
    if ! ik_wait_gone "$ik_ho_old" "$STOP_TIMEOUT_MS"; then
        ik_warn "$label: the old main process (pid $ik_ho_old) still runs ${STOP_TIMEOUT_MS}ms after SIG$HANDOVER_FINISH; sending SIGKILL to it and its workers"
        ik_children "$ik_ho_old"
        for ik_kid in $ik_kids; do
            [ "${ik_kid%:*}" = "$pid" ] || kill -s KILL "${ik_kid%:*}" 2>/dev/null
        done
        ik_ours "$ik_ho_old" "$ik_ho_old_start" && kill -s KILL "$ik_ho_old" 2>/dev/null
    fi
    ik_say "$label: restarted with a handover: new main process (pid $pid; was $ik_ho_old)"
    return 0
}

# ik_handover_restart_one: the restart of a recipe with restart.handover (the
# one its scripts run): the handover where the service runs; a plain restart where
# it does not come through (a new main process that never became ready is
# ended with the old one's process group by the stop).
ik_handover_restart_one() {
    if ik_running; then
        ik_handover_one && return 0
        ik_warn "$label: the handover did not come through ($ik_ho_why); restarting plainly"
        ik_stop_one || return 1
        ik_start_one || return 1
        ik_say "$label: restarted plainly (the handover did not come through)"
        return 0
    fi
    ik_stop_one || return 1
    ik_start_one
}

ik_try_restart_one() {
    if ik_running; then
        ik_restart_one
        return
    fi
    ik_say "$label: not running; left stopped"
    return 0
}

ik_reload_one() {
    if ! ik_running; then
        ik_err "$label: not running; nothing to reload"
        return 7
    fi
    ik_do_reload
}
