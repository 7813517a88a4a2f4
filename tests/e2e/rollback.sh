#!/usr/bin/env bash
# Restart and reload that verify and roll back, through the front-end, under
# SysV on this host: nginx with a config that passes `nginx -t` but cannot
# start (a `listen` on a port another process holds), and a Python app of
# one's own whose new environment makes it crash at start. Each is reported
# with the readiness error and its log's last lines; `--rollback` puts the
# last known good config back, restarts, and the service serves again;
# `history` lists the configs with what changed.
# Usage: tests/e2e/rollback.sh [PATH-TO-INITKIT]   (as root)
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the inner bash
# proves on SysV: nginx
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
INITKIT=$(readlink -f "${1:-$here/../../target/release/initkit}")

if [ "$(id -u)" != 0 ]; then echo "the rollback end-to-end suite needs root"; exit 1; fi
if [ -d /run/systemd/system ]; then echo "/run/systemd/system exists: refusing to run SysV tests here"; exit 1; fi
for tool in python3 curl nginx; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: .ci/run installs it"; exit 1; }
done
[ -f /var/lib/initkit/installed/nginx.json ] && { echo "initkit's nginx is installed on this host: refusing to touch it"; exit 1; }
getent passwd ikrbapp >/dev/null && { echo "the host has a user ikrbapp: refusing to touch it"; exit 1; }

WORK=$(mktemp -d /tmp/initkit-rollback.XXXXXX)
chmod 711 "$WORK"
rollback_cleanup() {
    [ -f /var/lib/initkit/installed/nginx.json ] && "$INITKIT" uninstall nginx --force --purge >/dev/null 2>&1
    [ -f /var/lib/initkit/installed/ikrbapp.json ] && "$INITKIT" uninstall ikrbapp --force --purge >/dev/null 2>&1
    rm -rf -- "$WORK"
    e2e_cleanup
}
trap rollback_cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

