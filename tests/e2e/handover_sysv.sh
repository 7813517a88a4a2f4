# shellcheck shell=bash
# Handover restarts under SysV, sourced by sysv.sh: nginx (a new master, USR2
# then QUIT) and haproxy (-W: the master runs itself again, USR2) keep
# answering an HTTP load while they restart, through the installed script and
# through `initkit restart`; what is counted is failed requests, which must be
# zero. A handover that cannot come through (the new binary cannot start)
# falls back to a plain restart, which says so. Ports 19890-19899; scratch
# under /tmp/h-handover-sysv.*.

# shellcheck disable=SC2154 # $here, $INITKIT and pid_of are sysv.sh's
HO_RESTARTS=${HO_RESTARTS:-10}
HO=$(mktemp -d /tmp/h-handover-sysv.XXXXXX)
chmod 755 "$HO"
E2E_ROOTS+=("$HO")
HO_LOAD_PID=

# ho_load_start PORT: an HTTP load on PORT in the background (tests/e2e/http_load.py).
ho_load_start() {
    rm -f "$HO/stop"
    python3 "$here/http_load.py" "$1" "$HO/stop" 2 >"$HO/load.out" 2>&1 &
    HO_LOAD_PID=$!
    E2E_EXTRA_PIDS+=("$HO_LOAD_PID")
    # It has begun once it has counted a request or two.
    sleep 0.3
}

# ho_load_stop: end the load; its counts in $HO_REQUESTS, $HO_FAILED and $HO_LOAD.
ho_load_stop() {
    touch "$HO/stop"
    wait "$HO_LOAD_PID"
    HO_LOAD=$(cat "$HO/load.out")
    HO_REQUESTS=$(sed -n 's/^requests=\([0-9]*\) .*/\1/p' "$HO/load.out")
    HO_FAILED=$(sed -n 's/.* failed=\([0-9]*\) .*/\1/p' "$HO/load.out")
    echo "        load: $(head -1 "$HO/load.out")"
}

# ho_no_failures WHAT: the load ran, and not one request failed.
ho_no_failures() {
    if [ "${HO_REQUESTS:-0}" -gt 0 ] && [ "${HO_FAILED:-x}" = 0 ]; then
        pass "$1: $HO_REQUESTS requests, 0 failed"
    else
        fail "$1: $HO_REQUESTS requests, ${HO_FAILED:-?} failed" "$HO_LOAD"
    fi
}

# ho_restarts N WANT COMMAND...: run COMMAND N times; each must exit 0 and say
# WANT; the main PIDs seen after each, in $HO_PIDS.
ho_restarts() {
    local n=$1 want=$2 i ok=0 out
    shift 2
    HO_PIDS=()
    for ((i = 0; i < n; i++)); do
        out=$("$@" 2>&1) && grep -q -- "$want" <<<"$out" && ok=$((ok + 1))
        [ "$ok" = $((i + 1)) ] || { echo "        restart $((i + 1)): $out"; }
        HO_PIDS+=("$(ho_main_pid)")
    done
    if [ "$ok" = "$n" ]; then pass "$n restarts, each '$want'"; else fail "$n restarts, each '$want'" "only $ok did"; fi
}

# ho_distinct: every PID in $HO_PIDS differs from the one before it, and from $HO_FIRST.
ho_distinct() {
    local prev=$HO_FIRST p
    for p in "${HO_PIDS[@]}"; do
        [ -n "$p" ] && [ "$p" != "$prev" ] || return 1
        prev=$p
    done
}

# ho_same: every PID in $HO_PIDS is $HO_FIRST.
ho_same() {
    local p
    for p in "${HO_PIDS[@]}"; do [ "$p" = "$HO_FIRST" ] || return 1; done
}

# ho_members N PGID: N live processes (zombies left out: PID 1 reaps late) in group PGID.
# shellcheck disable=SC2009 # pgrep cannot tell a zombie; ps's state can
ho_members() { [ "$(ps -o stat= -g "$2" | grep -vc '^Z')" = "$1" ]; }

# ho_workers PID: the children of PID, sorted, on one line.
ho_workers() { pgrep -P "$1" | sort | tr '\n' ' '; }

ho_nginx_conf() {
    mkdir -p "$1/tmp"
    cat >"$1/nginx.conf" <<NGINX
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $1/tmp/body;
    proxy_temp_path $1/tmp/proxy;
    fastcgi_temp_path $1/tmp/fastcgi;
    uwsgi_temp_path $1/tmp/uwsgi;
    scgi_temp_path $1/tmp/scgi;
    server { listen 127.0.0.1:$2; location / { return 200 "hello\n"; } }
}
NGINX
}

