#!/usr/bin/env bash
# OpenRC in a chroot (a Debian rootfs with openrc), in private PID and mount
# namespaces with a tmpfs /run holding OpenRC's softlevel and state
# directories (no `openrc sysinit`): redis with two instances through
# rc-service, and nginx whose restart with a broken config the script refuses.
# Usage: tests/e2e/openrc.sh [PATH-TO-INITKIT]   (as root)
# proves on OpenRC: redis nginx
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
INITKIT=$(readlink -f "${1:-$here/../../target/release/initkit}")

[ "$(id -u)" = 0 ] || { echo "the OpenRC end-to-end suite needs root"; exit 1; }
for tool in mmdebstrap unshare nsenter; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: .ci/run installs it"; exit 1; }
done

PACKAGES=openrc,redis-server,nginx-light,procps,curl,util-linux,python3
CACHE=/var/tmp/initkit-e2e-openrc-cache
NS_PID=

orc_cleanup() {
    stop_namespace
    [ -n "${WORK:-}" ] && { umount "$WORK/root/proc" 2>/dev/null; rm -rf -- "$WORK"; }
    e2e_cleanup
}
trap orc_cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

prepare_rootfs "$CACHE" "$PACKAGES" openrc

nginx_conf "$R/srv/nginx.conf" 17423
check "install redis@a" "$INITKIT" install redis@a --target openrc --root "$R" --set port=17421 --enable
check "install redis@b" "$INITKIT" install redis@b --target openrc --root "$R" --set port=17422 --enable
check "the instance links exist" test "$(readlink "$R/etc/init.d/redis.a") $(readlink "$R/etc/init.d/redis.b")" = "redis redis"
check "rc-update's runlevel link exists" test "$(readlink "$R/etc/runlevels/default/redis.a")" = /etc/init.d/redis.a
# --force: /etc/default/nginx is Debian's; it is backed up and restored on uninstall.
check "install nginx" "$INITKIT" install nginx --target openrc --root "$R" --set config=/srv/nginx.conf --set port=17423 --force

# PID 1 of the namespace reaps orphans; OpenRC's state lives on a tmpfs /run.
# The rootfs is bound onto itself first, so that / is a mount point in the
# chroot, as on a real host (a trial start's mount namespace needs one).
# shellcheck disable=SC2016 # the script runs inside the namespace
unshare --pid --mount --fork sh -c 'mount --bind "$1" "$1" && mount -t proc proc "$1/proc" && exec chroot "$1" sh -c "$2"' initkit "$R" '
    mount -t tmpfs tmpfs /run
    for d in started starting stopping inactive wasinactive failed exclusive daemons options scheduled tmp; do
        mkdir -p /run/openrc/$d
    done
    touch /run/openrc/softlevel
    while :; do wait; sleep 0.2; done' >"$WORK/ns.out" 2>&1 &
NS_PID=$!
in_ns() { nsenter -t "$(pgrep -P "$NS_PID" | head -1)" -p -m -r -w "$@"; }
check "the namespace is up" wait_until 10 bash -c "[ -n \"\$(pgrep -P $NS_PID)\" ] && nsenter -t \$(pgrep -P $NS_PID | head -1) -p -m -r -w test -f /run/openrc/softlevel"

echo "== redis: two instances through rc-service"
expect_rc "rc-service redis.a start" 0 in_ns rc-service redis.a start
expect_rc "rc-service redis.b start" 0 in_ns rc-service redis.b start
check "redis.a answers" ping_port 17421
check "redis.b answers" ping_port 17422
expect_rc "rc-service redis.a status" 0 in_ns rc-service redis.a status
expect_rc "initkit status redis" 0 in_ns initkit status redis
expect_rc "rc-service redis.a stop" 0 in_ns rc-service redis.a stop
check "the pre-stop hook ran in stop_pre" grep -q "before stop: wait for a background save" <<<"$OUT"
expect_rc "initkit status redis@a after stop" 3 in_ns initkit status redis@a
expect_rc "initkit status redis (one stopped)" 3 in_ns initkit status redis
check "redis.b still answers" ping_port 17422
expect_rc "initkit restart redis@b" 0 in_ns initkit restart redis@b
check "redis.b answers after restart" wait_until 10 ping_port 17422

