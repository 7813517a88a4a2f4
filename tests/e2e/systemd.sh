#!/usr/bin/env bash
# initkit's systemd units under a real systemd as PID 1, in a container
# (systemd-nspawn on an mmdebstrap rootfs), installed with `initkit install
# --root` and driven from inside with `initkit` and systemctl.
# Usage: tests/e2e/systemd.sh [PATH-TO-INITKIT]   (as root)
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the inner bash
# proves on systemd: redis nginx mariadb memcached haproxy
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
INITKIT=$(readlink -f "${1:-$here/../../target/release/initkit}")

[ "$(id -u)" = 0 ] || { echo "the systemd end-to-end suite needs root"; exit 1; }
for tool in mmdebstrap systemd-nspawn nsenter; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: .ci/run installs it"; exit 1; }
done

PACKAGES=systemd,systemd-sysv,dbus,procps,curl,redis-server,nginx-light,mariadb-server,memcached,haproxy,python3
CACHE=/var/tmp/initkit-e2e-rootfs-cache
systemd_cleanup() {
    stop_container
    [ -n "${WORK:-}" ] && rm -rf -- "$WORK"
    # The SysV install on the host, in case a step failed half-way.
    [ -f /var/lib/initkit/installed/redis.json ] && "$INITKIT" uninstall redis --force >/dev/null 2>&1
    [ -f /var/lib/initkit/installed/ikghost.json ] && "$INITKIT" uninstall ikghost --force >/dev/null 2>&1
    getent passwd ikghost >/dev/null && { userdel ikghost; groupdel ikghost; } 2>/dev/null
    [ -f /var/lib/initkit/installed/ikpyapp.json ] && "$INITKIT" uninstall ikpyapp --force --purge >/dev/null 2>&1
    e2e_cleanup
}
trap systemd_cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

prepare_rootfs "$CACHE" "$PACKAGES" systemd

# The file tree as paths, types, modes and link targets, plus the content of /etc.
snapshot() {
    (cd "$R" && find . -path ./proc -prune -o -path ./sys -prune -o -printf '%p %y %m %l\n' | sort
     cd "$R" && find ./etc ./var/lib/initkit -type f -exec md5sum {} + 2>/dev/null | sort)
}

echo "== install and uninstall under --root leave the rootfs exactly as before"
check "detect --root sees systemd in the image" test "$("$INITKIT" detect --root "$R")" = systemd
snapshot >"$WORK/before"
check "install redis@a" "$INITKIT" install redis@a --root "$R" --set port=17001 --enable
check "install redis@b" "$INITKIT" install redis@b --root "$R" --set port=17002 --enable
check "install nginx" "$INITKIT" install nginx --root "$R"
check "install mariadb" "$INITKIT" install mariadb --root "$R"
check "a second identical install changes nothing" grep -q "nothing to do" <<<"$("$INITKIT" install nginx --root "$R")"
cp "$R/etc/systemd/system/nginx.service" "$WORK/nginx.service.orig"
printf '# a manual edit\n' >>"$R/etc/systemd/system/nginx.service"
expect_rc "install over a manual edit refuses" 1 "$INITKIT" install nginx --root "$R"
check "the refusal says --force" grep -q "use --force" <<<"$OUT"
cp "$WORK/nginx.service.orig" "$R/etc/systemd/system/nginx.service"
for name in redis nginx mariadb; do check "uninstall $name" "$INITKIT" uninstall "$name" --root "$R"; done
snapshot >"$WORK/after"
if diff -u "$WORK/before" "$WORK/after" >"$WORK/tree.diff"; then pass "the rootfs is exactly as before"; else fail "the rootfs is exactly as before" "$(head -20 "$WORK/tree.diff")"; fi

echo "== install for the boot"
check "install redis@a and redis@b on their own ports in one command" "$INITKIT" install redis@a redis@b --root "$R" --set a:port=17001 --set b:port=17002 --enable
# The package enabled nginx.service and mariadb.service; ours, in /etc, take their place.
check "install nginx" "$INITKIT" install nginx --root "$R"
check "install mariadb" "$INITKIT" install mariadb --root "$R"
check "systemd-analyze verify in the rootfs" bash -c "SYSTEMD_LOG_LEVEL=err systemd-analyze verify --root='$R' --man=no redis@a.service nginx.service mariadb.service 2>&1 | { ! grep .; }"

