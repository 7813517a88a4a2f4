# ---- initkit's service library: what every script it renders shares ----
# Each function below is included in a script only when that script uses it.

ik_say() { printf '%s\n' "$*"; }
ik_err() { printf 'error: %s\n' "$*" >&2; }
ik_warn() { printf 'warning: %s\n' "$*" >&2; }

# ik_now: milliseconds since boot in $now, from /proc/uptime (monotonic, no fork).
ik_now() {
    read -r ik_up _ </proc/uptime
    now=${ik_up%.*}${ik_up#*.}
    now=${now#"${now%%[!0]*}"}
    now=$(( ${now:-0} * 10 ))
}

# ik_pause: wait before polling again: 1 ms for the first 50 polls (most
# waits end there), then 10 ms. Call ik_pause_reset before a new wait.
ik_pause_reset() { ik_polls=0; }
ik_pause() {
    ik_polls=$((ik_polls + 1))
    if [ "$ik_polls" -le 50 ]; then sleep 0.001; else sleep 0.01; fi
}

# ik_stat PID: the state, parent, process group and start time of PID from
# /proc/PID/stat, in $ik_state, $ik_ppid, $ik_pgrp and $ik_start; 1 when it is gone.
# The command name (in parentheses) may hold spaces: fields count from the last `)`.
ik_stat() {
    { read -r ik_line <"/proc/$1/stat"; } 2>/dev/null || return 1
    ik_stat_fields "${ik_line##*) }"
}

# ik_stat_fields FIELDS: $ik_state, $ik_ppid, $ik_pgrp and $ik_start from the
# fields of a stat line after the command name (a line already read).
# shellcheck disable=SC2034 # values for whichever function reads them; a script reads only some
ik_stat_fields() {
    set -f
    # shellcheck disable=SC2086 # split into fields on purpose; globbing is off
    set -- $1
    set +f
    ik_state=$1 ik_ppid=$2 ik_pgrp=$3 ik_start=${20}
}

# ik_alive PID: it exists and is not a zombie. kill -0 counts a zombie as
# alive, and PID 1 may reap late, so read the state instead.
ik_alive() {
    ik_stat "$1" || return 1
    case $ik_state in Z*|X*|x*) return 1 ;; esac
    return 0
}

# ik_ours PID START: alive, and the very process this service started. The
# start time recorded with the PID cannot be recycled or forged: a PID reused
# by another process, or a look-alike of the same program and user started
# by hand, has another. It holds whatever the process runs (an interpreter,
# env, a shell) and whichever user it becomes, unlike its executable or uid.
ik_ours() {
    ik_alive "$1" && [ "$ik_start" = "$2" ]
}

# ik_read_pid: $pid, $pid_start and $pgid from the instance's pidfile (root's,
# in a root-owned directory). The process group is the main process's own
# unless a handover gave the service a new main process in the old one's group.
# shellcheck disable=SC2034 # values for whichever function reads them; a script reads only some
ik_read_pid() {
    pid='' pid_start='' pgid=''
    [ -f "$pidfile" ] || return 1
    read -r pid pid_start pgid _ <"$pidfile" 2>/dev/null
    case $pid in ''|*[!0-9]*) pid=; return 1 ;; esac
    case $pid_start in ''|*[!0-9]*) pid_start=; return 1 ;; esac
    case $pgid in ''|*[!0-9]*) pgid=$pid ;; esac
    return 0
}

# ik_running: the pidfile names a live process this service started.
ik_running() { ik_read_pid && ik_ours "$pid" "$pid_start"; }

# ik_write_pidfile PID START [PGID]: a new file (never through a planted link),
# then renamed over the pidfile. PGID only when it is not PID (a handover's).
ik_write_pidfile() {
    rm -f -- "$pidfile.new"
    ( set -C; printf '%s %s%s\n' "$1" "$2" "${3:+ $3}" >"$pidfile.new" ) 2>/dev/null && mv -f -- "$pidfile.new" "$pidfile"
}

# ik_children PID: the live children of PID (of any of its threads), each as
# PID:START, in $ik_kids. (The kernel writes each list without a final
# newline: read fails, but the line is read.)
ik_children() {
    ik_kids=''
    for ik_t in "/proc/$1/task/"*/children; do
        ik_list=''
        { read -r ik_list <"$ik_t"; } 2>/dev/null
        for ik_k in $ik_list; do
            ik_alive "$ik_k" && ik_kids="$ik_kids $ik_k:$ik_start"
        done
    done
}

