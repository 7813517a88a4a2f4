#!/usr/bin/env bash
# runit, s6, daemontools and supervisord, each run as an ordinary process (in
# a chroot, in its own PID and mount namespaces) over what `initkit install
# --target X --root` wrote: two redis instances and nginx, driven with initkit.
# Usage: tests/e2e/supervisors.sh [PATH-TO-INITKIT] [TARGET...]   (as root)
# proves on runit s6 daemontools supervisord: redis nginx
# Under runit and supervisord also a Procfile of two process types, imported
# and run as web=2 (two port instances) and one worker, as the file's owner;
# under runit and s6 also a user's own service (`--user`, supervisors_user.sh).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
INITKIT=$(readlink -f "${1:-$here/../../target/release/initkit}")
shift || true
TARGETS=${*:-runit s6 daemontools supervisord}

[ "$(id -u)" = 0 ] || { echo "the supervisors' end-to-end suite needs root"; exit 1; }
for tool in mmdebstrap unshare nsenter; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: .ci/run installs it"; exit 1; }
done

PACKAGES=runit,s6,daemontools,supervisor,redis-server,nginx-light,procps,curl,util-linux,python3
CACHE=/var/tmp/initkit-e2e-supervisors-cache
NS_PID=

sup_cleanup() {
    stop_namespace
    [ -n "${WORK:-}" ] && { umount "$WORK/root/proc" 2>/dev/null; rm -rf -- "$WORK"; }
    e2e_cleanup
}
trap sup_cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

prepare_rootfs "$CACHE" "$PACKAGES" sup

