#!/usr/bin/env bash
# The SysV scripts, run for real on this host with Debian's daemons.
# Usage: tests/e2e/sysv.sh [PATH-TO-INITKIT]   (as root)
# proves on SysV: redis memcached nginx haproxy mariadb
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
INITKIT=${1:-$here/../../target/release/initkit}
e2e_traps

if [ "$(id -u)" != 0 ]; then echo "the SysV end-to-end suite needs root"; exit 1; fi
# lsb init-functions would hand our scripts to systemctl; systemd must not look alive.
if [ -d /run/systemd/system ]; then echo "/run/systemd/system exists: refusing to run SysV tests here"; exit 1; fi

# pid_of ROOT NAME INSTANCE: the PID a pidfile names (the start time follows it).
pid_of() { read -r p _ <"$1/run/initkit/$2/$3.pid" 2>/dev/null && printf %s "$p"; }

echo "== redis: two instances side by side"
new_root R; render redis "$R"
mkdir -p "$R/etc/default/redis.d"
printf 'port=17001\n' >"$R/etc/default/redis.d/a"
printf 'port="17002"\n' >"$R/etc/default/redis.d/b"
S=$R/etc/init.d/redis
expect_rc "redis: start all" 0 "$S" start
check "redis@a answers PING" ping_port 17001
check "redis@b answers PING" ping_port 17002
expect_rc "redis: status a" 0 "$S" status a
expect_rc "redis: status b" 0 "$S" status b
expect_rc "redis: start when running is success" 0 "$S" start a
expect_rc "redis: stop a" 0 "$S" stop a
check "redis@a's port is closed" wait_until 2 bash -c "! redis-cli -p 17001 ping"
expect_rc "redis: status a after stop" 3 "$S" status a
expect_rc "redis: status b still running" 0 "$S" status b
check "redis@b still answers" ping_port 17002
expect_rc "redis: status of all, one stopped" 3 "$S" status
expect_rc "redis: stop when stopped is success" 0 "$S" stop a
expect_rc "redis: reload is not implemented" 3 "$S" reload b
expect_rc "redis: unknown action" 3 "$S" frobnicate
expect_rc "redis: no action" 2 "$S"
expect_rc "redis: unconfigured instance" 6 "$S" start nosuch
expect_rc "redis: status of an unconfigured instance" 4 "$S" status nosuch
expect_rc "redis: unsafe instance name" 2 "$S" start ../../etc

echo "== redis: a daemon killed with -9"
pid=$(pid_of "$R" redis b)
kill -9 "$pid"
check "redis@b is gone after kill -9" wait_until 5 gone "$pid"
expect_rc "redis: status of a killed instance" 1 "$S" status b
expect_rc "redis: start over a stale pidfile" 0 "$S" start b
check "redis@b answers again" ping_port 17002
check "redis@b has a new pid" test "$(pid_of "$R" redis b)" != "$pid"

echo "== redis: a stale pidfile naming an unrelated process"
sleep 300 & bystander=$!
E2E_EXTRA_PIDS+=("$bystander")
printf '%s\n' "$bystander" >"$R/run/initkit/redis/a.pid"
expect_rc "redis: status with a pidfile naming another process" 1 "$S" status a
expect_rc "redis: stop with that pidfile" 0 "$S" stop a
check "the unrelated process was not touched" alive "$bystander"
check "the stale pidfile was removed" test ! -e "$R/run/initkit/redis/a.pid"
expect_rc "redis: status after" 3 "$S" status a
kill "$bystander"
echo "== redis: no config-test mode; a trial start is the gate"
# trials: the trial directories left under the temporary directory.
trials() { find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'initkit-trial.*' | wc -l; }
trials0=$(trials)
mkdir -p "$R/srv"
cp /etc/redis/redis.conf "$R/srv/redis.conf"
chmod 0644 "$R/srv/redis.conf"
printf 'port=17001\nconfig=%s\n' "$R/srv/redis.conf" >"$R/etc/default/redis.d/a"
expect_rc "redis: start a on its own config" 0 "$S" start a
pid=$(pid_of "$R" redis a); pidb=$(pid_of "$R" redis b)
expect_rc "redis: configtest a (a trial start, beside the running one)" 0 "$S" configtest a
check "redis@a kept its pid through the trial" test "$(pid_of "$R" redis a)" = "$pid"
printf 'bogus-directive yes\n' >>"$R/srv/redis.conf"
expect_rc "redis: restart a with a broken config refuses" 6 "$S" restart a
check "redis: the refusal shows redis's own words" grep -q "Bad directive" <<<"$OUT"
check "redis@a: same pid after the refused restart" test "$(pid_of "$R" redis a)" = "$pid"
check "redis@a still answers PING" ping_port 17001
expect_rc "redis: restart of every instance refuses" 6 "$S" restart
check "redis@b untouched by the refused restart" test "$(pid_of "$R" redis b)" = "$pidb"
expect_rc "redis: try-restart refuses too" 6 "$S" try-restart a
check "redis@a: same pid after every refusal" test "$(pid_of "$R" redis a)" = "$pid"
check "the trials left no directory" test "$(trials)" = "$trials0"
check "the trials left no second redis on 17001" test "$(pgrep -c -f 'redis-server .*:17001')" = 1
sed -i '/^bogus-directive/d' "$R/srv/redis.conf"
expect_rc "redis: restart a with the config repaired" 0 "$S" restart a
check "redis@a has a new pid" test "$(pid_of "$R" redis a)" != "$pid"
check "redis@a answers after the restart" ping_port 17001