# ik_wait_gone PID MS: poll until the process is gone, for at most MS.
ik_wait_gone() {
    ik_now
    ik_deadline=$((now + $2))
    ik_pause_reset
    while ik_alive "$1"; do
        ik_now
        [ "$now" -ge "$ik_deadline" ] && return 1
        ik_pause
    done
    return 0
}

# ik_group_left PGID: a live (not zombie) process is still in the group.
ik_group_left() {
    # No process at all in the group (a signal to it finds none): nothing to
    # scan for. Only a group that still has one, a zombie perhaps, is looked at.
    kill -s 0 -- "-$1" 2>/dev/null || return 1
    for ik_proc in /proc/[0-9]*; do
        # A cheap look first: a zombie, or a line without the number, is not one.
        { read -r ik_line <"$ik_proc/stat"; } 2>/dev/null || continue
        ik_line=${ik_line##*) }
        case $ik_line in
            [ZXx]*) continue ;;
            *" $1 "*) ;;
            *) continue ;;
        esac
        # Only now the fields, of the line just read (a zombie was skipped above).
        ik_stat_fields "$ik_line"
        [ "$ik_pgrp" = "$1" ] && return 0
    done
    return 1
}

# ik_end_group PGID MS: what is left of the service's process group (the
# children its main process left behind) gets SIGTERM, then SIGKILL after MS,
# as systemd's control group would. A group ID cannot be reused while the
# group has a member, so a live member found here is the service's.
ik_end_group() {
    ik_group_left "$1" || return 0
    kill -s TERM -- "-$1" 2>/dev/null
    ik_now
    ik_group_deadline=$((now + $2))
    ik_pause_reset
    while ik_group_left "$1"; do
        ik_now
        if [ "$now" -ge "$ik_group_deadline" ]; then
            kill -s KILL -- "-$1" 2>/dev/null
            ik_group_deadline=$((now + 10000))
        fi
        ik_pause
    done
    return 0
}

# ik_listening HOST:PORT: something listens (state 0A) on PORT, any address,
# per /proc/PID/net/tcp{,6}, PID being a trial start's (its own network
# namespace) or this shell's. One grep: a busy host has thousands of sockets.
ik_listening() {
    ik_port=${1##*:}
    case $ik_port in ''|*[!0-9]*) return 1 ;; esac
    ik_hex=$(printf '%04X' "$ik_port")
    ik_net=/proc/${ik_trial_net:-$$}/net
    grep -Eqs "^ *[0-9]+: [0-9A-F]+:$ik_hex [0-9A-F]+:[0-9A-F]+ 0A " "$ik_net/tcp" "$ik_net/tcp6"
}

# ik_unescape TEXT ESCAPABLE: TEXT with each backslash before one of the
# characters in ESCAPABLE (or before any, when ESCAPABLE is empty) removed.
ik_unescape() {
    ik_in=$1 ik_value=''
    while :; do
        case $ik_in in
            *\\?*)
                ik_value=$ik_value${ik_in%%\\*}
                ik_in=${ik_in#*\\}
                ik_c=${ik_in%"${ik_in#?}"}
                case $2 in
                    '') ik_value=$ik_value$ik_c ;;
                    *"$ik_c"*) ik_value=$ik_value$ik_c ;;
                    *) ik_value=$ik_value\\$ik_c ;;
                esac
                ik_in=${ik_in#?}
                ;;
            *)
                ik_value=$ik_value$ik_in
                return 0
                ;;
        esac
    done
}