echo "== boot systemd as PID 1"
if boot_container "$R" initkit-e2e "$WORK/console.log"; then pass "systemd is running ($(in_ct systemctl is-system-running))"; else
    fail "systemd is running"; e2e_summary; exit 1; fi
in_ct systemctl --failed --no-legend | sed 's/^/        failed unit: /'
ping_ct() { [ "$(in_ct redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; }
main_pid() { in_ct systemctl show -p MainPID --value "$1"; }
# new_main_pid UNIT OLD: UNIT has a main process, and not OLD.
new_main_pid() { local p; p=$(main_pid "$1"); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$2" ]; }
http() { in_ct curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1/; }
serves() { [ "$(http)" = 200 ]; }

echo "== redis: two enabled instances"
check "redis@a is enabled" test "$(in_ct systemctl is-enabled redis@a)" = enabled
check "redis@a answers PING on 17001" wait_until 10 ping_ct 17001
check "redis@b answers PING on 17002" wait_until 10 ping_ct 17002
expect_rc "initkit status redis" 0 in_ct initkit status redis
check "status lists both instances as running" bash -c "[ \$(grep -c ' running ' <<<\"\$1\") = 2 ]" _ "$OUT"
expect_rc "initkit status redis --json" 0 in_ct initkit status redis@a --json
check "the json names the main pid" grep -q "\"pid\": $(main_pid redis@a)" <<<"$OUT"
expect_rc "initkit reload redis (redis has no reload)" 3 in_ct initkit reload redis
expect_rc "initkit start of an unknown instance" 2 in_ct initkit start redis@zzz
old=$(main_pid redis@a)
# Never signal without a real PID: `kill -9 0` would hit this suite's own process group.
case $old in ''|0|*[!0-9]*) fail "redis@a has a main pid" "got '$old'" ;; *) in_ct kill -9 "$old" ;; esac
check "systemd restarts redis@a after kill -9" wait_until 15 new_main_pid redis@a "$old"
check "redis@a answers again" wait_until 10 ping_ct 17001
old=$(main_pid redis@b)
expect_rc "initkit restart redis@b" 0 in_ct initkit restart redis@b
check "redis@b has a new main pid" test "$(main_pid redis@b)" != "$old"

echo "== the operator's commands: overview, disable and enable, every instance at once"
expect_rc "initkit status with no name (everything running)" 0 in_ct initkit status
check "the overview has a row per instance and service" bash -c '[ "$(grep -cE "^(redis@a|redis@b|nginx|mariadb) +systemd +yes +running +[0-9]+ " <<<"$1")" = 4 ]' _ "$OUT"
expect_rc "initkit status --json" 0 in_ct initkit status --json
check "status --json has the keys docs/json.md documents" python3 -c '
import json, sys
rows = json.loads(sys.argv[1])
want = {"service", "instance", "target", "unit", "enabled", "state", "pid", "uptime_seconds", "last_exit", "code"}
assert len(rows) == 4 and all(set(r) == want for r in rows), rows
assert all(r["state"] == "running" and r["pid"] > 1 and r["code"] == 0 for r in rows), rows
' "$OUT"
expect_rc "initkit disable redis@b" 0 in_ct initkit disable redis@b
check "systemctl: redis@b is no longer enabled" test "$(in_ct systemctl is-enabled redis@b)" != enabled
check "systemctl: redis@a is still enabled" test "$(in_ct systemctl is-enabled redis@a)" = enabled
check "redis@b keeps running (disable only changes the boot)" ping_ct 17002
expect_rc "initkit status redis@b" 0 in_ct initkit status redis@b
check "status shows redis@b not enabled" grep -qE "^redis@b +systemd +no +running" <<<"$OUT"
expect_rc "initkit disable nginx (the package enabled its own unit name)" 0 in_ct initkit disable nginx
check "disable says what still enables it" grep -q "still starts at boot through links initkit did not make" <<<"$OUT"
expect_rc "initkit enable redis@b" 0 in_ct initkit enable redis@b
check "systemctl: redis@b is enabled again" test "$(in_ct systemctl is-enabled redis@b)" = enabled
a=$(main_pid redis@a); b=$(main_pid redis@b)
expect_rc "initkit restart redis (every instance)" 0 in_ct initkit restart redis
check "redis@a and redis@b both have new main pids" bash -c '[ "$1" != "$2" ] && [ "$3" != "$4" ] && [ "$2" != 0 ] && [ "$4" != 0 ]' _ "$a" "$(main_pid redis@a)" "$b" "$(main_pid redis@b)"
check "redis@a answers after the restart" wait_until 10 ping_ct 17001
check "redis@b answers after the restart" wait_until 10 ping_ct 17002

echo "== redis: a broken redis.conf is refused by a trial start before systemd stops anything"
a=$(main_pid redis@a); b=$(main_pid redis@b)
in_ct sh -c 'echo "bogus-directive yes" >>/etc/redis/redis.conf'
expect_rc "initkit restart redis@a with a broken config refuses" 6 in_ct initkit restart redis@a
check "the refusal shows redis's own words" grep -q "Bad directive" <<<"$OUT"
expect_rc "initkit restart redis (every instance) refuses" 6 in_ct initkit restart redis
check "redis@a and redis@b kept their main pids" bash -c '[ "$1" = "$2" ] && [ "$3" = "$4" ]' _ "$a" "$(main_pid redis@a)" "$b" "$(main_pid redis@b)"
check "redis@a still answers" ping_ct 17001
check "the trials left nothing in the container's /tmp" test -z "$(in_ct find /tmp -maxdepth 1 -name 'initkit-trial.*')"
in_ct sed -i '/^bogus-directive/d' /etc/redis/redis.conf
expect_rc "initkit restart redis@a with the config repaired" 0 in_ct initkit restart redis@a
check "redis@a has a new main pid" test "$(main_pid redis@a)" != "$a"
check "redis@a answers after the restart" wait_until 10 ping_ct 17001

echo "== memcached: bad options are refused by a trial start"
expect_rc "initkit install memcached@m --start (from inside)" 0 in_ct initkit install memcached@m --set m:port=17004 --start
m=$(main_pid memcached@m)
check "memcached@m runs" bash -c '[ -n "$1" ] && [ "$1" != 0 ]' _ "$m"
expect_rc "initkit install memcached@m with connections=-5 (a setting; nothing restarts)" 0 in_ct initkit install memcached@m --set m:port=17004 --set m:connections=-5
expect_rc "initkit restart memcached@m with bad options refuses" 6 in_ct initkit restart memcached@m
check "the refusal shows memcached's own words" grep -q "Maximum connections" <<<"$OUT"
check "memcached@m kept its main pid" test "$(main_pid memcached@m)" = "$m"
expect_rc "initkit install memcached@m with good options" 0 in_ct initkit install memcached@m --set m:port=17004 --set m:connections=1024
expect_rc "initkit restart memcached@m" 0 in_ct initkit restart memcached@m
check "memcached@m has a new main pid" test "$(main_pid memcached@m)" != "$m"
expect_rc "initkit uninstall memcached" 0 in_ct initkit uninstall memcached

echo "== nginx: a broken config never takes it down"
check "nginx serves" wait_until 10 serves
pid=$(main_pid nginx)
printf 'this is not nginx config;\n' >>"$R/etc/nginx/nginx.conf"
expect_rc "initkit restart nginx with a broken config refuses" 6 in_ct initkit restart nginx
check "the refusal shows nginx's error" grep -q "unknown directive" <<<"$OUT"
check "nginx kept its main pid" test "$(main_pid nginx)" = "$pid"
check "nginx still serves" test "$(http)" = 200
expect_rc "systemctl reload nginx fails in the ExecReload gate" 1 in_ct systemctl reload nginx
check "nginx still active, same pid" test "$(in_ct systemctl is-active nginx) $(main_pid nginx)" = "active $pid"
check "nginx still serves after the refused reload" test "$(http)" = 200
sed -i '/this is not nginx config/d' "$R/etc/nginx/nginx.conf"
expect_rc "initkit reload nginx with the fixed config" 0 in_ct initkit reload nginx
check "nginx kept its main pid across the reload" test "$(main_pid nginx)" = "$pid"

echo "== nginx: a config that passes nginx -t but cannot start, rolled back"
# A bystander in the container holds 18722; a server block that listens on it passes nginx -t.
in_ct systemd-run --quiet --unit initkit-e2e-holder python3 -m http.server 18722 --bind 127.0.0.1
check "a bystander holds port 18722" wait_until 10 in_ct bash -c 'exec 3<>/dev/tcp/127.0.0.1/18722'
cp "$R/etc/nginx/nginx.conf" "$WORK/nginx.conf.good"
sed -i 's|^http {|http {\n    server { listen 127.0.0.1:18722; return 200; }|' "$R/etc/nginx/nginx.conf"
expect_rc "configtest passes the new nginx.conf" 0 in_ct initkit configtest nginx
expect_rc "restart nginx: it does not come back ready (7)" 7 in_ct initkit restart nginx
check "the error says so" grep -q "nginx: did not come back ready after restart" <<<"$OUT"
check "it shows nginx's bind error from the journal" grep -Eq "still could not bind|Address already in use" <<<"$OUT"
expect_rc "restart --rollback nginx" 7 in_ct initkit restart --rollback nginx
check "it put nginx.conf back" grep -q "rollback: nginx: put back the config recorded .*/etc/nginx/nginx.conf" <<<"$OUT"
check "and nginx is ready again" grep -q "rollback: nginx: restarted with it, and it is ready again" <<<"$OUT"
check "nginx serves after the rollback" wait_until 10 serves
check "nginx.conf is the last known good one" cmp -s "$R/etc/nginx/nginx.conf" "$WORK/nginx.conf.good"
expect_rc "initkit history nginx" 0 in_ct initkit history nginx
check "history shows the known good config in use" grep -q "(in use now)" <<<"$OUT"
in_ct systemctl stop initkit-e2e-holder

echo "== mariadb: the pre-flush runs before the stop"
check "mariadb is active" wait_until 60 bash -c "[ \"\$(nsenter -t $L -a systemctl is-active mariadb)\" = active ]"
check "mariadb answers" in_ct mysql -e "CREATE DATABASE t; CREATE TABLE t.x (n INT) ENGINE=InnoDB; INSERT INTO t.x VALUES (1);"
expect_rc "initkit stop mariadb" 0 in_ct initkit stop mariadb
journal=$(in_ct journalctl -u mariadb --no-pager -o cat)
check "the journal shows the pre-flush" grep -q "initkit: before stop: InnoDB pre-flush" <<<"$journal"
check "the journal shows the dirty-page poll" grep -q "initkit: before stop: wait for Innodb_buffer_pool_pages_dirty" <<<"$journal"
check "mariadb shut down cleanly" grep -q "Shutdown complete" <<<"$journal"
check "the pre-flush came before the shutdown" bash -c "awk '/before stop: InnoDB pre-flush/{h=NR} /Shutdown complete/{s=NR} END{exit !(h && s && h<s)}' <<<\"\$1\"" _ "$journal"
expect_rc "initkit status mariadb after stop" 3 in_ct initkit status mariadb
expect_rc "initkit stop redis" 0 in_ct initkit stop redis
expect_rc "initkit status redis after stop" 3 in_ct initkit status redis
check "status: each redis's last process ended with exit 0 (systemd's ExecMainStatus)" bash -c '[ "$(grep -cE "^redis@[ab] .* stopped .* exit 0$" <<<"$1")" = 2 ]' _ "$OUT"
echo "== Debian's own init.d scripts, converted to systemd units, run the real daemons"
# Their names are Debian's, so the catalogue's nginx goes first, and the package's
# own units (started at boot) are stopped: the converted ones replace them.
expect_rc "initkit uninstall nginx (the catalogue's: the converted script takes its name)" 0 in_ct initkit uninstall nginx
check "the package's redis-server and memcached units are stopped" in_ct systemctl stop redis-server.service memcached.service
user_of() { in_ct ps -o user= -p "$1" | tr -d ' '; }
for s in redis-server memcached nginx; do
    expect_rc "initkit install /etc/init.d/$s --start" 0 in_ct initkit install "/etc/init.d/$s" --start
    check "$s: the unit is initkit's, in /etc" grep -q "Rendered by initkit" "$R/etc/systemd/system/$s.service"
    check "$s is active" wait_until 10 bash -c "[ \"\$(nsenter -t $L -a systemctl is-active $s)\" = active ]"
done
check "redis-server answers PING on 6379" wait_until 10 ping_ct 6379
check "redis-server's main process runs as redis" test "$(user_of "$(main_pid redis-server)")" = redis
check "memcached answers on 11211" wait_until 10 bash -c "nsenter -t $L -a bash -c 'exec 3<>/dev/tcp/127.0.0.1/11211 && printf \"version\r\n\" >&3 && timeout 2 head -1 <&3' | grep -q ^VERSION"
check "memcached's daemon runs as memcache" wait_until 5 bash -c "[ \"\$(nsenter -t $L -a ps -o user= -C memcached | sort -u | tr -d ' ')\" = memcache ]"
check "nginx serves on 80" wait_until 10 serves
pid=$(main_pid nginx)
expect_rc "initkit reload nginx (the script's HUP, after its nginx -t)" 0 in_ct initkit reload nginx
check "nginx kept its main pid across the reload" test "$(main_pid nginx)" = "$pid"
printf 'this is not nginx config;\n' >>"$R/etc/nginx/nginx.conf"
expect_rc "initkit restart nginx with a broken config is refused by the script's own test" 6 in_ct initkit restart nginx
check "nginx kept its main pid and still serves" test "$(main_pid nginx) $(http)" = "$pid 200"
sed -i '/this is not nginx config/d' "$R/etc/nginx/nginx.conf"
for s in redis-server memcached nginx; do
    old=$(main_pid "$s")
    expect_rc "initkit restart $s" 0 in_ct initkit restart "$s"
    check "$s has a new main pid" wait_until 10 new_main_pid "$s" "$old"
done
check "redis-server answers after the restart" wait_until 10 ping_ct 6379
check "nginx serves after the restart" wait_until 10 serves
for s in redis-server memcached nginx; do
    expect_rc "initkit uninstall $s (stops it)" 0 in_ct initkit uninstall "$s"
    check "$s's unit is gone from /etc" test ! -e "$R/etc/systemd/system/$s.service"
done
for port in 6379 11211 80; do
    check "nothing listens on $port any more" wait_until 5 bash -c "! nsenter -t $L -a bash -c 'exec 3<>/dev/tcp/127.0.0.1/$port' 2>/dev/null"
done

echo "== an app of one's own: initkit new, then install --create-user, under systemd"
write_env_app "$R/srv/pyapp" "hello from the env file"
expect_rc "initkit new pyapp --cwd /srv/pyapp --env-file env --port 18510 -- ./app.py" 0 \
    in_ct initkit new pyapp --cwd /srv/pyapp --env-file env --port 18510 --out /srv/pyapp/pyapp.toml -- ./app.py
check "new: the user is one named after the app" grep -qx 'user = "pyapp"' "$R/srv/pyapp/pyapp.toml"
expect_rc "initkit install pyapp.toml --create-user --start" 0 in_ct initkit install /srv/pyapp/pyapp.toml --create-user --start
check "install made the system user" grep -q "created the system user pyapp" <<<"$OUT"
check "pyapp answers with its env file's greeting, from its directory" wait_until 10 bash -c "[ \"\$(nsenter -t $L -a curl -s --max-time 2 http://127.0.0.1:18510/)\" = 'hello from the env file from /srv/pyapp' ]"
check "pyapp runs as pyapp" test "$(user_of "$(main_pid pyapp)")" = pyapp
old=$(main_pid pyapp)
case $old in ''|0|*[!0-9]*) fail "pyapp has a main pid" "got '$old'" ;; *) in_ct kill -9 "$old" ;; esac
check "systemd restarts pyapp after kill -9" wait_until 15 new_main_pid pyapp "$old"
check "pyapp answers again" wait_until 10 bash -c "nsenter -t $L -a curl -s --max-time 2 http://127.0.0.1:18510/ | grep -q 'hello from the env file'"
check "the journal has the app's own lines" bash -c "nsenter -t $L -a journalctl -u pyapp --no-pager -o cat | grep -q 'pyapp listening on 18510'"
expect_rc "initkit logs pyapp -n 50 (the journal)" 0 in_ct initkit logs pyapp -n 50
check "logs shows the app's own lines" grep -q "pyapp listening on 18510" <<<"$OUT"
expect_rc "initkit uninstall pyapp (no --purge)" 0 in_ct initkit uninstall pyapp
check "uninstall keeps the user it made and says so" grep -q "kept the system user pyapp initkit made (--purge removes it)" <<<"$OUT"
check "the user pyapp still exists" in_ct getent passwd pyapp
expect_rc "initkit install pyapp.toml again (the user exists: nothing to create)" 0 in_ct initkit install /srv/pyapp/pyapp.toml
expect_rc "initkit uninstall pyapp --purge" 0 in_ct initkit uninstall pyapp --purge
check "the user is kept: this install did not make it" in_ct getent passwd pyapp
in_ct userdel pyapp
expect_rc "initkit install pyapp.toml --create-user" 0 in_ct initkit install /srv/pyapp/pyapp.toml --create-user
expect_rc "initkit uninstall pyapp --purge" 0 in_ct initkit uninstall pyapp --purge
check "uninstall --purge removed the user it made" grep -q "removed  the system user pyapp initkit made (--purge)" <<<"$OUT"
check "no user pyapp is left" bash -c "! nsenter -t $L -a getent passwd pyapp"