expect_rc "redis: stop all" 0 "$S" stop
check "redis's hook ran before the signal (console log)" hook_before_signal "$R/var/log/initkit/redis/b.log"

echo "== memcached: two instances, RHEL flavour"
new_root M; render memcached "$M" rhel
mkdir -p "$M/etc/sysconfig/memcached.d"
printf 'port=17011\n' >"$M/etc/sysconfig/memcached.d/one"
printf 'port=17012\nmemory=32\n' >"$M/etc/sysconfig/memcached.d/two"
S=$M/etc/init.d/memcached
expect_rc "memcached: start all" 0 "$S" start
check "memcached@one listens" port_open 17011
check "memcached@two listens" port_open 17012
args_of() { tr '\0' ' ' <"/proc/$1/cmdline"; }
check "memcached@two got its memory setting" grep -q -- ' -m 32 ' <<<"$(args_of "$(pid_of "$M" memcached two)")"
check "the subsys lock exists while running" test -f "$M/var/lock/subsys/memcached"
expect_rc "memcached: status one" 0 "$S" status one
echo "== memcached: bad options are refused by a trial start"
pid=$(pid_of "$M" memcached one)
printf 'port=17011\nconnections=-5\n' >"$M/etc/sysconfig/memcached.d/one"
expect_rc "memcached: restart one with bad options refuses" 6 "$S" restart one
check "memcached: the refusal shows memcached's own words" grep -q "Maximum connections" <<<"$OUT"
check "memcached@one: same pid after the refused restart" test "$(pid_of "$M" memcached one)" = "$pid"
check "memcached@one still listens" port_open 17011
printf 'port=17011\n' >"$M/etc/sysconfig/memcached.d/one"
expect_rc "memcached: restart one with good options" 0 "$S" restart one
check "memcached@one has a new pid" test "$(pid_of "$M" memcached one)" != "$pid"
expect_rc "memcached: stop one" 0 "$S" stop one
expect_rc "memcached: status one after stop" 3 "$S" status one
expect_rc "memcached: status two" 0 "$S" status two
expect_rc "memcached: stop all" 0 "$S" stop
check "the subsys lock is removed by a full stop" test ! -e "$M/var/lock/subsys/memcached"
expect_rc "memcached: status of all, stopped" 3 "$S" status

echo "== nginx: a broken config never takes it down"
new_root N; render nginx "$N"
mkdir -p "$N/srv" "$N/etc/default"
cat >"$N/srv/nginx.conf" <<NGINX
worker_processes 1;
pid $N/srv/nginx.pid;
error_log $N/srv/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $N/srv/tmp;
    server { listen 127.0.0.1:17021; location / { return 200 "v1\n"; } }
}
NGINX
printf 'config=%s\nport=17021\n' "$N/srv/nginx.conf" >"$N/etc/default/nginx"
S=$N/etc/init.d/nginx
expect_rc "nginx: start" 0 "$S" start
check "nginx serves v1" test "$(body 17021)" = v1
pid=$(pid_of "$N" nginx nginx)
expect_rc "nginx: reload when running" 0 "$S" reload
printf 'this is not nginx config;\n' >>"$N/srv/nginx.conf"
expect_rc "nginx: restart with a broken config refuses" 6 "$S" restart
check "nginx: the refusal says why" grep -q "config test failed" <<<"$OUT"
check "nginx: same master after refused restart" test "$(pid_of "$N" nginx nginx)" = "$pid"
check "nginx still serves v1" test "$(body 17021)" = v1
expect_rc "nginx: reload with a broken config refuses" 6 "$S" reload
expect_rc "nginx: configtest reports the failure" 6 "$S" configtest
check "nginx: same master after refused reload" alive "$pid"
check "nginx still serves v1 after refused reload" test "$(body 17021)" = v1
sed -i -e '/this is not nginx config/d' -e 's/v1/v2/' "$N/srv/nginx.conf"
expect_rc "nginx: reload with the fixed config" 0 "$S" reload
check "nginx serves v2 after reload" wait_until 5 bash -c "[ \"\$(curl -fsS --max-time 1 http://127.0.0.1:17021/)\" = v2 ]"
check "nginx: reload kept the master" test "$(pid_of "$N" nginx nginx)" = "$pid"
expect_rc "nginx: restart" 0 "$S" restart
check "nginx: restart made a new master" test "$(pid_of "$N" nginx nginx)" != "$pid"
expect_rc "nginx: stop" 0 "$S" stop
expect_rc "nginx: reload when stopped" 7 "$S" reload