# ik_unquote VALUE: the value of a KEY=VALUE line in $ik_value, read as
# systemd's EnvironmentFile= reads it: surrounding blanks dropped; '...'
# literal; "..." with \" \\ \` \$ escapes; otherwise each \X is X.
ik_unquote() {
    ik_v=$1
    ik_v=${ik_v#"${ik_v%%[! 	]*}"}
    ik_v=${ik_v%"${ik_v##*[! 	]}"}
    case $ik_v in
        \'*\')
            ik_value=${ik_v#\'}
            ik_value=${ik_value%\'}
            ;;
        \"*\")
            ik_v=${ik_v#\"}
            ik_unescape "${ik_v%\"}" '"\`$'
            ;;
        *) ik_unescape "$ik_v" '' ;;
    esac
}

# ik_read_settings FILE: KEY=VALUE lines, read as data (never sourced).
ik_read_settings() {
    [ -f "$1" ] || return 0
    while IFS= read -r ik_line || [ -n "$ik_line" ]; do
        case $ik_line in ''|'#'*|';'*) continue ;; esac
        ik_key=${ik_line%%=*}
        if [ "$ik_key" = "$ik_line" ]; then
            ik_warn "$1: ignoring a line without '=': $ik_line"
            continue
        fi
        ik_unquote "${ik_line#*=}"
        ik_set "$ik_key" "$ik_value" || ik_warn "$1: unknown setting '$ik_key' (known: $SETTING_NAMES)"
    done <"$1"
}

# ik_valid_instance NAME: the alphabet initkit's name parser allows (letters,
# digits, `_`, `.`, `-`; not led by `.` or `-`; at most 64 bytes), spelled out
# rather than as ranges, which some shells read by locale.
ik_valid_instance() {
    case $1 in
        ''|[!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_]*) return 1 ;;
        *[!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-]*) return 1 ;;
    esac
    [ "${#1}" -le 64 ]
}

# ik_load INSTANCE: defaults, then the service's settings, then the instance's.
# shellcheck disable=SC2034 # values for whichever function reads them; a script reads only some
ik_load() {
    instance=$1
    if [ -n "$instance" ]; then
        label="$NAME@$instance"
        pidfile="$PID_DIR/$instance.pid"
        console_log="$CONSOLE_LOG_DIR/$instance.log"
    else
        label=$NAME
        pidfile="$PID_DIR/$NAME.pid"
        console_log="$CONSOLE_LOG_DIR/$NAME.log"
    fi
    ik_defaults
    ik_read_settings "$SETTINGS_FILE"
    [ -n "$instance" ] && ik_read_settings "$INSTANCE_PREFIX$instance"
    ik_dirs
}

# ik_identity: the service's user exists; its group in $run_group.
# shellcheck disable=SC2034 # values for whichever function reads them; a script reads only some
ik_identity() {
    id -u "$RUN_USER" >/dev/null 2>&1 || return 1
    run_group=${RUN_GROUP:-$(id -gn "$RUN_USER")}
}

# ik_other USER: whether a command must switch to USER: not root (the
# scripts run as root), and not the caller (a user's own supervisor runs
# them as that user, who may not switch).
ik_other() {
    [ "$1" != root ] && [ "$1" != "$(id -un)" ]
}

# ik_as USER CMD...: run CMD as USER with the service's environment.
ik_as() {
    ik_user=$1
    shift
    if ik_other "$ik_user"; then
        set -- setpriv --reuid="$ik_user" --regid="$(id -g "$ik_user")" --init-groups -- "$@"
    fi
    ik_environment run "$@"
}

# ik_limit PID RESOURCE VALUE: set a resource limit (soft and hard) on PID.
# Without the privilege to raise the hard limit, say so in the log and use the
# hard limit: a smaller limit is better than a service that does not start.
ik_limit() {
    prlimit --pid "$1" "--$2=$3:$3" 2>/dev/null && return 0
    ik_hard=$(prlimit --pid "$1" "--$2" --noheadings --raw --output HARD 2>/dev/null)
    printf 'initkit: cannot raise the %s limit to %s; using the hard limit, %s\n' "$2" "$3" "$ik_hard"
    prlimit --pid "$1" "--$2=$ik_hard:$ik_hard" 2>/dev/null
    return 0
}

# ik_mkdir PATH MODE: create a directory the service owns, at every start.
# An existing one is left alone; a symlink is refused (never chown through it).
ik_mkdir() {
    if [ -L "$1" ]; then
        ik_err "$label: $1 is a symlink; refusing to use it"
        return 1
    fi
    [ -d "$1" ] && return 0
    mkdir -p -- "${1%/*}" && mkdir -m "$2" -- "$1" && chown -h -- "$RUN_USER:$run_group" "$1"
}