serves() { [ "$(curl -s --max-time 2 "http://127.0.0.1:$1/")" = "$2" ]; }

echo "== nginx: a config that passes nginx -t but cannot start"
CONF=$WORK/nginx.conf
write_conf() { # write_conf BODY [EXTRA-LISTEN]
    cat >"$CONF" <<NGINX
worker_processes 1;
pid /run/initkit-rollback-nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 64; }
http { access_log off; server { listen 127.0.0.1:18701; ${2:-} location / { return 200 "$1\n"; } } }
NGINX
}
write_conf v1
# Debian's nginx package owns /etc/init.d/nginx here: --force replaces it and keeps it for uninstall.
expect_rc "install nginx --start" 0 "$INITKIT" install nginx --set "config=$CONF" --set port=18701 --start --force
check "nginx serves v1" wait_until 10 serves 18701 v1
expect_rc "history nginx" 0 "$INITKIT" history nginx
check "a start that came back ready recorded its config, in use now" grep -q "1 known good config" <<<"$OUT"
check "the recorded config names nginx.conf" grep -q "$CONF" <<<"$OUT"

write_conf v2
expect_rc "restart with a changed, good config" 0 "$INITKIT" restart nginx
check "nginx serves v2" wait_until 10 serves 18701 v2
expect_rc "history nginx after the change" 0 "$INITKIT" history nginx
check "two configs are recorded" grep -q "2 known good configs" <<<"$OUT"
check "history shows what changed, as a diff" grep -q '^ *+.*return 200 "v2' <<<"$OUT"
check "and the line it replaced" grep -q '^ *-.*return 200 "v1' <<<"$OUT"

# Another process holds 18702: nginx -t passes, the start cannot bind.
python3 -m http.server 18702 --bind 127.0.0.1 >/dev/null 2>&1 &
HOLDER=$!
E2E_EXTRA_PIDS+=("$HOLDER")
check "a bystander holds port 18702" wait_until 5 port_open 18702
write_conf v3 "listen 127.0.0.1:18702;"
expect_rc "configtest passes the new config" 0 "$INITKIT" configtest nginx
expect_rc "restart without --rollback: not ready (7)" 7 "$INITKIT" restart nginx
check "the error says it did not come back ready" grep -q "nginx: did not come back ready after restart" <<<"$OUT"
check "it shows the log's last lines (nginx's own bind error)" grep -q "still could not bind" <<<"$OUT"
check "it points at --rollback" grep -q "restart --rollback nginx" <<<"$OUT"
check "nginx is down (the config is broken)" bash -c "! curl -s --max-time 1 http://127.0.0.1:18701/"
check "the failed config was not recorded as good" bash -c "'$INITKIT' history nginx | grep -q '2 known good configs'"

started=$(date +%s%N)
expect_rc "restart --rollback: rolled back, still exit 7" 7 "$INITKIT" restart --rollback nginx
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
check "it says what it put back" grep -q "rollback: nginx: put back the config recorded .*$CONF" <<<"$OUT"
check "it says it is ready again" grep -q "rollback: nginx: restarted with it, and it is ready again" <<<"$OUT"
check "nginx serves v2 again" wait_until 10 serves 18701 v2
check "nginx.conf is the last known good one" bash -c "grep -q 'return 200 \"v2' '$CONF' && ! grep -q 18702 '$CONF'"
aside=$(grep -o '/var/lib/initkit/good/nginx/_/replaced-[0-9]*' <<<"$OUT" | head -1)
check "the failed version is kept aside" bash -c "[ -n '$aside' ] && grep -q 18702 '$aside'/*"
check "the failed start is not waited out: rollback took under 20 s (${elapsed_ms} ms)" test "$elapsed_ms" -lt 20000
expect_rc "history after the rollback" 0 "$INITKIT" history nginx
check "the newest record is in use again" grep -Eq '^1 .*\(in use now\)' <<<"$OUT"

echo "== nginx: reload"
write_conf v4
expect_rc "reload with a good change" 0 "$INITKIT" reload nginx
check "nginx serves v4 after reload" wait_until 10 serves 18701 v4
check "a reload that came back ready records its config too" bash -c "'$INITKIT' history nginx | grep -q '3 known good configs'"
expect_rc "uninstall nginx --purge" 0 "$INITKIT" uninstall nginx --purge
check "the known good configs go with --purge" grep -q "/var/lib/initkit/good/nginx (--purge)" <<<"$OUT"
check "nginx is stopped" bash -c "! curl -s --max-time 1 http://127.0.0.1:18701/"
check "Debian's own script is back" bash -c "! grep -q 'Rendered by initkit' /etc/init.d/nginx"
kill "$HOLDER" 2>/dev/null

echo "== an app whose new environment makes it crash at start"
APPDIR=$WORK/rbapp
mkdir -p "$APPDIR"
cat >"$APPDIR/app.py" <<'PY'
#!/usr/bin/env python3
import http.server, os, sys
if os.environ.get("MODE") != "serve":
    print("MODE must be serve, not", repr(os.environ.get("MODE")), flush=True)
    sys.exit(3)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write((os.environ["GREETING"] + "\n").encode())
    def log_message(self, *a): pass
print("rbapp listening on", os.environ["PORT"], flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
PY
printf 'MODE=serve\nGREETING=one\n' >"$APPDIR/env"
chmod 755 "$APPDIR/app.py"
chmod -R a+rX "$APPDIR"
expect_rc "new ikrbapp --env-file env --port 18703" 0 \
    "$INITKIT" new ikrbapp --cwd "$APPDIR" --env-file env --port 18703 --out "$APPDIR/ikrbapp.toml" -- ./app.py
expect_rc "install --create-user --start" 0 "$INITKIT" install "$APPDIR/ikrbapp.toml" --target sysv --create-user --start
check "the app answers one" wait_until 10 serves 18703 one
printf 'MODE=serve\nGREETING=two\n' >"$APPDIR/env"
expect_rc "restart with a good new environment" 0 "$INITKIT" restart ikrbapp
check "the app answers two" wait_until 10 serves 18703 two
printf 'MODE=debug\nGREETING=three\n' >"$APPDIR/env"
expect_rc "restart --rollback with an environment that crashes it" 7 "$INITKIT" restart --rollback ikrbapp
check "the error shows the app's own complaint from its log" grep -q "MODE must be serve" <<<"$OUT"
check "it put the env file back" grep -q "rollback: ikrbapp: put back the config recorded .*$APPDIR/env" <<<"$OUT"
check "and it is ready again" grep -q "ikrbapp: restarted with it, and it is ready again" <<<"$OUT"
check "the app answers two again" wait_until 10 serves 18703 two
check "the env file is the last good one" grep -q GREETING=two "$APPDIR/env"
check "it runs as ikrbapp" bash -c '[ "$(ps -o user= -C python3 | grep -c ikrbapp)" -ge 1 ]'
# When the config is the last known good one, the failure is not the config's.
expect_rc "stop ikrbapp" 0 "$INITKIT" stop ikrbapp
python3 -m http.server 18703 --bind 127.0.0.1 >/dev/null 2>&1 &
HOLDER=$!
E2E_EXTRA_PIDS+=("$HOLDER")
check "a bystander holds port 18703" wait_until 5 port_open 18703
expect_rc "restart --rollback while the port is taken" 7 "$INITKIT" restart --rollback ikrbapp
check "nothing is rolled back: the config is the last known good one" grep -q "config is already its last known good one" <<<"$OUT"
check "the env file is unchanged" grep -q GREETING=two "$APPDIR/env"
kill "$HOLDER" 2>/dev/null
expect_rc "uninstall ikrbapp --purge" 0 "$INITKIT" uninstall ikrbapp --purge
check "the app is gone" bash -c '! pgrep -u ikrbapp >/dev/null 2>&1'
check "its user went with --purge" bash -c '! getent passwd ikrbapp'
check "no known good configs are left" test ! -e /var/lib/initkit/good/ikrbapp

e2e_summary