echo "== haproxy: master-worker reloads, a broken config is refused"
new_root H; render haproxy "$H"
mkdir -p "$H/srv" "$H/etc/default"
cat >"$H/srv/haproxy.cfg" <<HAPROXY
global
    maxconn 100
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:17031
    http-request return status 200 content-type text/plain string "v1"
HAPROXY
printf 'config=%s\n' "$H/srv/haproxy.cfg" >"$H/etc/default/haproxy"
S=$H/etc/init.d/haproxy
expect_rc "haproxy: start" 0 "$S" start
check "haproxy serves v1" wait_until 5 bash -c "[ \"\$(curl -fsS --max-time 1 http://127.0.0.1:17031/)\" = v1 ]"
pid=$(pid_of "$H" haproxy haproxy)
printf 'bogus_keyword here\n' >>"$H/srv/haproxy.cfg"
expect_rc "haproxy: restart with a broken config refuses" 6 "$S" restart
expect_rc "haproxy: reload with a broken config refuses" 6 "$S" reload
check "haproxy: same master" test "$(pid_of "$H" haproxy haproxy)" = "$pid"
check "haproxy still serves v1" test "$(body 17031)" = v1
sed -i -e '/bogus_keyword/d' -e 's/"v1"/"v2"/' "$H/srv/haproxy.cfg"
expect_rc "haproxy: reload with the fixed config" 0 "$S" reload
check "haproxy serves v2 after reload" wait_until 5 bash -c "[ \"\$(curl -fsS --max-time 1 http://127.0.0.1:17031/)\" = v2 ]"
check "haproxy: reload kept the master" test "$(pid_of "$H" haproxy haproxy)" = "$pid"
expect_rc "haproxy: stop" 0 "$S" stop
check "haproxy's port is closed" wait_until 5 bash -c "! (exec 3<>/dev/tcp/127.0.0.1/17031) 2>/dev/null"

echo "== mariadb: the pre-flush runs before the stop signal"
new_root D; render mariadb "$D"
mkdir -p "$D/srv/data" "$D/etc/default"
chown mysql:mysql "$D/srv/data"
cat >"$D/srv/my.cnf" <<MYCNF
[client]
socket = $D/run/mysqld/mysqld.sock
[mysqld]
datadir = $D/srv/data
socket = $D/run/mysqld/mysqld.sock
port = 17041
bind-address = 127.0.0.1
innodb_buffer_pool_size = 64M
innodb_log_file_size = 16M
skip-log-bin
MYCNF
printf 'config=%s\n' "$D/srv/my.cnf" >"$D/etc/default/mariadb"
if mariadb-install-db --defaults-file="$D/srv/my.cnf" --user=mysql --skip-test-db --auth-root-authentication-method=socket >"$D/srv/install.log" 2>&1; then
    pass "mariadb: datadir initialised"
else
    fail "mariadb: datadir initialised" "$(tail -5 "$D/srv/install.log")"
fi
S=$D/etc/init.d/mariadb
expect_rc "mariadb: start" 0 "$S" start
check "mariadb answers queries" mysql --defaults-file="$D/srv/my.cnf" -e "CREATE DATABASE t; CREATE TABLE t.x (n INT) ENGINE=InnoDB; INSERT INTO t.x VALUES (1),(2),(3);"
pid=$(pid_of "$D" mariadb mariadb)
printf '[mysqld]\nbogus_option = 1\n' >"$D/srv/bad.cnf"
printf 'config=%s\n' "$D/srv/bad.cnf" >"$D/etc/default/mariadb"
expect_rc "mariadb: restart with a bad option refuses" 6 "$S" restart
printf 'config=%s\n' "$D/srv/my.cnf" >"$D/etc/default/mariadb"
check "mariadb: same server after the refused restart" alive "$pid"
expect_rc "mariadb: stop" 0 "$S" stop
check "mariadb: the pre-flush ran (stop output)" grep -q "before stop: InnoDB pre-flush" <<<"$OUT"
check "mariadb: the pre-flush succeeded" bash -c "! grep -q 'did not succeed' <<<\"\$1\"" _ "$OUT"
check "mariadb: the dirty-page poll ran" grep -q "before stop: wait for Innodb_buffer_pool_pages_dirty" "$D/var/log/initkit/mariadb/mariadb.log"
check "mariadb: the hook ran before the shutdown began" bash -c "awk '/before stop: InnoDB pre-flush/{h=NR} /Normal shutdown|starting shutdown|Shutdown initiated/{if(!s)s=NR} END{exit !(h && s && h<s)}' \"\$1\"" _ "$D/var/log/initkit/mariadb/mariadb.log"
check "mariadb: the server is gone" wait_until 5 gone "$pid"
check "mariadb: shut down cleanly" grep -q "Shutdown complete" "$D/var/log/initkit/mariadb/mariadb.log"

# shellcheck source=handover_sysv.sh
. "$here/handover_sysv.sh" # restarts that hand the sockets over, under an HTTP load

e2e_summary