ho_haproxy_conf() {
    cat >"$1/haproxy.cfg" <<HAPROXY
global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:$2
    http-request return status 200 content-type text/plain string "hello"
HAPROXY
}

echo "== handover: nginx keeps answering through $HO_RESTARTS restarts by its script"
R=$HO/n
mkdir -p "$R/srv" "$R/etc/default"
"$INITKIT" render nginx --target sysv --prefix "$R" --out / >/dev/null
ho_nginx_conf "$R/srv" 19890
printf 'config=%s\nport=19890\n' "$R/srv/nginx.conf" >"$R/etc/default/nginx"
S=$R/etc/init.d/nginx
ho_main_pid() { pid_of "$R" nginx nginx; }
expect_rc "nginx: start" 0 "$S" start
HO_FIRST=$(ho_main_pid)
ho_load_start 19890
ho_restarts "$HO_RESTARTS" "restarted with a handover: new main process" "$S" restart
ho_load_stop
ho_no_failures "nginx: restarts by handover under load"
check "nginx: every restart made a new master" ho_distinct
check "nginx: the first master is gone" gone "$HO_FIRST"
check "nginx: one master and its worker left, in the first master's group" \
    wait_until 5 ho_members 2 "$HO_FIRST"
printf 'this is not nginx config;\n' >>"$R/srv/nginx.conf"
last=$(ho_main_pid)
expect_rc "nginx: a restart with a broken config refuses the handover" 6 "$S" restart
check "nginx: the master still serves, untouched" test "$(ho_main_pid)" = "$last" -a "$(body 19890)" = hello
check "nginx: no second master was started" test "$(pgrep -P "$last" | wc -l)" = 1
sed -i '/this is not nginx config/d' "$R/srv/nginx.conf"
expect_rc "nginx: stop after handovers" 0 "$S" stop
check "nginx: nothing of it is left" wait_until 5 bash -c "! pgrep -g $HO_FIRST"

echo "== handover: haproxy keeps answering through $HO_RESTARTS restarts by its script"
R=$HO/h
mkdir -p "$R/srv" "$R/etc/default"
"$INITKIT" render haproxy --target sysv --prefix "$R" --out / >/dev/null
ho_haproxy_conf "$R/srv" 19891
printf 'config=%s\n' "$R/srv/haproxy.cfg" >"$R/etc/default/haproxy"
S=$R/etc/init.d/haproxy
ho_main_pid() { pid_of "$R" haproxy haproxy; }
expect_rc "haproxy: start" 0 "$S" start
HO_FIRST=$(ho_main_pid)
check "haproxy: a worker runs" wait_until 5 test -n "$(ho_workers "$HO_FIRST")"
workers=$(ho_workers "$HO_FIRST")
ho_load_start 19891
ho_restarts "$HO_RESTARTS" "restarted with a handover: new workers" "$S" restart
ho_load_stop
ho_no_failures "haproxy: restarts by handover under load"
check "haproxy: the master stayed (it ran itself again)" ho_same
check "haproxy: its workers are new" test "$(ho_workers "$HO_FIRST")" != "$workers"
printf 'bogus_keyword here\n' >>"$R/srv/haproxy.cfg"
workers=$(ho_workers "$HO_FIRST")
expect_rc "haproxy: a restart with a broken config refuses the handover" 6 "$S" restart
check "haproxy: the same workers serve" test "$(ho_workers "$HO_FIRST")" = "$workers" -a "$(body 19891)" = hello
sed -i '/bogus_keyword/d' "$R/srv/haproxy.cfg"
expect_rc "haproxy: stop after handovers" 0 "$S" stop
check "haproxy: nothing of it is left" wait_until 5 bash -c "! pgrep -g $HO_FIRST"

# ho_install NAME: a copy of the catalogue's NAME as ikho-NAME, started
# through $HO/bin/NAME (a link to the real binary, which a test replaces),
# its directories its own; installed on the host, started, by `initkit install`.
ho_install() {
    local name=$1 dir=$HO/$1
    mkdir -p "$dir" "$HO/bin"
    ln -sfn "/usr/sbin/$name" "$HO/bin/$name"
    python3 - "$here/../../recipes/$name.toml" "$HO/ikho-$name.toml" "$HO/bin/$name" <<'PY'
import re, sys
src, dst, binary = sys.argv[1:]
text = open(src).read()
text = re.sub(r'^name = "(.*)"', r'name = "ikho-\1"', text, count=1, flags=re.M)
# The daemon itself through the link; the config test stays the real binary's.
text = re.sub(r'^(\[run\]\n(?:#.*\n)*command = \[)"/usr/sbin/[a-z]+"', lambda m: m.group(1) + '"' + binary + '"', text, count=1, flags=re.M)
text = re.sub(r'^(runtime|state|logs) = "(nginx|haproxy)"', r'\1 = "ikho-\2"', text, flags=re.M)
open(dst, "w").write(text)
PY
}