# ik_private_dir PATH: a directory only root may write, for pidfiles, locks
# and console logs: created if missing; refused if it is a link, or owned or
# writable by anyone else (a file planted there could redirect root's writes).
ik_private_dir() {
    if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
        ik_err "$1 is not a directory; refusing to use it"
        return 1
    fi
    [ -d "$1" ] || { mkdir -p -- "${1%/*}" && mkdir -m 0755 -- "$1"; } || return 1
    [ "$(id -u)" = 0 ] || return 0
    case $(stat -c '%u %A' -- "$1") in
        '0 d'????-??-*) return 0 ;;
    esac
    ik_err "$1 is owned or writable by someone other than root; refusing to use it"
    return 1
}

# ik_private_file PATH: refuses a symlink where root is about to write.
ik_private_file() {
    [ -L "$1" ] || return 0
    ik_err "$1 is a symlink; refusing to write through it"
    return 1
}

# ik_lock: one action at a time on this instance, even from two terminals:
# an advisory lock on a file in the root-owned pidfile directory, held on fd
# 9 until ik_unlock (the daemon never inherits it).
ik_lock() {
    ik_private_dir "$PID_DIR" || return 1
    ik_lockfile="$PID_DIR/${instance:-$NAME}.lock"
    ik_private_file "$ik_lockfile" || return 1
    exec 9>>"$ik_lockfile" || return 1
    command -v flock >/dev/null 2>&1 || return 0
    flock 9
}
ik_unlock() { exec 9>&-; }

# ik_check_quiet: run the config test; its output in $check_output.
ik_check_quiet() {
    check_output=$(ik_check 2>&1)
}

ik_report_check() {
    ik_err "$label: config test failed; nothing was changed:"
    printf '%s\n' "$check_output" | sed 's/^/    /' >&2
}