in_ns() { nsenter -t "$(pgrep -P "$NS_PID" | head -1)" -p -m -r -w "$@"; }
status_pid() { in_ns initkit status "$1" --json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p'; }
http() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/"; }

port=17100
for target in $TARGETS; do
    port=$((port + 10))
    pa=$((port + 1)) pb=$((port + 2)) pn=$((port + 3))
    echo "== $target"
    nginx_conf "$R/srv/nginx.conf" $pn
    check "$target: install redis@a" "$INITKIT" install redis@a --target "$target" --root "$R" --set port=$pa --enable
    check "$target: install redis@b" "$INITKIT" install redis@b --target "$target" --root "$R" --set port=$pb --enable
    # --force: /etc/default/nginx is Debian's; it is backed up and restored on uninstall.
    check "$target: install nginx" "$INITKIT" install nginx --target "$target" --root "$R" --set config=/srv/nginx.conf --set port=$pn --enable --force
    if [ "$target" = s6 ]; then
        # Apps as people write them: a shebang script, and a shell that waits on its child.
        write_app "$R/srv/apps"
        app_recipe "$R/srv/pyapp.toml" pyapp $((port + 5)) /srv/apps/web.py $((port + 5)) initkit-e2e-s6-py
        app_recipe "$R/srv/shapp.toml" shapp $((port + 6)) /bin/sh -c "/usr/bin/python3 /srv/apps/web.py $((port + 6)) initkit-e2e-s6-sh; echo done" sh
        for app in pyapp shapp; do check "$target: install $app" "$INITKIT" install "$R/srv/$app.toml" --target s6 --root "$R" --enable; done
    fi
    if [ "$target" = runit ] || [ "$target" = supervisord ]; then
        # A foreman-style app: the Procfile is read where it lives (in the
        # rootfs, so its directory and owner are the app's), web=2 is two ports.
        w1=$((port + 7)) w2=$((port + 8))
        write_app "$R/srv/procapp"
        # shellcheck disable=SC2016 # $PORT is the Procfile's, for foreman's convention
        printf '%s\n' 'web: /usr/bin/python3 /srv/procapp/web.py $PORT' \
            "worker: /bin/sh -c 'while :; do date >>/srv/procapp/worker.out; sleep 1; done'" \
            'release: /bin/false' >"$R/srv/procapp/Procfile"
        chown -R nobody "$R/srv/procapp"
        check "$target: import the Procfile" chroot "$R" initkit import /srv/procapp/Procfile -o /srv/procapp/recipes
        check "$target: its web process runs in the app's directory as its owner" \
            grep -qx 'working_directory = "/srv/procapp"' "$R/srv/procapp/recipes/procapp-web.toml"
        check "$target: ... as nobody" grep -qx 'user = "nobody"' "$R/srv/procapp/recipes/procapp-worker.toml"
        check "$target: install procapp-web@$w1 and @$w2 (web=2)" "$INITKIT" install \
            "$R/srv/procapp/recipes/procapp-web.toml@$w1" "$R/srv/procapp/recipes/procapp-web.toml@$w2" \
            --target "$target" --root "$R" --enable
        check "$target: install procapp-worker" "$INITKIT" install "$R/srv/procapp/recipes/procapp-worker.toml" \
            --target "$target" --root "$R" --enable
    fi
    case $target in
        runit) cmd="runsvdir -P /etc/service" ;;
        s6) cmd="s6-svscan /etc/s6/service" ;;
        daemontools) cmd="svscan /etc/service" ;;
        supervisord) cmd="supervisord -n -c /etc/supervisor/supervisord.conf" ;;
    esac
    # The rootfs is bound onto itself first, so that / is a mount point in the
    # chroot, as on a real host (a trial start's mount namespace needs one).
    # $cmd is words on purpose; the quoted script runs inside the namespace.
    # shellcheck disable=SC2086,SC2016
    unshare --pid --mount --fork sh -c 'r=$1; shift; mount --bind "$r" "$r" && mount -t proc proc "$r/proc" && exec chroot "$r" "$@"' initkit "$R" $cmd >"$WORK/$target.out" 2>&1 &
    NS_PID=$!
    check "$target: redis@a answers on $pa" wait_until 20 ping_port $pa
    check "$target: redis@b answers on $pb" wait_until 20 ping_port $pb
    check "$target: nginx serves" wait_until 20 bash -c "[ \"\$(curl -s --max-time 1 http://127.0.0.1:$pn/)\" = v1 ]"
    # supervisord says STARTING for its startsecs before RUNNING.
    check "$target: both instances report running" wait_until 10 bash -c "nsenter -t \$(pgrep -P $NS_PID | head -1) -p -m -r -w initkit status redis >/dev/null"
    expect_rc "$target: initkit status redis" 0 in_ns initkit status redis
    check "$target: both instances running" bash -c "[ \$(grep -c ' running ' <<<\"\$1\") = 2 ]" _ "$OUT"

    # The daemon's PID is known once the wrapper has written it (status never names the wrapper).
    check "$target: status names redis@a's daemon" wait_until 10 bash -c "[ -n \"\$(nsenter -t \$(pgrep -P $NS_PID | head -1) -p -m -r -w initkit status redis@a --json | sed -n 's/.*\"pid\": \([0-9]*\).*/\1/p')\" ]"
    old=$(status_pid redis@a)
    case $old in ''|0|*[!0-9]*) fail "$target: redis@a has a pid" "got '$old'" ;; *) in_ns kill -9 "$old" ;; esac
    check "$target: the supervisor restarts redis@a after kill -9" wait_until 20 bash -c "p=\$(nsenter -t \$(pgrep -P $NS_PID | head -1) -p -m -r -w initkit status redis@a --json | sed -n 's/.*\"pid\": \([0-9]*\).*/\1/p'); [ -n \"\$p\" ] && [ \"\$p\" != $old ]"
    check "$target: redis@a answers again" wait_until 20 ping_port $pa
    expect_rc "$target: initkit status redis@a --json" 0 in_ns initkit status redis@a --json
    check "$target: status says the last redis@a died of SIGKILL" grep -q '"last_exit": "signal KILL"' <<<"$OUT"

    b=$(status_pid redis@b)
    in_ns sh -c 'echo "bogus-directive yes" >>/etc/redis/redis.conf'
    expect_rc "$target: initkit restart redis@b with a broken redis.conf refuses (trial start)" 6 in_ns initkit restart redis@b
    check "$target: the refusal shows redis's own words" grep -q "Bad directive" <<<"$OUT"
    check "$target: redis@b kept its pid" test "$(status_pid redis@b)" = "$b"
    in_ns sed -i '/^bogus-directive/d' /etc/redis/redis.conf
    check "$target: redis@b still answers" ping_port $pb

    expect_rc "$target: initkit stop redis@a" 0 in_ns initkit stop redis@a
    check "$target: redis@a's port is closed" wait_until 10 bash -c "! redis-cli -p $pa ping"
    expect_rc "$target: status of the stopped instance" 3 in_ns initkit status redis@a
    check "$target: redis@a's last exit is its clean stop" grep -qE '^redis@a .* stopped .* exit 0$' <<<"$OUT"
    case $target in
        supervisord) log="$R/var/log/supervisor/initkit-redis@a.log" ;;
        *) log="$R/var/log/initkit/redis/a/current" ;;
    esac
    check "$target: the hook ran before redis got its signal (log)" hook_before_signal "$log"
    expect_rc "$target: initkit start redis@a" 0 in_ns initkit start redis@a
    check "$target: redis@a answers after start" wait_until 20 ping_port $pa

    pid=$(status_pid nginx)
    printf 'this is not nginx config;\n' >>"$R/srv/nginx.conf"
    expect_rc "$target: initkit restart nginx with a broken config refuses" 6 in_ns initkit restart nginx
    check "$target: nginx kept its pid" test "$(status_pid nginx)" = "$pid"
    check "$target: nginx still serves" test "$(http $pn)" = 200
    sed -i -e '/this is not nginx config/d' -e 's/v1/v2/' "$R/srv/nginx.conf"
    expect_rc "$target: initkit reload nginx with the fixed config" 0 in_ns initkit reload nginx
    check "$target: nginx serves v2 after reload" wait_until 10 bash -c "[ \"\$(curl -s --max-time 1 http://127.0.0.1:$pn/)\" = v2 ]"
    check "$target: reload kept nginx's pid" test "$(status_pid nginx)" = "$pid"
    expect_rc "$target: initkit restart nginx" 0 in_ns initkit restart nginx
    check "$target: nginx serves after restart" wait_until 10 bash -c "[ \"\$(curl -s --max-time 1 http://127.0.0.1:$pn/)\" = v2 ]"

    if [ "$target" = s6 ]; then
        for app in pyapp:$((port + 5)):initkit-e2e-s6-py shapp:$((port + 6)):initkit-e2e-s6-sh; do
            name=${app%%:*} rest=${app#*:} aport=${rest%%:*} marker=${rest#*:}
            check "$target: $name answers" wait_until 20 answers "$aport"
            expect_rc "$target: initkit restart $name" 0 in_ns initkit restart "$name"
            check "$target: $name answers after restart" wait_until 20 answers "$aport"
            expect_rc "$target: initkit stop $name" 0 in_ns initkit stop "$name"
            check "$target: nothing of $name left running" wait_until 10 none_left "$marker"
        done
    fi
    if [ "$target" = runit ] || [ "$target" = supervisord ]; then
        check "$target: procapp-web@$w1 answers" wait_until 20 answers "$w1"
        check "$target: procapp-web@$w2 answers" wait_until 20 answers "$w2"
        check "$target: the worker runs and writes as nobody" wait_until 10 \
            bash -c "[ \"\$(stat -c %U '$R/srv/procapp/worker.out' 2>/dev/null)\" = nobody ]"
        # The app's process as the host sees it (what a kill -9 from outside hits).
        old=$(pgrep -f "web.py $w1\$")
        case $old in ''|*[!0-9]*) fail "$target: procapp-web@$w1 runs once" "got '$old'" ;; *) kill -9 "$old" ;; esac
        check "$target: procapp-web@$w1 is restarted after kill -9" wait_until 20 \
            bash -c "p=\$(pgrep -f 'web.py $w1\$'); [ -n \"\$p\" ] && [ \"\$p\" != '$old' ]"
        check "$target: procapp-web@$w1 answers again" wait_until 20 answers "$w1"
        check "$target: procapp-web@$w2 kept answering" answers "$w2"
        for name in procapp-web procapp-worker; do expect_rc "$target: initkit stop $name" 0 in_ns initkit stop $name; done
        check "$target: nothing of the Procfile's processes left" wait_until 10 none_left /srv/procapp/
    fi
    if [ "$target" = supervisord ]; then
        # On the running host (here the namespace), install tells supervisord: reread + update.
        expect_rc "$target: a live install of redis@c" 0 in_ns initkit install redis@c --target supervisord --set port=$((port + 4))
        check "$target: supervisord started redis@c" wait_until 20 ping_port $((port + 4))
        expect_rc "$target: a live uninstall of redis@c" 0 in_ns initkit uninstall redis@c
        check "$target: supervisord stopped redis@c" wait_until 20 bash -c "! redis-cli -p $((port + 4)) ping"
    fi
    if [ "$target" = runit ] || [ "$target" = s6 ]; then
        # shellcheck source=supervisors_user.sh
        . "$here/supervisors_user.sh" # a user's own service, under a runsvdir or s6-svscan of the user's
    fi
    expect_rc "$target: initkit stop redis" 0 in_ns initkit stop redis
    expect_rc "$target: initkit stop nginx" 0 in_ns initkit stop nginx
    stop_namespace
    for name in redis nginx; do check "$target: uninstall $name" "$INITKIT" uninstall "$name" --root "$R" --force; done
    if [ "$target" = runit ] || [ "$target" = supervisord ]; then
        for name in procapp-web procapp-worker; do check "$target: uninstall $name" "$INITKIT" uninstall "$name" --root "$R" --force; done
    fi
    if [ "$target" = s6 ]; then
        for name in pyapp shapp; do check "$target: uninstall $name" "$INITKIT" uninstall "$name" --root "$R" --force; done
    fi
done

e2e_summary