# ho_uninstall NAME: whatever a failed test left installed, and the lock the script kept.
ho_uninstall() { "$INITKIT" uninstall "ikho-$1" --force --purge >/dev/null 2>&1; rm -rf -- "/run/initkit/ikho-$1"; }

# ho_fail_once NAME: the next start of $HO/bin/NAME exits 1, and puts the link back.
ho_fail_once() {
    rm -f "$HO/bin/$1"
    # shellcheck disable=SC2016 # the script's own $0
    printf '#!/bin/sh\nln -sfn /usr/sbin/%s "$0"\nexit 1\n' "$1" >"$HO/bin/$1"
    chmod 755 "$HO/bin/$1"
}

echo "== handover: initkit restart of nginx under SysV, then a new binary that cannot start"
ho_install nginx
ho_nginx_conf "$HO/nginx" 19892
expect_rc "install ikho-nginx --start" 0 "$INITKIT" install "$HO/ikho-nginx.toml" --target sysv \
    --set "config=$HO/nginx/nginx.conf" --set port=19892 --start --force
ho_main_pid() { read -r p _ </run/initkit/ikho-nginx/ikho-nginx.pid 2>/dev/null && printf %s "$p"; }
HO_FIRST=$(ho_main_pid)
ho_load_start 19892
ho_restarts 3 "restarted with a handover: new main process" "$INITKIT" restart ikho-nginx
ho_load_stop
ho_no_failures "nginx: initkit restart by handover under load"
check "nginx: each initkit restart made a new master" ho_distinct
HO_FIRST=$(ho_main_pid)
ho_fail_once nginx
expect_rc "nginx: initkit restart when the new binary cannot start" 0 "$INITKIT" restart ikho-nginx
check "nginx: it says the handover did not come through" grep -q "the handover did not come through" <<<"$OUT"
check "nginx: and that it restarted plainly" grep -q "restarted plainly" <<<"$OUT"
check "nginx: a new master after the plain restart" test "$(ho_main_pid)" != "$HO_FIRST"
check "nginx: the old master is gone" gone "$HO_FIRST"
check "nginx: it serves after the fallback" test "$(body 19892)" = hello
HO_FIRST=$(ho_main_pid)
expect_rc "nginx: initkit restart by handover again" 0 "$INITKIT" restart ikho-nginx
check "nginx: ... with a handover" grep -q "restarted with a handover" <<<"$OUT"
expect_rc "uninstall ikho-nginx" 0 "$INITKIT" uninstall ikho-nginx --purge
check "nginx: nothing of it is left" wait_until 5 bash -c "! pgrep -g $HO_FIRST"

echo "== handover: initkit restart of haproxy under SysV, then a master that cannot run itself again"
ho_install haproxy
mkdir -p "$HO/haproxy"
ho_haproxy_conf "$HO/haproxy" 19893
expect_rc "install ikho-haproxy --start" 0 "$INITKIT" install "$HO/ikho-haproxy.toml" --target sysv \
    --set "config=$HO/haproxy/haproxy.cfg" --start --force
ho_main_pid() { read -r p _ </run/initkit/ikho-haproxy/ikho-haproxy.pid 2>/dev/null && printf %s "$p"; }
HO_FIRST=$(ho_main_pid)
ho_load_start 19893
ho_restarts 3 "restarted with a handover: new workers" "$INITKIT" restart ikho-haproxy
ho_load_stop
ho_no_failures "haproxy: initkit restart by handover under load"
check "haproxy: the master stayed through initkit restart" ho_same
ho_fail_once haproxy
expect_rc "haproxy: initkit restart when the master cannot run itself again" 0 "$INITKIT" restart ikho-haproxy
check "haproxy: it says the handover did not come through" grep -q "the handover did not come through" <<<"$OUT"
check "haproxy: and that it restarted plainly" grep -q "restarted plainly" <<<"$OUT"
check "haproxy: a new master after the plain restart" test "$(ho_main_pid)" != "$HO_FIRST"
# shellcheck disable=SC2016 # the child shell's own expansion
check "haproxy: it serves after the fallback" wait_until 5 bash -c '[ "$(curl -fsS --max-time 1 http://127.0.0.1:19893/)" = hello ]'
HO_FIRST=$(ho_main_pid)
expect_rc "uninstall ikho-haproxy" 0 "$INITKIT" uninstall ikho-haproxy --purge
check "haproxy: nothing of it is left" wait_until 5 bash -c "! pgrep -g $HO_FIRST"
ho_uninstall nginx
ho_uninstall haproxy
