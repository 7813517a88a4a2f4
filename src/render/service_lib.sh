# ---- initkit's service library: the same in every script it renders ----

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

# ik_alive PID: the process exists and is not a zombie. kill -0 counts a
# zombie as alive, and PID 1 may reap late, so read the state instead.
ik_alive() {
    { read -r ik_stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    ik_stat=${ik_stat##*) }
    case $ik_stat in Z*|X*|x*) return 1 ;; esac
    return 0
}

# ik_ours PID: alive, running our executable, as our user. A pidfile is never
# trusted on its own: the PID may have been recycled by another process.
ik_ours() {
    ik_alive "$1" || return 1
    ik_exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
    ik_exe=${ik_exe% (deleted)}
    [ "$ik_exe" = "$exe_real" ] || return 1
    ik_uid=
    while read -r ik_key ik_val _; do
        if [ "$ik_key" = "Uid:" ]; then ik_uid=$ik_val; break; fi
    done <"/proc/$1/status"
    [ "$ik_uid" = "$run_uid" ]
}

# ik_read_pid: $pid from the instance's pidfile, when it holds a number.
ik_read_pid() {
    pid=
    [ -f "$pidfile" ] || return 1
    read -r pid <"$pidfile" 2>/dev/null
    case $pid in ''|*[!0-9]*) pid=; return 1 ;; esac
    return 0
}

# ik_running: the instance's pidfile names a live process of ours.
ik_running() { ik_read_pid && ik_ours "$pid"; }

# ik_pause: wait before polling again: 1 ms for the first 50 polls (most
# waits end there), then 10 ms. Call ik_pause_reset before a new wait.
ik_pause_reset() { ik_polls=0; }
ik_pause() {
    ik_polls=$((ik_polls + 1))
    if [ "$ik_polls" -le 50 ]; then sleep 0.001; else sleep 0.01; fi
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

# ik_listening HOST:PORT: something listens (state 0A) on PORT, any address,
# per /proc/net/tcp{,6}. One grep: a busy host has thousands of sockets.
ik_listening() {
    ik_port=${1##*:}
    case $ik_port in ''|*[!0-9]*) return 1 ;; esac
    ik_hex=$(printf '%04X' "$ik_port")
    grep -Eqs "^ *[0-9]+: [0-9A-F]+:$ik_hex [0-9A-F]+:[0-9A-F]+ 0A " /proc/net/tcp /proc/net/tcp6
}

# ik_strip_quotes VALUE: the value without one pair of surrounding quotes.
ik_strip_quotes() {
    ik_value=$1
    case $ik_value in
        \"*\") ik_value=${ik_value#\"}; ik_value=${ik_value%\"} ;;
        \'*\') ik_value=${ik_value#\'}; ik_value=${ik_value%\'} ;;
    esac
}

# ik_read_settings FILE: KEY=VALUE lines, read as data (never sourced).
ik_read_settings() {
    [ -f "$1" ] || return 0
    while IFS= read -r ik_line || [ -n "$ik_line" ]; do
        case $ik_line in ''|'#'*) continue ;; esac
        ik_key=${ik_line%%=*}
        if [ "$ik_key" = "$ik_line" ]; then
            ik_warn "$1: ignoring a line without '=': $ik_line"
            continue
        fi
        ik_strip_quotes "${ik_line#*=}"
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
    [ -n "$instance" ] && ik_read_settings "$INSTANCE_DIR/$instance"
    ik_dirs
}

# ik_identity: what the daemon is (its resolved executable) and who (uid, group).
ik_identity() {
    exe_real=$(readlink -f -- "$EXECUTABLE") || exe_real=$EXECUTABLE
    run_uid=$(id -u "$RUN_USER" 2>/dev/null) || return 1
    run_group=${RUN_GROUP:-$(id -gn "$RUN_USER")}
}

# ik_as USER CMD...: run CMD as USER with a clean environment.
ik_as() {
    ik_user=$1
    shift
    if [ "$ik_user" = root ]; then
        env -i "PATH=$PATH" "$@"
    else
        env -i "PATH=$PATH" setpriv --reuid="$ik_user" --regid="$(id -g "$ik_user")" --init-groups -- "$@"
    fi
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

# ik_private_dir PATH: a root-owned directory for pidfiles and console logs.
ik_private_dir() {
    if [ -L "$1" ]; then
        ik_err "$1 is a symlink; refusing to use it"
        return 1
    fi
    [ -d "$1" ] || mkdir -p -- "$1"
}

# ik_check_quiet: run the config test; its output in $check_output.
ik_check_quiet() {
    check_output=$(ik_check 2>&1)
}

ik_report_check() {
    ik_err "$label: config test failed; nothing was changed:"
    printf '%s\n' "$check_output" | sed 's/^/    /' >&2
}

ik_hook() { # DESCRIPTION run|poll TIMEOUT INTERVAL USER CMD...
    ik_hdesc=$1 ik_hkind=$2 ik_htimeout=$3 ik_hinterval=$4 ik_huser=$5
    shift 5
    ik_say "$label: before stop: $ik_hdesc (at most ${ik_htimeout}s)"
    printf '%s initkit: before stop: %s\n' "$(date '+%Y-%m-%dT%H:%M:%S')" "$ik_hdesc" >>"$console_log"
    if [ "$ik_hkind" = poll ]; then
        timeout -k 2 "$ik_htimeout" sh -c 'i=$1; shift; until "$@"; do sleep "$i"; done' initkit-poll "$ik_hinterval" \
            env -i "PATH=$PATH" setpriv --reuid="$ik_huser" --regid="$(id -g "$ik_huser")" --init-groups -- "$@" >>"$console_log" 2>&1
    else
        timeout -k 2 "$ik_htimeout" \
            env -i "PATH=$PATH" setpriv --reuid="$ik_huser" --regid="$(id -g "$ik_huser")" --init-groups -- "$@" >>"$console_log" 2>&1
    fi
    ik_hrc=$?
    if [ "$ik_hrc" -ne 0 ]; then
        ik_warn "$label: before-stop step '$ik_hdesc' did not succeed (exit $ik_hrc); stopping anyway"
    fi
    return 0
}

# ik_wait_ready PID: 0 once the process runs our executable and is ready,
# 1 if it died, 2 if the readiness budget ran out.
ik_wait_ready() {
    ik_now
    ik_ready_deadline=$((now + READY_TIMEOUT_MS))
    ik_pause_reset
    while :; do
        ik_alive "$1" || return 1
        if ik_ours "$1" && ik_ready; then return 0; fi
        ik_now
        [ "$now" -ge "$ik_ready_deadline" ] && return 2
        ik_pause
    done
}

ik_show_log_tail() {
    [ -f "$console_log" ] || return 0
    ik_err "$label: the last lines of $console_log:"
    tail -n 5 "$console_log" | sed 's/^/    /' >&2
}