echo "== redis: the script's trial start refuses a broken redis.conf"
pid=$(in_ns cut -d" " -f1 /run/initkit/redis/b.pid)
in_ns sh -c 'echo "bogus-directive yes" >>/etc/redis/redis.conf'
expect_rc "rc-service redis.b restart with a broken config fails" 1 in_ns rc-service redis.b restart
check "the refusal shows redis's own words" grep -q "Bad directive" <<<"$OUT"
check "redis.b: same pid after the refused restart" test "$(in_ns cut -d" " -f1 /run/initkit/redis/b.pid)" = "$pid"
check "redis.b still answers" ping_port 17422
in_ns sed -i '/^bogus-directive/d' /etc/redis/redis.conf
expect_rc "rc-service redis.b restart with the config repaired" 0 in_ns rc-service redis.b restart
check "redis.b has a new pid" test "$(in_ns cut -d" " -f1 /run/initkit/redis/b.pid)" != "$pid"

echo "== nginx: the script refuses a restart with a broken config"
http() { body 17423; }
expect_rc "rc-service nginx start" 0 in_ns rc-service nginx start
check "nginx serves v1" test "$(http)" = v1
pid=$(in_ns cut -d" " -f1 /run/initkit/nginx/nginx.pid)
printf 'this is not nginx config;\n' >>"$R/srv/nginx.conf"
expect_rc "rc-service nginx restart with a broken config fails" 1 in_ns rc-service nginx restart
check "the refusal says why" grep -q "config test failed" <<<"$OUT"
check "nginx kept its master" test "$(in_ns cut -d" " -f1 /run/initkit/nginx/nginx.pid)" = "$pid"
check "nginx still serves v1" test "$(http)" = v1
expect_rc "rc-service nginx reload with a broken config fails" 1 in_ns rc-service nginx reload
check "the reload refusal says why" grep -q "config test failed" <<<"$OUT"
expect_rc "initkit restart nginx refuses too" 6 in_ns initkit restart nginx
check "nginx still serves v1 after both" test "$(http)" = v1
sed -i -e '/this is not nginx config/d' -e 's/v1/v2/' "$R/srv/nginx.conf"
expect_rc "rc-service nginx reload with the fixed config" 0 in_ns rc-service nginx reload
# shellcheck disable=SC2016 # expanded by the inner bash
check "nginx serves v2" wait_until 10 bash -c '[ "$(curl -s --max-time 1 http://127.0.0.1:17423/)" = v2 ]'
expect_rc "rc-service nginx restart with the fixed config" 0 in_ns rc-service nginx restart
check "nginx has a new master" test "$(in_ns cut -d" " -f1 /run/initkit/nginx/nginx.pid)" != "$pid"

echo "== apps: a shebang script and a shell that waits on its child, through rc-service"
write_app "$R/srv/apps"
app_recipe "$R/srv/pyapp.toml" pyapp 17431 /srv/apps/web.py 17431 initkit-e2e-openrc-py
app_recipe "$R/srv/shapp.toml" shapp 17432 /bin/sh -c "/usr/bin/python3 /srv/apps/web.py 17432 initkit-e2e-openrc-sh; echo done" sh
READY=1s app_recipe "$R/srv/lateapp.toml" lateapp 17433 /bin/sh -c "/usr/bin/python3 /srv/apps/web.py 17439 initkit-e2e-openrc-late; echo done" sh
for app in pyapp:17431:initkit-e2e-openrc-py shapp:17432:initkit-e2e-openrc-sh; do
    name=${app%%:*} rest=${app#*:} port=${rest%%:*} marker=${rest#*:}
    check "$name: install" "$INITKIT" install "$R/srv/$name.toml" --target openrc --root "$R"
    expect_rc "$name: rc-service start" 0 in_ns rc-service "$name" start
    check "$name: answers" wait_until 5 answers "$port"
    expect_rc "$name: rc-service restart" 0 in_ns rc-service "$name" restart
    check "$name: answers after restart" wait_until 5 answers "$port"
    expect_rc "$name: rc-service stop" 0 in_ns rc-service "$name" stop
    check "$name: nothing left running" wait_until 5 none_left "$marker"
done
check "lateapp: install" "$INITKIT" install "$R/srv/lateapp.toml" --target openrc --root "$R"
expect_rc "lateapp: a start that never becomes ready fails" 1 in_ns rc-service lateapp start
check "lateapp: nothing left running" wait_until 5 none_left initkit-e2e-openrc-late

expect_rc "initkit stop redis" 0 in_ns initkit stop redis
expect_rc "initkit stop nginx" 0 in_ns initkit stop nginx
stop_namespace
for name in redis nginx pyapp shapp lateapp; do check "uninstall $name" "$INITKIT" uninstall "$name" --root "$R" --force; done
check "the instance links are gone" test ! -e "$R/etc/init.d/redis.a"

e2e_summary
