# shellcheck shell=bash
# Shared helpers for the end-to-end suites: counting, polling, cleanup.
# Sourced by tests/e2e/*.sh; bash, run as root.

E2E_PASSED=0
E2E_FAILED=0
E2E_FAILURES=()
E2E_ROOTS=()
# Processes a suite started itself (bystanders, look-alikes), killed on exit.
E2E_EXTRA_PIDS=()

pass() { E2E_PASSED=$((E2E_PASSED + 1)); printf '  ok    %s\n' "$1"; }
fail() { E2E_FAILED=$((E2E_FAILED + 1)); E2E_FAILURES+=("$1"); printf '  FAIL  %s\n' "$1"; [ -n "${2:-}" ] && printf '        %s\n' "$2"; }

# check NAME COMMAND...: pass when the command succeeds.
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi; }

# expect_rc NAME WANT COMMAND...: the command exits WANT; output kept in $OUT.
expect_rc() {
    local name=$1 want=$2; shift 2
    OUT=$("$@" 2>&1); local rc=$?
    if [ "$rc" = "$want" ]; then pass "$name (exit $rc)"; else fail "$name" "exit $rc, wanted $want: $OUT"; fi
}

# wait_until SECONDS COMMAND...: poll every 20 ms.
wait_until() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.02
    done
}

