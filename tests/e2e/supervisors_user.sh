# shellcheck shell=bash
# A user's own runit service: a runsvdir running as the user over
# ~/service (provided as docs/targets.md says root provides one: a runit
# system service initkit installs from a small recipe), and a Python
# http.server installed, driven and removed by that unprivileged user with
# `--user --target runit`. Sourced by tests/e2e/supervisors.sh in its runit
# section while the namespace runs (R, in_ns, pass, fail, check, expect_rc,
# wait_until); ports 19870-19889, scratch /tmp/h-urunit in the chroot.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the inner shell

echo "== runit: a user's own service: install --user --target runit, under a runsvdir of the user's"
if chroot "$R" getent passwd ikrunit >/dev/null; then fail "the rootfs has no user ikrunit" "refusing to touch it"; else
    chroot "$R" useradd -m -s /bin/sh ikrunit
    UUID_=$(chroot "$R" id -u ikrunit)
    UHOME=$R/home/ikrunit
    UPORT=19871
    # What a login (pam_systemd, elogind) would give the user: its runtime directory.
    install -d -m 0700 -o "$(stat -c %u "$UHOME")" -g "$(stat -c %g "$UHOME")" "$R/run/user/$UUID_"
    # as_ikrunit CMD...: CMD as ikrunit in the namespace, with a login's environment.
    as_ikrunit() { in_ns runuser -u ikrunit -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/ikrunit USER=ikrunit XDG_RUNTIME_DIR="/run/user/$UUID_" "$@"; }
    urunit_pid() { as_ikrunit initkit status --user ikrweb --json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p'; }
    urunit_restarted() { local p; p=$(urunit_pid); [ -n "$p" ] && [ "$p" != "$1" ]; }
    # ikrunit_runs NAME: a process NAME of ikrunit's runs in the namespace (its PIDs, not the host's).
    ikrunit_runs() { in_ns pgrep -u ikrunit -x "$1" >/dev/null; }
    # none_of_ikrunit [NAME...]: no process of ikrunit's runs (none of those NAMEs).
    none_of_ikrunit() {
        local n
        [ $# = 0 ] && { ! in_ns pgrep -u ikrunit >/dev/null; return; }
        for n in "$@"; do ikrunit_runs "$n" && return 1; done
        return 0
    }
    urunit_serves() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$UPORT/")" = 200 ]; }
    mkdir -p "$R/tmp/h-urunit"
    printf '%s\n' 'name = "ikrweb"' 'summary = "a python http.server of one'"'"'s own, under runit"' '[run]' \
        "command = [\"/usr/bin/python3\", \"-u\", \"-m\", \"http.server\", \"$UPORT\", \"--bind\", \"127.0.0.1\"]" \
        'user = "ikrunit"' '[ready]' "tcp = \"127.0.0.1:$UPORT\"" 'timeout = "10s"' >"$R/tmp/h-urunit/ikrweb.toml"
    # The user's runsvdir as root runs it at boot: the recipe of docs/targets.md.
    printf '%s\n' 'name = "runsvdir-ikrunit"' 'summary = "the runsvdir of ikrunit'"'"'s own services"' '[run]' \
        'command = ["/usr/bin/runsvdir", "-P", "/home/ikrunit/service"]' 'user = "ikrunit"' \
        'success_codes = [111]' '[stop]' 'signal = "HUP"' >"$R/tmp/h-urunit/runsvdir-ikrunit.toml"
    chmod 755 "$R/tmp/h-urunit"
    chmod 644 "$R/tmp/h-urunit"/*.toml

    expect_rc "runit: install --user as root is refused" 1 in_ns env HOME=/root initkit install --user --target runit /tmp/h-urunit/ikrweb.toml
    check "runit: the refusal says why" grep -q "this is root" <<<"$OUT"
    expect_rc "runit: install --user without a runsvdir of ikrunit's is refused" 1 as_ikrunit initkit install --user --target runit /tmp/h-urunit/ikrweb.toml --enable
    check "runit: the refusal names the directory and that nothing was written" \
        grep -q "no runsvdir runs as ikrunit over /home/ikrunit/service, so nothing would start a service linked there; nothing was written" <<<"$OUT"
    check "runit: ... and says how to get one" grep -q "setsid runsvdir -P /home/ikrunit/service" <<<"$OUT"
    check "runit: nothing was written for ikrunit" bash -c '[ ! -e "$1/.config/sv" ] && [ ! -e "$1/.local/state/initkit" ] && [ ! -e "$1/service" ]' _ "$UHOME"

    as_ikrunit mkdir -p /home/ikrunit/service
    BEFORE=$(cd "$UHOME" && find . | sort)
    check "runit: root installs the user's runsvdir as a runit service" in_ns initkit install /tmp/h-urunit/runsvdir-ikrunit.toml --target runit --enable
    check "runit: a runsvdir runs as ikrunit" wait_until 20 ikrunit_runs runsvdir
    expect_rc "runit: initkit install --user --target runit --enable --start, as ikrunit" 0 \
        as_ikrunit initkit install --user --target runit /tmp/h-urunit/ikrweb.toml --enable --start
    SVD=$UHOME/.config/sv/ikrweb
    check "runit: the service directory is in ~/.config/sv" test -x "$SVD/run"
    check "runit: enabled: its link in ~/service" test "$(readlink "$UHOME/service/ikrweb")" = /home/ikrunit/.config/sv/ikrweb
    check "runit: its run script has no chpst -u" bash -c '! grep -q "chpst -u" "$1"' _ "$SVD/run"
    check "runit: the manifest is in ~/.local/state/initkit" test -f "$UHOME/.local/state/initkit/installed/ikrweb.json"
    check "runit: the files are ikrunit's" test "$(stat -c %U "$SVD/run" "$UHOME/.local/state/initkit/installed/ikrweb.json" | sort -u)" = "$(stat -c %U "$UHOME")"
    check "runit: ikrweb answers HTTP on $UPORT" wait_until 10 urunit_serves
    old=$(urunit_pid)
    check "runit: its daemon runs as ikrunit" test "$(in_ns ps -o user= -p "${old:-0}" | tr -d ' ')" = ikrunit
    check "runit: ... a child of runsv" test "$(in_ns ps -o comm= -p "$(in_ns ps -o ppid= -p "${old:-0}" | tr -d ' ')")" = runsv
    expect_rc "runit: initkit status --user ikrweb" 0 as_ikrunit initkit status --user ikrweb
    check "runit: status reports it running" grep -qE '^ikrweb +runit +yes +running +[0-9]+' <<<"$OUT"
    expect_rc "runit: initkit list --installed --user" 0 as_ikrunit initkit list --installed --user
    check "runit: list names ikrweb, enabled" grep -q '^ikrweb  (runit debian, 5 files, 1 links)  enabled' <<<"$OUT"

    expect_rc "runit: initkit restart --user ikrweb" 0 as_ikrunit initkit restart --user ikrweb
    new=$(urunit_pid)
    check "runit: ikrweb has a new PID after restart" bash -c '[ -n "$1" ] && [ "$1" != "$2" ]' _ "$new" "$old"
    check "runit: ikrweb answers after restart" wait_until 10 urunit_serves
    case $new in ''|0|*[!0-9]*) fail "runit: ikrweb has a pid" "got '$new'" ;; *) in_ns kill -9 "$new" ;; esac
    check "runit: runsv restarts ikrweb after kill -9" wait_until 20 urunit_restarted "$new"
    check "runit: ikrweb answers again" wait_until 10 urunit_serves
    expect_rc "runit: initkit status --user ikrweb --json" 0 as_ikrunit initkit status --user ikrweb --json
    check "runit: status says the last ikrweb died of SIGKILL" grep -q '"last_exit": "signal KILL"' <<<"$OUT"

    expect_rc "runit: initkit logs --user ikrweb -n 50" 0 as_ikrunit initkit logs --user ikrweb -n 50
    check "runit: logs shows the app's own lines" grep -q "Serving HTTP on 127.0.0.1 port $UPORT" <<<"$OUT"
    check "runit: logs shows the requests it answered" grep -q '"GET / HTTP/1.1" 200' <<<"$OUT"
    check "runit: svlogd writes in ikrunit's directories" test -f "$UHOME/.config/log/initkit/ikrweb/ikrweb/current"

    expect_rc "runit: initkit stop --user ikrweb" 0 as_ikrunit initkit stop --user ikrweb
    check "runit: ikrweb stopped answering" wait_until 10 bash -c '! curl -s --max-time 1 "http://127.0.0.1:$1/"' _ "$UPORT"
    expect_rc "runit: initkit status --user ikrweb, stopped" 3 as_ikrunit initkit status --user ikrweb
    expect_rc "runit: initkit start --user ikrweb" 0 as_ikrunit initkit start --user ikrweb
    check "runit: ikrweb answers after the start" wait_until 10 urunit_serves

    expect_rc "runit: initkit uninstall --user --purge ikrweb" 0 as_ikrunit initkit uninstall --user --purge ikrweb
    check "runit: nothing listens on $UPORT" wait_until 10 bash -c '! curl -s --max-time 1 "http://127.0.0.1:$1/"' _ "$UPORT"
    check "runit: no python3, runsv or svlogd of ikrunit's runs" wait_until 10 none_of_ikrunit python3 runsv svlogd
    AFTER=$(cd "$UHOME" && find . | sort)
    check "runit: ikrunit's home is as before the install" test "$AFTER" = "$BEFORE"
    check "runit: nothing of initkit's in ikrunit's runtime directory" bash -c '[ -z "$(ls -A "$1")" ]' _ "$R/run/user/$UUID_"

    check "runit: root uninstalls the user's runsvdir" in_ns initkit uninstall runsvdir-ikrunit --purge
    check "runit: no process of ikrunit's is left" wait_until 10 none_of_ikrunit
    rm -rf "$R/tmp/h-urunit" "$R/run/user/$UUID_"
    rmdir "$R/run/user" 2>/dev/null
    chroot "$R" userdel -r ikrunit 2>/dev/null
    check "runit: the user ikrunit is gone" bash -c '! chroot "$1" getent passwd ikrunit >/dev/null' _ "$R"
fi
