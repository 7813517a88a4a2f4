#!/usr/bin/env bash
# Programs people actually run, under the SysV script on this host: a Python
# app started from its shebang, a sh wrapper that execs it, one run through
# /usr/bin/env, a shell that starts a child and waits (the `npm start`
# shape), one that never becomes ready; and processes that must never be
# taken for the service: a look-alike started by hand, a recycled PID.
# Concurrency: ten parallel starts, then ten parallel stops, of one instance.
# A Procfile of two process types made into two recipes by `new --from`,
# installed on the host with --create-user --start, and uninstalled again.
# Usage: tests/e2e/apps.sh [PATH-TO-INITKIT]   (as root)
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
INITKIT=$(readlink -f "${1:-$here/../../target/release/initkit}")
# The `new --from` block installs on the host itself, as ikfrom-web and
# ikfrom-worker running as the user ikfrom, in /tmp/h-from: whatever of it is
# left goes, the processes by the PIDs their pidfiles name.
FROM_NAMES="ikfrom-web ikfrom-worker"
FROM_DIR=/tmp/h-from
FROM_OWNS_USER=
from_cleanup() {
    local n pidfile pid
    for n in $FROM_NAMES; do
        [ -f "/var/lib/initkit/installed/$n.json" ] && "$INITKIT" uninstall "$n" --force --purge >/dev/null 2>&1
        for pidfile in "/run/initkit/$n"/*.pid; do
            [ -f "$pidfile" ] || continue
            pid=$(cut -d' ' -f1 "$pidfile")
            [ -n "$pid" ] && kill -9 -- "-$pid" "$pid" 2>/dev/null
        done
    done
    [ -n "$FROM_OWNS_USER" ] && getent passwd ikfrom >/dev/null && { userdel ikfrom; groupdel ikfrom; } 2>/dev/null
    rm -rf -- "$FROM_DIR"
}
trap 'from_cleanup; e2e_cleanup' EXIT
trap 'exit 1' INT TERM HUP PIPE

if [ "$(id -u)" != 0 ]; then echo "the apps end-to-end suite needs root"; exit 1; fi
if [ -d /run/systemd/system ]; then echo "/run/systemd/system exists: refusing to run SysV tests here"; exit 1; fi
command -v python3 >/dev/null || { echo "python3 is missing: .ci/run installs it"; exit 1; }

new_root A
mkdir -p "$A/etc/default"
write_app "$A/srv/apps"
# shellcheck disable=SC2016 # "$1" belongs to the wrapper script
printf '#!/bin/sh\nexec /usr/bin/python3 %s/srv/apps/web.py "$1" initkit-e2e-marker\n' "$A" >"$A/srv/apps/wrapper.sh"
chmod 755 "$A/srv/apps/wrapper.sh"

# recipe NAME PORT COMMAND...: an instance `a` of an app recipe, rendered for SysV.
recipe() {
    local name=$1 port=$2
    shift 2
    app_recipe "$A/srv/$name.toml" "$name" "$port" "$@"
    # As instances, to run the instance paths of the script.
    printf '[instances]\n' >>"$A/srv/$name.toml"
    "$INITKIT" render "$A/srv/$name.toml" --target sysv --prefix "$A" --out / >/dev/null
    mkdir -p "$A/etc/default/$name.d"
    : >"$A/etc/default/$name.d/a"
}

# count MARKER: live processes whose command line holds MARKER (this suite's own excluded).
count() { pgrep -f -- "$1" | grep -c -v -x "$$"; }

# scenario NAME PORT MARKER [PROCESSES]: start, status, restart, stop,
# nothing left behind; PROCESSES (1) hold MARKER while it runs.
scenario() {
    local name=$1 port=$2 marker=$3 n=${4:-1} S=$A/etc/init.d/$1 old
    expect_rc "$name: start" 0 "$S" start a
    check "$name: answers" wait_until 5 answers "$port"
    expect_rc "$name: status says running" 0 "$S" status a
    old=$(cut -d' ' -f1 "$A/run/initkit/$name/a.pid")
    expect_rc "$name: restart" 0 "$S" restart a
    check "$name: answers after restart" wait_until 5 answers "$port"
    check "$name: a new process after restart" test "$(cut -d' ' -f1 "$A/run/initkit/$name/a.pid")" != "$old"
    check "$name: the old one is gone" wait_until 5 gone "$old"
    check "$name: $n process(es) run" test "$(count "$marker")" = "$n"
    expect_rc "$name: stop" 0 "$S" stop a
    check "$name: nothing left running" wait_until 5 none_left "$marker"
    expect_rc "$name: status says stopped" 3 "$S" status a
}

echo "== a Python app from its shebang script"
recipe pyshebang 17301 "$A/srv/apps/web.py" "17301" "initkit-e2e-shebang"
scenario pyshebang 17301 initkit-e2e-shebang

echo "== a sh wrapper that execs the app"
recipe wrapper 17302 "$A/srv/apps/wrapper.sh" "17302"
scenario wrapper 17302 "web.py 17302 initkit-e2e-marker"

echo "== a command run through /usr/bin/env"
recipe viaenv 17303 /usr/bin/env python3 "$A/srv/apps/web.py" "17303" "initkit-e2e-env"
scenario viaenv 17303 initkit-e2e-env

echo "== a shell that starts the app and waits for it (the npm start shape)"
recipe npmshape 17304 /bin/sh -c "/usr/bin/python3 $A/srv/apps/web.py 17304 initkit-e2e-npm; echo done" sh
scenario npmshape 17304 initkit-e2e-npm 2

echo "== the main process killed with -9: what it left in its group ends"
recipe orphans 17306 /bin/sh -c "/usr/bin/python3 $A/srv/apps/web.py 17306 initkit-e2e-orphan & wait" sh
S=$A/etc/init.d/orphans
expect_rc "orphans: start" 0 "$S" start a
check "orphans: answers" wait_until 5 answers 17306
kill -9 "$(cut -d' ' -f1 "$A/run/initkit/orphans/a.pid")"
check "orphans: the child survives its parent's kill -9" wait_until 2 answers 17306
expect_rc "orphans: status says dead" 1 "$S" status a
expect_rc "orphans: stop" 0 "$S" stop a
check "orphans: stop says what it ended" grep -q "ending what it left in its process group" <<<"$OUT"
check "orphans: nothing left running" wait_until 5 none_left initkit-e2e-orphan
expect_rc "orphans: start again" 0 "$S" start a
kill -9 "$(cut -d' ' -f1 "$A/run/initkit/orphans/a.pid")"
old=$(pgrep -f initkit-e2e-orphan)
expect_rc "orphans: start over the leftovers of a kill -9" 0 "$S" start a
check "orphans: the leftover child was ended" wait_until 5 gone "$old"
check "orphans: the new one answers" wait_until 5 answers 17306
expect_rc "orphans: stop" 0 "$S" stop a
check "orphans: nothing left running at the end" wait_until 5 none_left initkit-e2e-orphan

echo "== an app that never becomes ready leaves nothing running"
READY=1s recipe neverready 17305 /bin/sh -c "/usr/bin/python3 $A/srv/apps/web.py 17399 initkit-e2e-never; echo done" sh
expect_rc "neverready: start fails" 1 "$A/etc/init.d/neverready" start a
check "neverready: says it was not ready" grep -q "not ready within" <<<"$OUT"
check "neverready: nothing left running" wait_until 5 none_left initkit-e2e-never
expect_rc "neverready: status says stopped" 3 "$A/etc/init.d/neverready" status a

echo "== a look-alike started by hand, and a recycled PID, are never the service"
S=$A/etc/init.d/pyshebang
setpriv --reuid=nobody --regid=nogroup --clear-groups -- /usr/bin/python3 "$A/srv/apps/web.py" 17306 initkit-e2e-lookalike &
stranger=$!
E2E_EXTRA_PIDS+=("$stranger")
check "the look-alike answers" wait_until 5 answers 17306
mkdir -p "$A/run/initkit/pyshebang"
# Same program, same user, the right PID, but not the start time this service recorded.
printf '%s 1\n' "$stranger" >"$A/run/initkit/pyshebang/a.pid"
expect_rc "a pidfile naming the look-alike: status 1 (dead)" 1 "$S" status a
expect_rc "stop with that pidfile" 0 "$S" stop a
check "the look-alike was not signalled" alive "$stranger"
check "the look-alike still answers" answers 17306
# An old-style pidfile (the PID alone) is not trusted either.
printf '%s\n' "$stranger" >"$A/run/initkit/pyshebang/a.pid"
expect_rc "an old-style pidfile: status 1" 1 "$S" status a
expect_rc "start over it starts the service" 0 "$S" start a
check "the service answers beside the look-alike" answers 17301
check "the look-alike is untouched" alive "$stranger"
expect_rc "stop" 0 "$S" stop a
check "the look-alike survives the service's stop" alive "$stranger"
kill "$stranger"

echo "== ten parallel starts, then ten parallel stops, of one instance"
for round in 1 2 3; do
    pids=()
    for _ in $(seq 10); do "$S" start a >/dev/null 2>&1 & pids+=($!); done
    rcs=0; for p in "${pids[@]}"; do wait "$p" || rcs=$((rcs + 1)); done
    check "round $round: every start succeeded" test "$rcs" = 0
    check "round $round: one daemon runs" test "$(count initkit-e2e-shebang)" = 1
    expect_rc "round $round: status says running" 0 "$S" status a
    pids=()
    for _ in $(seq 10); do "$S" stop a >/dev/null 2>&1 & pids+=($!); done
    rcs=0; for p in "${pids[@]}"; do wait "$p" || rcs=$((rcs + 1)); done
    check "round $round: every stop succeeded" test "$rcs" = 0
    check "round $round: no daemon runs" wait_until 5 none_left initkit-e2e-shebang
    expect_rc "round $round: status says stopped" 3 "$S" status a
done

echo "== a planted link where the script writes is refused"
ln -s "$A/victim" "$A/run/initkit/pyshebang/a.pid.new"
expect_rc "start with a planted pidfile temporary" 0 "$S" start a
check "the link's target was not written" test ! -e "$A/victim"
expect_rc "stop" 0 "$S" stop a
rm -f "$A/var/log/initkit/pyshebang/a.log"
ln -s "$A/victim" "$A/var/log/initkit/pyshebang/a.log"
expect_rc "start with a planted console log link is refused" 1 "$S" start a
check "the refusal names the link" grep -q "is a symlink" <<<"$OUT"
check "the link's target was not written" test ! -e "$A/victim"
rm -f "$A/var/log/initkit/pyshebang/a.log"

echo "== a Procfile of two process types: new --from, install --create-user --start, uninstall --purge"
if getent passwd ikfrom >/dev/null; then fail "the host has no user ikfrom" "refusing to touch it"; else
    FROM_OWNS_USER=1
    rm -rf -- "$FROM_DIR"
    mkdir -p "$FROM_DIR/app" "$FROM_DIR/beat"
    chmod 755 "$FROM_DIR" "$FROM_DIR/app"
    # The worker's heartbeat goes where its user may write; the app directory is root's.
    chmod 1777 "$FROM_DIR/beat"
    printf 'ok\n' >"$FROM_DIR/app/index.html"
    cat >"$FROM_DIR/app/worker.sh" <<'SH'
#!/bin/sh
n=0
while :; do n=$((n + 1)); echo "$n" >../beat/heartbeat; sleep 0.1; done
SH
    chmod 755 "$FROM_DIR/app/worker.sh"
    # foreman's ports: web gets --port (19801), the next type 100 more (19901,
    # only a value in the worker's environment: it listens on nothing).
    # shellcheck disable=SC2016 # $PORT is the Procfile's, for the service's shell-free argv
    printf '%s\n' '# two process types' 'web: python3 -m http.server $PORT --bind 127.0.0.1' 'worker: ./worker.sh' >"$FROM_DIR/app/Procfile"
    # PATH without a version manager: the service's user must reach the interpreter.
    expect_rc "new ikfrom --from Procfile --port 19801 --out DIR" 0 \
        env PATH=/usr/bin:/bin "$INITKIT" new ikfrom --from "$FROM_DIR/app/Procfile" --port 19801 --out "$FROM_DIR/recipes"
    check "it wrote one recipe per process type" test "$(ls "$FROM_DIR/recipes")" = "$(printf 'ikfrom-web.toml\nikfrom-worker.toml')"
    check "new says web's port" grep -q "ikfrom-web: PORT=19801 (foreman's port for it); a start waits until it listens there" <<<"$OUT"
    expect_rc "the recipes check clean" 0 "$INITKIT" check "$FROM_DIR/recipes/ikfrom-web.toml" "$FROM_DIR/recipes/ikfrom-worker.toml"
    expect_rc "install ikfrom-web --create-user --start" 0 \
        "$INITKIT" install "$FROM_DIR/recipes/ikfrom-web.toml" --target sysv --create-user --start
    check "install made the user ikfrom" grep -q "created the system user ikfrom" <<<"$OUT"
    expect_rc "install ikfrom-worker --create-user --start" 0 \
        "$INITKIT" install "$FROM_DIR/recipes/ikfrom-worker.toml" --target sysv --create-user --start
    check "web answers HTTP on 19801" wait_until 10 answers 19801
    web_pid=$(cut -d' ' -f1 /run/initkit/ikfrom-web/ikfrom-web.pid 2>/dev/null)
    worker_pid=$(cut -d' ' -f1 /run/initkit/ikfrom-worker/ikfrom-worker.pid 2>/dev/null)
    check "web runs as ikfrom" test "$(ps -o user= -p "${web_pid:-0}")" = ikfrom
    check "the worker runs as ikfrom" test "$(ps -o user= -p "${worker_pid:-0}")" = ikfrom
    check "the worker's heartbeat is written" wait_until 5 test -s "$FROM_DIR/beat/heartbeat"
    beat=$(cat "$FROM_DIR/beat/heartbeat" 2>/dev/null)
    check "the worker's heartbeat advances" wait_until 5 bash -c "[ \"\$(cat '$FROM_DIR/beat/heartbeat')\" -gt '${beat:-0}' ]"
    expect_rc "status ikfrom-web says running" 0 "$INITKIT" status ikfrom-web
    uid=$(id -u ikfrom)
    expect_rc "uninstall ikfrom-web --purge" 0 "$INITKIT" uninstall ikfrom-web --purge
    check "the user stays while the worker runs as it" grep -q "kept the system user ikfrom initkit made: \`ikfrom-worker\` runs as it too" <<<"$OUT"
    check "web is stopped" wait_until 5 bash -c '! curl -s --max-time 1 http://127.0.0.1:19801/'
    check "web's process is gone" wait_until 5 gone "${web_pid:-0}"
    beat=$(cat "$FROM_DIR/beat/heartbeat" 2>/dev/null)
    check "the worker still beats" wait_until 5 bash -c "[ \"\$(cat '$FROM_DIR/beat/heartbeat')\" -gt '${beat:-0}' ]"
    expect_rc "uninstall ikfrom-worker --purge" 0 "$INITKIT" uninstall ikfrom-worker --purge
    check "the last uninstall removed the user initkit made" grep -q "removed  the system user ikfrom initkit made (--purge)" <<<"$OUT"
    check "the worker's process is gone" wait_until 5 gone "${worker_pid:-0}"
    check "nothing runs as ikfrom's uid any more" wait_until 5 bash -c "! pgrep -U '$uid' >/dev/null"
    check "nothing of the app runs" wait_until 5 none_left "$FROM_DIR/app/worker.sh"
    check "the user ikfrom is gone" bash -c '! getent passwd ikfrom'
    check "the group ikfrom is gone" bash -c '! getent group ikfrom'
    check "the scripts are gone" test ! -e /etc/init.d/ikfrom-web -a ! -e /etc/init.d/ikfrom-worker
fi

e2e_summary