echo "== recipe fields under systemd: dependency order, a timer, a socket"
F=$R/root/ikf
mkdir -p "$F"
# The container's /run is its own tmpfs: made and read from inside.
in_ct mkdir -p /run/ikf-fields
order() { in_ct cat /run/ikf-fields/order 2>/dev/null; }
# ikf_recipe NAME LINE [TOML...]: a root task appending LINE to /run/ikf-fields/order.
ikf_recipe() {
    local name=$1 line=$2
    shift 2
    {
        printf 'name = "%s"\nsummary = "field test %s"\n[run]\ntype = "oneshot"\nuser = "root"\n' "$name" "$name"
        printf 'command = ["/bin/sh", "-c", "echo %s >>/run/ikf-fields/order"]\n' "$line"
        printf '%s\n' "$@" '[systemd]' 'write_paths = ["/run/ikf-fields"]'
    } >"$F/$name.toml"
}
ikf_recipe ikf-dep dep 'remain = true' '[depends]' 'requires = ["ikf-base"]' 'after = ["ikf-base"]'
ikf_recipe ikf-base base 'remain = true'
ikf_recipe ikf-tick tick '[schedule]' 'every = "3s"'
printf '%s\n' 'name = "ikf-sock"' 'summary = "answers each connection"' '[run]' \
    'command = ["/bin/echo", "hello from ikf-sock"]' 'user = "nobody"' \
    '[socket]' 'stream = ["127.0.0.1:18501"]' 'accept = true' >"$F/ikf-sock.toml"