# Probes every suite shares.
# ping_port PORT: a redis answers PING on 127.0.0.1:PORT.
ping_port() { [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; }
# body PORT: what an HTTP GET of / on 127.0.0.1:PORT returns.
body() { curl -fsS --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null; }
# answers PORT: the test app answers "ok".
answers() { [ "$(body "$1")" = ok ]; }
# none_left MARKER: no live process holds MARKER in its command line.
none_left() { ! pgrep -f -- "$1" >/dev/null; }
# hook_before_signal LOG: the pre-stop step (redis's wait for a background
# save) was logged before redis got its stop signal.
hook_before_signal() {
    awk '/initkit: before stop: wait for a background save/{h=NR} /Received SIGTERM|User requested shutdown/{if(!s)s=NR} END{exit !(h && s && h<s)}' "$1"
}

# gone PID: not running, or a zombie (PID 1 here reaps late).
gone() { [ ! -e "/proc/$1/stat" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
alive() { ! gone "$1"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# new_root VAR: a scratch host root for one service in $VAR, recorded for
# cleanup; world-traversable so daemons that drop privileges reach their files.
new_root() {
    local root
    root=$(mktemp -d /tmp/initkit-e2e.XXXXXX)
    chmod 755 "$root"
    E2E_ROOTS+=("$root")
    printf -v "$1" '%s' "$root"
}

# Clean up on any exit, including a signal or a closed output pipe.
e2e_traps() {
    trap e2e_cleanup EXIT
    trap 'exit 1' INT TERM HUP PIPE
}

# render NAME ROOT [FLAVOR]: the SysV script for NAME, inside ROOT.
render() {
    "$INITKIT" render "$1" --target sysv --flavor "${3:-debian}" --prefix "$2" --out / >/dev/null
}

# Stop everything each root's scripts started, then anything their pidfiles
# still name, by PID; remove the roots.
e2e_cleanup() {
    local root script pidfile pid
    for root in "${E2E_ROOTS[@]}"; do
        for script in "$root"/etc/init.d/*; do
            [ -x "$script" ] && "$script" stop >/dev/null 2>&1
        done
        for pidfile in "$root"/run/initkit/*/*.pid; do
            [ -f "$pidfile" ] || continue
            pid=$(cat "$pidfile")
            [ -n "$pid" ] && kill -9 -- "-$pid" "$pid" 2>/dev/null
        done
        rm -rf -- "$root"
    done
    for pid in "${E2E_EXTRA_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
    # Whatever still runs from a scratch root (a failed test may orphan a
    # daemon), by PID; the pattern names only this suite's roots.
    for root in "${E2E_ROOTS[@]}"; do
        for pid in $(pgrep -f -- "$root/" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    done
}

# stop_namespace: end the chroot's PID namespace started as $NS_PID (unshare):
# its PID 1 dies and the kernel kills everything in it; then unmount its /proc.
stop_namespace() {
    [ -n "${NS_PID:-}" ] || return 0
    local init
    init=$(pgrep -P "$NS_PID" | head -1)
    [ -n "$init" ] && kill -KILL "$init" 2>/dev/null
    wait_until 10 gone "$NS_PID" || kill -KILL "$NS_PID" 2>/dev/null
    wait "$NS_PID" 2>/dev/null
    NS_PID=
    [ -n "${R:-}" ] && umount "$R/proc" 2>/dev/null
    return 0
}

# debian_mirror: the host's own Debian mirror, the first active URIs: line
# (deb822) or deb line; the registry CI reaches.
debian_mirror() {
    local m
    m=$(awk '/^URIs:/ && $2 ~ /debian$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null)
    [ -n "$m" ] || m=$(awk '/^deb / && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

# build_rootfs CACHE PACKAGES: a Debian 12 minbase rootfs with PACKAGES in
# CACHE, rebuilt only when the package list changed; 1 (and the log's tail) on failure.
build_rootfs() {
    local cache=$1 packages=$2 log
    [ -f "$cache/.packages" ] && [ "$(cat "$cache/.packages")" = "$packages" ] && return 0
    rm -rf "$cache"
    log=$(mktemp)
    if mmdebstrap --variant=minbase --include="$packages" bookworm "$cache" "$(debian_mirror)" >"$log" 2>&1; then
        printf '%s' "$packages" >"$cache/.packages"
        rm -f "$log"
        return 0
    fi
    tail -20 "$log"
    rm -f "$log"
    return 1
}

# prepare_rootfs CACHE PACKAGES NAME: the cached rootfs (built when needed),
# then a working copy with initkit and an empty /srv in it. Sets WORK and R
# (the copy); ends the suite when the rootfs cannot be built.
prepare_rootfs() {
    echo "== rootfs"
    build_rootfs "$1" "$2" || { fail "rootfs built"; e2e_summary; exit 1; }
    WORK=$(mktemp -d "/var/tmp/initkit-e2e-$3.XXXXXX")
    R=$WORK/root
    cp -a "$1" "$R" && rm -f "$R/.packages"
    install -m 0755 "$INITKIT" "$R/usr/local/bin/initkit"
    mkdir -p "$R/srv"
    pass "rootfs ready ($R)"
}

# prepare_overlay CACHE PACKAGES NAME: as prepare_rootfs, but R is an overlay
# on the cached rootfs (nothing copied; the container's writes go to
# WORK/upper); release_overlay unmounts it. For a large rootfs.
prepare_overlay() {
    echo "== rootfs"
    build_rootfs "$1" "$2" || { fail "rootfs built"; e2e_summary; exit 1; }
    WORK=$(mktemp -d "/var/tmp/initkit-e2e-$3.XXXXXX")
    R=$WORK/root
    mkdir -p "$R" "$WORK/upper" "$WORK/ovl"
    mount -t overlay "initkit-e2e-$3" -o "lowerdir=$1,upperdir=$WORK/upper,workdir=$WORK/ovl" "$R" ||
        { fail "overlay mounted on $1"; e2e_summary; exit 1; }
    OVERLAY=$R
    rm -f "$R/.packages"
    install -m 0755 "$INITKIT" "$R/usr/local/bin/initkit"
    mkdir -p "$R/srv"
    pass "rootfs ready ($R, an overlay on $1)"
}
release_overlay() {
    [ -n "${OVERLAY:-}" ] || return 0
    umount "$OVERLAY" 2>/dev/null || umount -l "$OVERLAY"
    OVERLAY=
}

# The catalogue's rootfs, one for systemd (catalogue_systemd.sh) and runit
# (catalogue_runit.sh): every recipe's daemons, the tools their snippets use
# (ss: iproute2), and both init systems, so that one cached build serves both.
# shellcheck disable=SC2034 # read by the catalogue suites that source this
# suite_initkit HERE ARGS...: the initkit a catalogue suite tests. The first
# argument is it when it is a path (a recipe name holds no `/`): then
# SUITE_SHIFT=1, for the caller to shift it off; else the build's, and
# SUITE_SHIFT=0. Sets initkit (as given) and INITKIT (resolved).
suite_initkit() {
    initkit=$1/../../target/release/initkit SUITE_SHIFT=0
    shift
    if [ $# -gt 0 ] && [ "${1#-}" = "$1" ] && { [ "${1#*/}" != "$1" ] || [ -f "$1" ]; }; then
        initkit=$1 SUITE_SHIFT=1
    fi
    INITKIT=$(readlink -f "$initkit")
}

# shellcheck disable=SC2034 # read by the catalogue suites under systemd and runit
CATALOGUE_CACHE=/var/tmp/initkit-e2e-catalogue-cache
# catalogue_packages E2E_DIR: its package list, comma-separated.
catalogue_packages() {
    local listed
    listed=$(python3 "$1/catalogue.py" --list-packages) || return 1
    printf 'systemd,systemd-sysv,dbus,procps,iproute2,runit,%s\n' "${listed// /,}"
}

# nginx_conf FILE PORT: a small nginx config answering "v1" on 127.0.0.1:PORT,
# with its pid and log where a chroot can write them.
nginx_conf() {
    cat >"$1" <<NGINX
worker_processes 1;
pid /run/nginx-e2e.pid;
error_log /srv/nginx-error.log;
events { worker_connections 64; }
http { access_log off; server { listen 127.0.0.1:$2; location / { return 200 "v1\n"; } } }
NGINX
}

# write_app DIR: an HTTP app (a Python script run from its shebang) under DIR.
write_app() {
    mkdir -p "$1"
    cat >"$1/web.py" <<'PY'
#!/usr/bin/env python3
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok\n")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    chmod 755 "$1/web.py"
    chmod -R a+rX "$1"
}

# write_env_app DIR GREETING: DIR/app.py, an app of one's own started from its
# shebang, answering $GREETING (from its env file DIR/env) on $PORT and
# logging each request to stdout; the directory is root's, readable by all.
write_env_app() {
    mkdir -p "$1"
    cat >"$1/app.py" <<'PY'
#!/usr/bin/env python3
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (os.environ.get("GREETING", "no greeting") + " from " + os.getcwd() + "\n").encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
        print("served", self.path, flush=True)
    def log_message(self, *a): pass
print("pyapp listening on", os.environ["PORT"], flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
PY
    printf 'GREETING=%s\n' "$2" >"$1/env"
    chmod 755 "$1/app.py"
    chmod -R a+rX "$1"
}

# app_recipe FILE NAME PORT COMMAND...: a single-instance recipe running
# COMMAND as nobody, ready when PORT listens (within $READY, 10s by default).
app_recipe() {
    local file=$1 name=$2 port=$3 args="" a
    shift 3
    for a in "$@"; do args="$args\"$a\", "; done
    cat >"$file" <<TOML
name = "$name"
summary = "an app for the identity tests"
[run]
command = [${args%, }]
user = "nobody"
[stop]
timeout = "5s"
[ready]
tcp = "127.0.0.1:$port"
timeout = "${READY:-10s}"
TOML
}

# Containers: systemd as PID 1 under systemd-nspawn (tests/e2e/systemd.sh,
# catalogue_systemd.sh). NSPAWN_PID is nspawn's PID, L the container's PID 1
# as this host sees it; CGROUPS_BEFORE, set by boot_container, are the
# cgroups that existed before, which stop_container leaves alone.
NSPAWN_PID=
L=
cgroup_dirs() { find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d 2>/dev/null | sort; }

# in_ct COMMAND...: run COMMAND inside the container; its exit code passes through.
in_ct() { nsenter -t "$L" -a "$@"; }
container_booted() { local st; st=$(in_ct systemctl is-system-running 2>/dev/null); [ "$st" = running ] || [ "$st" = degraded ]; }

# boot_container ROOT NAME LOG: boot systemd in ROOT (a private network), wait
# until it runs; sets NSPAWN_PID and L. 1 (with the console's tail) when it does not.
# A boot that does not come up (once in CI, nspawn printed nothing in 90 s)
# is reported with what nspawn printed and tried once more.
boot_container() {
    boot_container_once "$@" && return 0
    echo "   the container did not boot: nspawn (pid ${NSPAWN_PID:-none}, leader ${L:-none}) printed:"
    tail -20 "$3" | sed 's/^/     | /'
    stop_container
    echo "   booting it once more"
    boot_container_once "$@" && return 0
    tail -20 "$3"
    return 1
}
boot_container_once() {
    CGROUPS_BEFORE=$(cgroup_dirs)
    systemd-nspawn -D "$1" -b --register=no --keep-unit --console=pipe --private-network -M "$2" >"$3" 2>&1 &
    NSPAWN_PID=$!
    L=
    if wait_until 30 bash -c "[ -n \"\$(pgrep -P $NSPAWN_PID)\" ]"; then L=$(pgrep -P "$NSPAWN_PID" | head -1); fi
    [ -n "$L" ] && wait_until 60 container_booted
}

# stop_container: SIGTERM to nspawn (systemd shuts down), KILL after 20 s;
# then anything the container left in the cgroups it made, by PID, and those
# cgroups, deepest first.
# ct_entered_kill: SIGKILL, by PID, every nsenter into the container ($L).
ct_entered_kill() {
    local pid
    [ -n "${L:-}" ] || return 0
    for pid in $(pgrep -f -- "^nsenter -t $L " 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
}
stop_container() {
    [ -n "$NSPAWN_PID" ] || return 0
    # An nsenter still running into the container would hang for good: the
    # container's systemd stops every process (SIGSTOP) as it shuts down, the
    # nsenter outside stops itself with its child and no one continues it.
    ct_entered_kill
    kill -TERM "$NSPAWN_PID" 2>/dev/null
    wait_until 20 gone "$NSPAWN_PID" || kill -KILL "$NSPAWN_PID" 2>/dev/null
    wait "$NSPAWN_PID" 2>/dev/null
    NSPAWN_PID=
    ct_entered_kill
    local cg pids
    for cg in $(comm -13 <(printf '%s\n' "$CGROUPS_BEFORE") <(cgroup_dirs)); do
        pids=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
        # shellcheck disable=SC2086 # one PID a word, on purpose
        [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    done
    sleep 0.2
    comm -13 <(printf '%s\n' "$CGROUPS_BEFORE") <(cgroup_dirs) |
        while read -r cg; do find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null; done
}

e2e_summary() {
    echo
    if [ "$E2E_FAILED" -gt 0 ]; then
        printf 'failed:\n'; printf '  %s\n' "${E2E_FAILURES[@]}"
    fi
    echo "$E2E_PASSED passed, $E2E_FAILED failed"
    [ "$E2E_FAILED" -eq 0 ]
}
