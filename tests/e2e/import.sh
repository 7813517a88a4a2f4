#!/usr/bin/env bash
# Debian's own units and init scripts, imported and converted to SysV
# scripts, driving the real daemons on this host.
# Usage: tests/e2e/import.sh [PATH-TO-INITKIT]   (as root)
# Converted from Debian's files: nginx.service, redis-server.service, /etc/init.d/redis-server;
# and an Upstart job for memcached.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
INITKIT=${1:-$here/../../target/release/initkit}
broken=/etc/nginx/conf.d/initkit-e2e-broken.conf
saved_run_redis=/run/redis.initkit-e2e-saved
had_run_redis=
import_cleanup() {
    rm -f "$broken"
    e2e_cleanup
    # /run/redis as it was before the suite: set aside, or not there.
    case $had_run_redis in
        1) rm -rf /run/redis && mv "$saved_run_redis" /run/redis ;;
        0) rm -rf /run/redis ;;
    esac
}
trap import_cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

if [ "$(id -u)" != 0 ]; then echo "the import end-to-end suite needs root"; exit 1; fi
if [ -d /run/systemd/system ]; then echo "/run/systemd/system exists: refusing to run SysV tests here"; exit 1; fi

# convert ROOT NAME SOURCE: import SOURCE into ROOT/recipes, render it as a SysV script in ROOT.
convert() {
    mkdir -p "$1/recipes"
    "$INITKIT" import "$3" -o "$1/recipes" --force >/dev/null 2>"$1/report" &&
        "$INITKIT" render "$1/recipes/$2.toml" --target sysv --prefix "$1" --out / >/dev/null 2>&1
}
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/"; }
serves() { [ "$(http_code "$1")" = 200 ]; }
master() { cat /run/nginx.pid 2>/dev/null; }
# live NAME: the PIDs of live processes named NAME (a zombie awaits its reaper).
live() { local p; for p in $(pgrep -x "$1"); do gone "$p" || echo "$p"; done; }
none_running() { [ -z "$(live "$1")" ]; }

echo "== nginx: Debian's nginx.service as a SysV script (forking, its pidfile, its stop command)"
new_root N
check "nginx.service imports and renders" convert "$N" nginx /lib/systemd/system/nginx.service
check "its 'nginx -t' became the recipe's config test" grep -q '^\[check\]' "$N/recipes/nginx.toml"
S=$N/etc/init.d/nginx
expect_rc "nginx: start" 0 "$S" start
check "nginx serves on port 80" wait_until 5 serves 80
expect_rc "nginx: status" 0 "$S" status
before=$(master)
expect_rc "nginx: reload" 0 "$S" reload
check "nginx: reload keeps the master" test "$(master)" = "$before"
check "nginx still serves after reload" wait_until 5 serves 80
echo 'this is not nginx;' >"$broken"
expect_rc "nginx: reload with a broken config is refused" 6 "$S" reload
expect_rc "nginx: restart with a broken config is refused" 6 "$S" restart
check "nginx: the refused restart left the master running" test "$(master)" = "$before"
check "nginx still serves with the old config" serves 80
rm -f "$broken"
expect_rc "nginx: restart" 0 "$S" restart
check "nginx: restart made a new master" test "$(master)" != "$before"
check "nginx serves after restart" wait_until 5 serves 80
expect_rc "nginx: stop (its own stop command)" 0 "$S" stop
check "nginx: no nginx process is left" wait_until 5 none_running nginx
expect_rc "nginx: status after stop" 3 "$S" status

echo "== redis: Debian's redis-server.service as a SysV script (sd_notify type, its user, its runtime directory)"
new_root R
check "redis-server.service imports and renders" convert "$R" redis-server /lib/systemd/system/redis-server.service
S=$R/etc/init.d/redis-server
expect_rc "redis: start" 0 "$S" start
check "redis answers PING on 6379" wait_until 5 ping_port 6379
check "redis runs as the user the unit names" test "$(ps -o user= -p "$(live redis-server | head -1)")" = redis
first=$(live redis-server | head -1)
expect_rc "redis: reload is not in the unit" 3 "$S" reload
expect_rc "redis: restart" 0 "$S" restart
check "redis answers after restart" wait_until 5 ping_port 6379
check "redis: restart made a new process" test "$(live redis-server | head -1)" != "$first"
expect_rc "redis: stop" 0 "$S" stop
check "redis: no redis-server is left" wait_until 5 none_running redis-server

echo "== redis: Debian's /etc/init.d/redis-server as a recipe (forking, its pidfile, its /run/redis)"
new_root D
check "the init script imports and renders" convert "$D" redis-server /etc/init.d/redis-server
check "its forking daemon and pidfile were read" grep -q '^pidfile = "/run/redis/redis-server.pid"' "$D/recipes/redis-server.toml"
S=$D/etc/init.d/redis-server
# Rendered into a scratch root, the script makes $D/run/redis; redis writes
# where its config says. Without /run/redis its pidfile never appears.
if [ -e /run/redis ]; then
    mv /run/redis "$saved_run_redis" && had_run_redis=1
else
    had_run_redis=0
fi
expect_rc "redis: a start whose pidfile never appears fails" 1 "$S" start
check "redis: the failed start left no redis-server running" wait_until 5 none_running redis-server
install -d -o redis -g redis -m 755 /run/redis
expect_rc "redis: start" 0 "$S" start
check "redis answers PING on 6379" wait_until 5 ping_port 6379
expect_rc "redis: status" 0 "$S" status
expect_rc "redis: restart" 0 "$S" restart
check "redis answers after restart" wait_until 5 ping_port 6379
expect_rc "redis: stop" 0 "$S" stop
check "redis: no redis-server is left" wait_until 5 none_running redis-server

echo "== memcached: an Upstart job as a SysV script (env as settings, setuid, respawn, kill timeout)"
new_root U
mkdir -p "$U/jobs"
cat >"$U/jobs/memcached-job.conf" <<'JOB'
description "memcached, the way an Upstart host ran it"
start on runlevel [2345]
stop on runlevel [!2345]
respawn
respawn limit 5 10
setuid memcache
kill timeout 10
env PORT=11399
env OPTS="-m 32 -l 127.0.0.1"
exec /usr/bin/memcached -p $PORT $OPTS
JOB
check "the Upstart job imports and renders" convert "$U" memcached-job "$U/jobs/memcached-job.conf"
S=$U/etc/init.d/memcached-job
mc_stats() { printf 'stats\r\nquit\r\n' | timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/11399; cat >&3; cat <&3' 2>/dev/null | grep -q '^STAT pid'; }
expect_rc "memcached: start" 0 "$S" start
check "memcached answers on the job's port" wait_until 5 mc_stats
check "memcached runs as the job's setuid user" test "$(ps -o user= -p "$(live memcached | head -1)")" = memcache
expect_rc "memcached: restart" 0 "$S" restart
check "memcached answers after restart" wait_until 5 mc_stats
expect_rc "memcached: stop" 0 "$S" stop
check "memcached: nothing is left" wait_until 5 none_running memcached

e2e_summary