# ik_poll_loop: in $ik_poll_code, the poll loop of a hook or step, run by a
# child sh: PROBE... every INTERVAL seconds until it succeeds, with a progress
# line on fd 3 from 5 s on: every second on a terminal (one line, rewritten),
# every 10 s otherwise. Its arguments: INTERVAL WHAT BUDGET MAIN PROBE...;
# WHAT is printed as data. MAIN, when not empty, is the daemon's PID: once it
# has exited (a zombie counts: a supervisor running the steps cannot reap it
# meanwhile) there is nothing left to wait for, and the loop ends.
ik_poll_loop() {
    # shellcheck disable=SC2016 # sh's own code, expanded by the child sh
    ik_poll_code='i=$1 d=$2 b=$3 m=$4; shift 4; s=$(date +%s); n=$((s + 5)); p=
    until "$@"; do
        if [ -n "$m" ]; then
            { read -r l <"/proc/$m/stat"; } 2>/dev/null || break
            case ${l##*) } in [ZXx]*) break ;; esac
        fi
        sleep "$i"; t=$(date +%s)
        [ "$t" -ge "$n" ] || continue
        if [ -t 3 ]; then
            printf "\r%s (%ss of at most %ss)" "$d" "$((t - s))" "$b" >&3; n=$((t + 1)); p=1
        else
            printf "%s (%ss of at most %ss)\n" "$d" "$((t - s))" "$b" >&3; n=$((t + 10))
        fi
    done
    [ -z "$p" ] || echo >&3
    '
}

# ik_hook DESCRIPTION run|poll TIMEOUT INTERVAL USER CMD...: a pre-stop step
# as USER with the service's environment, within its budget; a failure is
# reported, and the stop goes on. A poll ends early once the daemon,
# $ik_main_pid when the caller knows it, has exited.
ik_hook() {
    ik_hdesc=$1 ik_hkind=$2 ik_htimeout=$3 ik_hinterval=$4 ik_huser=$5
    shift 5
    ik_say "$label: before stop: $ik_hdesc (at most ${ik_htimeout}s)"
    printf '%s initkit: before stop: %s\n' "$(date '+%Y-%m-%dT%H:%M:%S')" "$ik_hdesc" >>"$console_log"
    if ik_other "$ik_huser"; then
        set -- setpriv --reuid="$ik_huser" --regid="$(id -g "$ik_huser")" --init-groups -- "$@"
    fi
    if [ "$ik_hkind" = poll ]; then
        ik_poll_loop
        set -- sh -c "$ik_poll_code" initkit-poll "$ik_hinterval" "$label: before stop: still waiting: $ik_hdesc" "$ik_htimeout" "${ik_main_pid:-}" "$@"
    fi
    ik_environment run timeout -k 2 "$ik_htimeout" "$@" 3>&1 >>"$console_log" 2>&1
    ik_hrc=$?
    # A progress line cut short by the budget ends here.
    if [ "$ik_hrc" -ne 0 ] && [ "$ik_hkind" = poll ] && [ -t 1 ]; then echo; fi
    if [ "$ik_hrc" -ne 0 ]; then
        ik_warn "$label: before-stop step '$ik_hdesc' did not succeed (exit $ik_hrc); stopping anyway"
    fi
    return 0
}

# ik_wait_ready PID START: 0 once the process is ready (and still the one
# started, READY_SETTLE_MS later too), 1 if it exited, 2 if the readiness
# budget ran out.
ik_wait_ready() {
    ik_now
    # shellcheck disable=SC2034 # read by ik_ready when the recipe has nothing to probe
    ik_ready_since=$now
    ik_ready_deadline=$((now + READY_TIMEOUT_MS))
    ik_ready_note=$((now + 5000))
    ik_pause_reset
    while :; do
        ik_ours "$1" "$2" || return 1
        # Ready counts only if it is still this process: another could answer the probe.
        if ik_ready && ik_ours "$1" "$2"; then
            [ "$READY_SETTLE_MS" -gt 0 ] || return 0
            # It must stay up a while: some daemons listen, then fail on the rest.
            if ik_wait_gone "$1" "$READY_SETTLE_MS" || ! ik_ours "$1" "$2"; then return 1; fi
            return 0
        fi
        ik_now
        [ "$now" -ge "$ik_ready_deadline" ] && return 2
        if [ "$now" -ge "$ik_ready_note" ]; then
            # A long wait says so, every 10 s: slow starts look like hangs otherwise.
            ik_say "$label: not ready yet ($(((now - ik_ready_since) / 1000))s of at most $((READY_TIMEOUT_MS / 1000))s)"
            ik_ready_note=$((now + 10000))
        fi
        ik_pause
    done
}

ik_show_log_tail() {
    [ -f "$console_log" ] || return 0
    ik_err "$label: the last lines of $console_log:"
    tail -n 5 "$console_log" | sed 's/^/    /' >&2
}

# ik_step PHASE DESCRIPTION run|poll TIMEOUT INTERVAL USER required|optional CMD...:
# a step before or after start, or after stop, as USER with the service's
# environment and within its budget, logged. A required step that fails
# fails the action; an optional one is reported and the action goes on.
ik_step() {
    ik_sphase=$1 ik_sdesc=$2 ik_skind=$3 ik_stimeout=$4 ik_sinterval=$5 ik_suser=$6 ik_sneed=$7
    shift 7
    printf '%s initkit: %s: %s\n' "$(date '+%Y-%m-%dT%H:%M:%S')" "$ik_sphase" "$ik_sdesc" >>"$console_log"
    if ik_other "$ik_suser"; then
        set -- setpriv --reuid="$ik_suser" --regid="$(id -g "$ik_suser")" --init-groups -- "$@"
    fi
    if [ "$ik_skind" = poll ]; then
        ik_poll_loop
        set -- sh -c "$ik_poll_code" initkit-poll "$ik_sinterval" "$label: $ik_sphase: still waiting: $ik_sdesc" "$ik_stimeout" '' "$@"
    fi
    ik_environment run timeout -k 2 "$ik_stimeout" "$@" 3>&1 >>"$console_log" 2>&1
    ik_src=$?
    if [ "$ik_src" -ne 0 ] && [ "$ik_skind" = poll ] && [ -t 1 ]; then echo; fi
    [ "$ik_src" -eq 0 ] && return 0
    if [ "$ik_sneed" = optional ]; then
        ik_warn "$label: $ik_sphase: '$ik_sdesc' did not succeed (exit $ik_src); going on"
        return 0
    fi
    ik_err "$label: $ik_sphase: '$ik_sdesc' failed (exit $ik_src)"
    return 1
}

# ik_success CODE: CODE is one the recipe counts as a clean exit.
ik_success() {
    for ik_code in $SUCCESS_CODES; do
        [ "$1" = "$ik_code" ] && return 0
    done
    return 1
}
