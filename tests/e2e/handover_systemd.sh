# shellcheck shell=bash
# Handover restarts under systemd as PID 1, sourced by tests/e2e/systemd.sh
# while the container runs (in_ct, R, pass, fail, check, expect_rc,
# wait_until). haproxy (-W: the master runs itself again) is restarted by
# `initkit restart` with no window: the front-end signals the unit's main
# process and waits for the new worker, under an HTTP load that counts failed
# requests (zero); a handover that does not come through restarts plainly and
# says so. nginx's new master cannot take a unit over: `initkit restart`
# restarts it plainly and says why. Ports 19900-19909; scratch /srv/h-handover
# in the container.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the inner shell
# shellcheck disable=SC2154 # $here, $R, $WORK and main_pid are systemd.sh's

HOS=/srv/h-handover
mkdir -p "$R$HOS/haproxy" "$R$HOS/nginx/tmp" "$R$HOS/bin"
cp "$here/http_load.py" "$R$HOS/http_load.py"
chmod -R a+rX "$R$HOS"

# hos_recipe NAME: the catalogue's NAME as ikho-NAME, its directories its own,
# a 3 s handover budget (a test waits it out once).
hos_recipe() {
    python3 - "$here/../../recipes/$1.toml" "$R$HOS/ikho-$1.toml" <<'PY'
import re, sys
src, dst = sys.argv[1:]
text = open(src).read()
text = re.sub(r'^name = "(.*)"', r'name = "ikho-\1"', text, count=1, flags=re.M)
text = re.sub(r'^(runtime|state|logs) = "(nginx|haproxy)"', r'\1 = "ikho-\2"', text, flags=re.M)
text = re.sub(r'^(\[restart\.handover\]\n(?:.*\n)*?)timeout = "10s"', r'\1timeout = "3s"', text, count=1, flags=re.M)
open(dst, "w").write(text)
PY
}