for n in ikf-dep ikf-base ikf-tick ikf-sock; do
    expect_rc "initkit install $n" 0 in_ct initkit install "/root/ikf/$n.toml" --enable
done
check "ikf-dep's unit requires and orders after ikf-base" bash -c "grep -qx 'Requires=ikf-base.service' '$R/etc/systemd/system/ikf-dep.service' && grep -q '^After=.*ikf-base.service' '$R/etc/systemd/system/ikf-dep.service'"
expect_rc "systemctl start ikf-dep (only the dependent)" 0 in_ct systemctl start ikf-dep
check "systemd ran ikf-base first, then ikf-dep" test "$(order | tr '\n' ' ')" = "base dep "
check "both remain active" test "$(in_ct systemctl is-active ikf-base ikf-dep | tr '\n' ' ')" = "active active "
expect_rc "systemctl start ikf-tick.timer" 0 in_ct systemctl start ikf-tick.timer
check "the timer ran the task twice within 15 s" wait_until 15 bash -c "[ \"\$(nsenter -t $L -a grep -c tick /run/ikf-fields/order)\" -ge 2 ]"
check "the task is not left running between runs" wait_until 5 bash -c "[ \"\$(nsenter -t $L -a systemctl show -p SubState --value ikf-tick.service)\" = dead ]"
expect_rc "systemctl start ikf-sock.socket" 0 in_ct systemctl start ikf-sock.socket
check "no ikf-sock service is started before a connection" test -z "$(in_ct systemctl list-units --all --no-legend 'ikf-sock@*')"
check "the first connection is answered by the service systemd starts" bash -c "[ \"\$(nsenter -t $L -a bash -c 'exec 3<>/dev/tcp/127.0.0.1/18501 && timeout 2 head -1 <&3')\" = 'hello from ikf-sock' ]"
check "a second connection is answered too" bash -c "[ \"\$(nsenter -t $L -a bash -c 'exec 3<>/dev/tcp/127.0.0.1/18501 && timeout 2 head -1 <&3')\" = 'hello from ikf-sock' ]"
in_ct systemctl stop ikf-tick.timer ikf-sock.socket
for n in ikf-dep ikf-base ikf-tick ikf-sock; do
    expect_rc "initkit uninstall $n" 0 in_ct initkit uninstall "$n" --purge