# hos_load_start PORT / hos_load_stop: an HTTP load inside the container; its
# counts in $HOS_REQUESTS and $HOS_FAILED.
hos_load_start() {
    rm -f "$R$HOS/stop"
    in_ct python3 "$HOS/http_load.py" "$1" "$HOS/stop" 2 >"$WORK/hos-load.out" 2>&1 &
    HOS_LOAD_PID=$!
    E2E_EXTRA_PIDS+=("$HOS_LOAD_PID")
    sleep 0.3
}
hos_load_stop() {
    touch "$R$HOS/stop"
    wait "$HOS_LOAD_PID"
    HOS_REQUESTS=$(sed -n 's/^requests=\([0-9]*\) .*/\1/p' "$WORK/hos-load.out")
    HOS_FAILED=$(sed -n 's/.* failed=\([0-9]*\) .*/\1/p' "$WORK/hos-load.out")
    echo "        load: $(head -1 "$WORK/hos-load.out")"
}
hos_serves() { [ "$(in_ct curl -s --max-time 2 "http://127.0.0.1:$1/")" = hello ]; }
hos_workers() { in_ct pgrep -P "$1" | sort | tr '\n' ' '; }

echo "== handover under systemd: haproxy keeps answering through initkit restart"
cat >"$R$HOS/haproxy/haproxy.cfg" <<HAPROXY
global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:19900
    http-request return status 200 content-type text/plain string "hello"
HAPROXY
chmod 644 "$R$HOS/haproxy/haproxy.cfg"
hos_recipe haproxy
expect_rc "install ikho-haproxy --start" 0 in_ct initkit install "$HOS/ikho-haproxy.toml" \
    --set "config=$HOS/haproxy/haproxy.cfg" --start --force
check "ikho-haproxy serves" wait_until 10 hos_serves 19900
first=$(main_pid ikho-haproxy)
check "a worker runs" wait_until 5 test -n "$(hos_workers "$first")"
workers=$(hos_workers "$first")
hos_load_start 19900
ok=0
for i in 1 2 3 4 5 6 7 8 9 10; do
    out=$(in_ct initkit restart ikho-haproxy 2>&1) && grep -q "restarted with a handover: new workers" <<<"$out" && ok=$((ok + 1))
    [ "$ok" = "$i" ] || echo "        restart $i: $out"
done
hos_load_stop
if [ "$ok" = 10 ]; then pass "10 initkit restarts, each by handover"; else fail "10 initkit restarts, each by handover" "$ok did"; fi
if [ "${HOS_REQUESTS:-0}" -gt 0 ] && [ "${HOS_FAILED:-x}" = 0 ]; then
    pass "haproxy under systemd: $HOS_REQUESTS requests during the restarts, 0 failed"
else
    fail "haproxy under systemd: $HOS_REQUESTS requests during the restarts, ${HOS_FAILED:-?} failed" "$(cat "$WORK/hos-load.out")"
fi
check "the unit kept its main process" test "$(main_pid ikho-haproxy)" = "$first"
check "its workers are new" test "$(hos_workers "$first")" != "$workers"
check "the unit is active" test "$(in_ct systemctl is-active ikho-haproxy)" = active

printf 'bogus_keyword here\n' >>"$R$HOS/haproxy/haproxy.cfg"
workers=$(hos_workers "$first")
expect_rc "initkit restart with a broken config refuses the handover" 6 in_ct initkit restart ikho-haproxy
check "the same workers serve" test "$(hos_workers "$first")" = "$workers"
sed -i '/bogus_keyword/d' "$R$HOS/haproxy/haproxy.cfg"

echo "== handover under systemd: a new config that passes -c but cannot bind"
# A bystander in the container holds 19901: the master's new listeners fail,
# it keeps the old workers (wait mode), no new worker comes; the plain restart
# that follows fails to bind too, and says so.
in_ct python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",19901)); s.listen(); time.sleep(120)' &
bystander=$!
E2E_EXTRA_PIDS+=("$bystander")
wait_until 5 in_ct bash -c '(exec 3<>/dev/tcp/127.0.0.1/19901) 2>/dev/null'
sed -i 's|^    bind 127.0.0.1:19900$|    bind 127.0.0.1:19900\n    bind 127.0.0.1:19901|' "$R$HOS/haproxy/haproxy.cfg"
expect_rc "configtest passes it" 0 in_ct initkit configtest ikho-haproxy
expect_rc "initkit restart: no new worker, then a plain restart that cannot start (7)" 7 in_ct initkit restart ikho-haproxy
check "it says the handover did not come through" grep -q "the handover did not come through (no new worker within 3000ms); restarting plainly" <<<"$OUT"
# The bystander itself, inside: its nsenter then ends with it.
in_ct pkill -KILL -f '^python3 -c import socket,time; s=socket.socket\(\); s.bind\(\("127.0.0.1",19901\)\)'
wait "$bystander" 2>/dev/null
sed -i '/bind 127.0.0.1:19901/d' "$R$HOS/haproxy/haproxy.cfg"
expect_rc "initkit restart once the port is free" 0 in_ct initkit restart ikho-haproxy
check "ikho-haproxy serves again" wait_until 10 hos_serves 19900
expect_rc "uninstall ikho-haproxy" 0 in_ct initkit uninstall ikho-haproxy --purge

echo "== handover under systemd: nginx's new master cannot take a unit over, so a plain restart"
cat >"$R$HOS/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid /run/ikho-nginx.pid;
error_log $HOS/nginx/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $HOS/nginx/tmp/body;
    proxy_temp_path $HOS/nginx/tmp/proxy;
    fastcgi_temp_path $HOS/nginx/tmp/fastcgi;
    uwsgi_temp_path $HOS/nginx/tmp/uwsgi;
    scgi_temp_path $HOS/nginx/tmp/scgi;
    server { listen 127.0.0.1:19902; location / { return 200 "hello\n"; } }
}
NGINX
chmod 644 "$R$HOS/nginx/nginx.conf"
hos_recipe nginx
# Its error log and temp files are in the scratch directory (as recipes/tests/nginx.toml's).
mkdir -p "$R/etc/systemd/system/ikho-nginx.service.d"
printf '[Service]\nReadWritePaths=%s\n' "$HOS/nginx" >"$R/etc/systemd/system/ikho-nginx.service.d/scratch.conf"
expect_rc "install ikho-nginx --start" 0 in_ct initkit install "$HOS/ikho-nginx.toml" \
    --set "config=$HOS/nginx/nginx.conf" --set port=19902 --start --force
check "ikho-nginx serves" wait_until 10 hos_serves 19902
first=$(main_pid ikho-nginx)
hos_load_start 19902
expect_rc "initkit restart ikho-nginx" 0 in_ct initkit restart ikho-nginx
hos_load_stop
check "it says why the restart is plain" grep -q "note: ikho-nginx: a plain restart under systemd: .*PID 1" <<<"$OUT"
check "a new main process" test "$(main_pid ikho-nginx)" != "$first"
echo "        (a plain restart under load: $HOS_FAILED of $HOS_REQUESTS requests failed)"
expect_rc "uninstall ikho-nginx" 0 in_ct initkit uninstall ikho-nginx --purge
rm -rf "$R/etc/systemd/system/ikho-nginx.service.d" "$R$HOS"