done
check "no ikf-* unit is left" bash -c "! ls '$R'/etc/systemd/system/ikf-* 2>/dev/null | grep -q ."
in_ct rm -rf /run/ikf-fields

# shellcheck source=handover_systemd.sh
. "$here/handover_systemd.sh" # restarts that hand the sockets over, under an HTTP load
. "$here/systemd_user.sh" # a user's own service, with lingering
stop_container
pass "container stopped"

echo "== security: initkit's units beside Debian's own"
printf '  %-12s %8s %8s %8s\n' unit initkit cap Debian
SEC=$WORK/security; mkdir -p "$SEC"
score() { systemd-analyze security --offline=true "$1" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'; }
for pair in redis:redis-server memcached:memcached nginx:nginx haproxy:haproxy mariadb:mariadb php-fpm:php8.2-fpm postgresql:postgresql@; do
    name=${pair%%:*} debian=${pair#*:}
    "$INITKIT" render "$name" --target systemd --out "$SEC" >/dev/null
    unit=
    for f in "$SEC/etc/systemd/system/$name@.service" "$SEC/etc/systemd/system/$name.service"; do
        [ -f "$f" ] && unit=${f##*/}
    done
    if [ "${unit%@.service}" != "$unit" ]; then cp "$SEC/etc/systemd/system/$unit" "$SEC/${unit%@.service}@e2e.service"; unit=${unit%@.service}@e2e.service; else cp "$SEC/etc/systemd/system/$unit" "$SEC/$unit"; fi
    ours=$(cd "$SEC" && score "./$unit")
    cap=$("$INITKIT" show "$name" --json | sed -n 's/.*"text".*exposure_max = \([0-9.]*\).*/\1/p')
    [ -z "$cap" ] && cap=$(grep -o 'exposure_max = [0-9.]*' "$here/../../recipes/$name.toml" | cut -d' ' -f3)
    theirs=-
    dfile=/lib/systemd/system/$debian.service
    if [ -f "$dfile" ]; then
        d=$dfile
        [ "${debian%@}" != "$debian" ] && { cp "$dfile" "$SEC/${debian}e2e.service"; d=$SEC/${debian}e2e.service; }
        theirs=$(cd "$SEC" && score "$d")
    fi
    printf '  %-12s %8s %8s %8s\n' "$name" "$ours" "$cap" "${theirs:--}"
    check "$name scores at or below its cap" awk -v o="$ours" -v c="$cap" 'BEGIN{exit !(o != "" && o + 0 <= c + 0)}'
done

echo "== SysV on the host: update-rc.d enables, uninstall removes"
if [ -e /etc/init.d/redis ] && [ ! -f /var/lib/initkit/installed/redis.json ]; then
    fail "the host has no /etc/init.d/redis of its own" "refusing to touch it"
else
    ping_host() { [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; }
    host_pid() { read -r p _ <"/run/initkit/redis/$1.pid" && printf %s "$p"; }
    expect_rc "install redis@one and redis@two for sysv in one command, --enable --start" 0 "$INITKIT" install redis@one redis@two --target sysv --set one:port=17051 --set two:port=17052 --enable --start
    check "update-rc.d made the rc links" bash -c 'ls /etc/rc2.d/S*redis && ls /etc/rc0.d/K*redis'
    check "the manifest says update-rc.d registered it" grep -q '"registered_with": "update-rc.d"' /var/lib/initkit/installed/redis.json
    check "redis@one answers on 17051" wait_until 5 ping_host 17051
    check "redis@two answers on 17052" wait_until 5 ping_host 17052
    expect_rc "initkit status (the overview)" 0 "$INITKIT" status
    check "the overview shows both instances enabled and running" bash -c '[ "$(grep -cE "^redis@(one|two) +sysv +yes +running +[0-9]+ " <<<"$1")" = 2 ]' _ "$OUT"
    expect_rc "install redis@three on a port redis@one holds, --start, is refused" 1 "$INITKIT" install redis@three --target sysv --set three:port=17051 --start
    check "the refusal names the port and its holder" grep -q "port 17051 for \`three\` is already in use by PID $(host_pid one) (redis-server)" <<<"$OUT"
    check "nothing was written for redis@three" test ! -e /etc/default/redis.d/three
    expect_rc "initkit disable redis@one (one SysV script serves both) is refused" 1 "$INITKIT" disable redis@one
    expect_rc "initkit disable redis" 0 "$INITKIT" disable redis
    check "update-rc.d removed the rc links" bash -c '! ls /etc/rc?.d/*redis 2>/dev/null | grep -q .'
    check "list --installed says redis is not enabled" grep -q "not enabled" <<<"$("$INITKIT" list --installed)"
    check "redis@one keeps running" ping_host 17051
    expect_rc "initkit enable redis" 0 "$INITKIT" enable redis
    check "update-rc.d made the rc links again" bash -c 'ls /etc/rc2.d/S*redis && ls /etc/rc0.d/K*redis'
    one=$(host_pid one); two=$(host_pid two)
    expect_rc "initkit restart redis (every instance)" 0 "$INITKIT" restart redis
    check "redis@one and redis@two both have new PIDs" bash -c '[ "$1" != "$2" ] && [ "$3" != "$4" ] && [ -n "$2$4" ]' _ "$one" "$(host_pid one)" "$two" "$(host_pid two)"
    check "both answer after the restart" wait_until 5 bash -c "redis-cli -p 17051 ping && redis-cli -p 17052 ping"
    expect_rc "uninstall redis (stops it first)" 0 "$INITKIT" uninstall redis
    check "uninstall names the data it keeps" grep -q "kept  /var/lib/redis/one (data and logs; --purge removes it)" <<<"$OUT"
    check "the rc links are gone" bash -c '! ls /etc/rc?.d/*redis 2>/dev/null | grep -q .'
    check "the script is gone" test ! -e /etc/init.d/redis
    check "redis@one is stopped" wait_until 5 bash -c '! redis-cli -p 17051 ping'
    check "redis@two is stopped" wait_until 5 bash -c '! redis-cli -p 17052 ping'
    rm -rf /var/lib/redis/one /var/lib/redis/two /var/log/initkit/redis
fi

echo "== preconditions on the host: a missing user is refused before anything is written"
GHOST=$WORK/ikghost.toml
printf '%s\n' 'name = "ikghost"' 'summary = "an app whose user does not exist yet"' '[run]' \
    'command = ["/bin/sleep", "1000"]' 'user = "ikghost"' >"$GHOST"
if getent passwd ikghost >/dev/null; then fail "the host has no user ikghost" "refusing to touch it"; else
    expect_rc "install with a missing user is refused" 1 "$INITKIT" install "$GHOST" --target sysv
    check "the refusal names the user and --create-user" grep -q "user \`ikghost\` does not exist.*--create-user" <<<"$OUT"
    check "nothing was written" test ! -e /etc/init.d/ikghost
    expect_rc "install --create-user --start" 0 "$INITKIT" install "$GHOST" --target sysv --create-user --start
    check "the system user was made" bash -c 'getent passwd ikghost | grep -q ":/nonexistent:/usr/sbin/nologin$"'
    check "it runs as that user" wait_until 5 bash -c '[ "$(ps -o user= -C sleep | grep -c ikghost)" -ge 1 ]'
    expect_rc "uninstall --purge" 0 "$INITKIT" uninstall ikghost --purge
    check "it is stopped" wait_until 5 bash -c '! pgrep -u ikghost'
    userdel ikghost 2>/dev/null; groupdel ikghost 2>/dev/null
fi

echo "== an app of one's own under SysV on the host: new, install --create-user, uninstall --purge"
APPDIR=$WORK/pyapp-host
if getent passwd ikpyapp >/dev/null; then fail "the host has no user ikpyapp" "refusing to touch it"; else
    write_env_app "$APPDIR" "hello on the host"
    expect_rc "initkit new ikpyapp --cwd DIR --env-file env --port 18511 -- ./app.py" 0 \
        "$INITKIT" new ikpyapp --cwd "$APPDIR" --env-file env --port 18511 --out "$APPDIR/ikpyapp.toml" -- ./app.py
    chmod 711 "$WORK"
    expect_rc "initkit install --target sysv --create-user --start" 0 "$INITKIT" install "$APPDIR/ikpyapp.toml" --target sysv --create-user --start
    check "ikpyapp answers with its greeting, from its directory" wait_until 10 bash -c "[ \"\$(curl -s --max-time 2 http://127.0.0.1:18511/)\" = 'hello on the host from $APPDIR' ]"
    check "it runs as ikpyapp" wait_until 5 bash -c '[ "$(ps -o user= -C python3 | grep -c ikpyapp)" -ge 1 ]'
    check "logs shows the app's own lines (the script's console log)" wait_until 5 bash -c "'$INITKIT' logs ikpyapp -n 20 | grep -q 'pyapp listening on 18511'"
    expect_rc "uninstall ikpyapp --purge" 0 "$INITKIT" uninstall ikpyapp --purge
    check "it is stopped" wait_until 5 bash -c '! curl -s --max-time 1 http://127.0.0.1:18511/'
    check "uninstall --purge removed the user initkit made" bash -c '! getent passwd ikpyapp'
fi

e2e_summary
