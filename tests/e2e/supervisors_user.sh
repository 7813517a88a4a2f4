# shellcheck shell=bash
# A user's own runit or s6 service: the user's supervisor (a runsvdir over
# ~/service, or an s6-svscan over ~/.config/s6/service), provided as
# docs/targets.md says root provides one (a system service initkit installs
# from a small recipe), and a Python http.server installed, driven and
# removed by that unprivileged user with `--user --target runit|s6`. Sourced
# by tests/e2e/supervisors.sh in its runit and s6 sections while the
# namespace runs (target, R, in_ns, pass, fail, check, expect_rc,
# wait_until); ports 19870-19889, scratch /tmp/h-u$target in the chroot.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the inner shell

case ${target:?} in
    runit)
        UNAME=ikrunit UPORT=19871 SCANNER=runsvdir SUPERVISE=runsv LOGGER=svlogd DROP="chpst -u"
        UDEFS=.config/sv USCAN=service
        # runsvdir ends on HUP, having sent its runsv TERM; it says so with 111.
        SCANNER_RECIPE=('command = ["/usr/bin/runsvdir", "-P", "/home/ikrunit/service"]' 'success_codes = [111]' '[stop]' 'signal = "HUP"')
        ;;
    s6)
        UNAME=iks6 UPORT=19872 SCANNER=s6-svscan SUPERVISE=s6-supervise LOGGER=s6-log DROP=s6-setuidgid
        UDEFS=.config/s6/sv USCAN=.config/s6/service
        # s6-svscan ends on TERM, once its supervisors have brought their services down.
        SCANNER_RECIPE=('command = ["/usr/bin/s6-svscan", "/home/iks6/.config/s6/service"]')
        ;;
esac
T=$target

echo "== $T: a user's own service: install --user --target $T, under a $SCANNER of the user's"
if chroot "$R" getent passwd "$UNAME" >/dev/null; then fail "the rootfs has no user $UNAME" "refusing to touch it"; else
    chroot "$R" useradd -m -s /bin/sh "$UNAME"
    UUID_=$(chroot "$R" id -u "$UNAME")
    UHOME=$R/home/$UNAME
    SCAN=/home/$UNAME/$USCAN
    # What a login (pam_systemd, elogind) would give the user: its runtime directory.
    install -d -m 0700 -o "$(stat -c %u "$UHOME")" -g "$(stat -c %g "$UHOME")" "$R/run/user/$UUID_"
    # as_u CMD...: CMD as the user in the namespace, with a login's environment.
    as_u() { in_ns runuser -u "$UNAME" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="/home/$UNAME" USER="$UNAME" XDG_RUNTIME_DIR="/run/user/$UUID_" "$@"; }
    u_pid() { as_u initkit status --user ikuweb --json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p'; }
    u_has_pid() { [ -n "$(u_pid)" ]; }
    u_restarted() { local p; p=$(u_pid); [ -n "$p" ] && [ "$p" != "$1" ]; }
    # u_runs NAME: a process NAME of the user's runs in the namespace (its PIDs, not the host's).
    u_runs() { in_ns pgrep -u "$UNAME" -x "$1" >/dev/null; }
    # none_of_u [NAME...]: no process of the user's runs (none of those NAMEs).
    none_of_u() {
        local n
        [ $# = 0 ] && { ! in_ns pgrep -u "$UNAME" >/dev/null; return; }
        for n in "$@"; do u_runs "$n" && return 1; done
        return 0
    }
    # under_supervisor PID: PID descends from the supervise process (runsv
    # runs the daemon itself; s6-supervise runs initkit's wrapper, its parent).
    under_supervisor() {
        local p=$1 comm
        for _ in 1 2 3; do
            p=$(in_ns ps -o ppid= -p "$p" | tr -d ' ')
            [ -n "$p" ] || return 1
            comm=$(in_ns ps -o comm= -p "$p")
            [ "$comm" = "$SUPERVISE" ] && return 0
        done
        return 1
    }
    u_serves() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$UPORT/")" = 200 ]; }
    mkdir -p "$R/tmp/h-u$T"
    printf '%s\n' 'name = "ikuweb"' 'summary = "a python http.server of one'"'"'s own, under a supervisor of one'"'"'s own"' '[run]' \
        "command = [\"/usr/bin/python3\", \"-u\", \"-m\", \"http.server\", \"$UPORT\", \"--bind\", \"127.0.0.1\"]" \
        "user = \"$UNAME\"" '[ready]' "tcp = \"127.0.0.1:$UPORT\"" 'timeout = "10s"' >"$R/tmp/h-u$T/ikuweb.toml"
    # The user's supervisor as root runs it at boot: the recipe of docs/targets.md.
    printf '%s\n' "name = \"$SCANNER-$UNAME\"" "summary = \"the $SCANNER of $UNAME's own services\"" '[run]' \
        "user = \"$UNAME\"" "${SCANNER_RECIPE[@]}" >"$R/tmp/h-u$T/$SCANNER-$UNAME.toml"
    chmod 755 "$R/tmp/h-u$T"
    chmod 644 "$R/tmp/h-u$T"/*.toml

    expect_rc "$T: install --user as root is refused" 1 in_ns env HOME=/root initkit install --user --target "$T" "/tmp/h-u$T/ikuweb.toml"
    check "$T: the refusal says why" grep -q "this is root" <<<"$OUT"
    expect_rc "$T: install --user without a $SCANNER of $UNAME's is refused" 1 as_u initkit install --user --target "$T" "/tmp/h-u$T/ikuweb.toml" --enable
    check "$T: the refusal names the directory and that nothing was written" \
        grep -q "no $SCANNER runs as $UNAME over $SCAN, so nothing would start a service linked there; nothing was written" <<<"$OUT"
    check "$T: ... and says how to get one" grep -q "setsid $SCANNER .*$SCAN" <<<"$OUT"
    check "$T: nothing was written for $UNAME" bash -c '[ ! -e "$1/$2" ] && [ ! -e "$1/.local/state/initkit" ] && [ ! -e "$1/$3" ]' _ "$UHOME" "$UDEFS" "$USCAN"

    as_u mkdir -p "$SCAN"
    BEFORE=$(cd "$UHOME" && find . | sort)
    check "$T: root installs the user's $SCANNER as a $T service" in_ns initkit install "/tmp/h-u$T/$SCANNER-$UNAME.toml" --target "$T" --enable
    check "$T: a $SCANNER runs as $UNAME" wait_until 20 u_runs "$SCANNER"
    expect_rc "$T: initkit install --user --target $T --enable --start, as $UNAME" 0 \
        as_u initkit install --user --target "$T" "/tmp/h-u$T/ikuweb.toml" --enable --start
    SVD=$UHOME/$UDEFS/ikuweb
    check "$T: the service directory is in ~/$UDEFS" test -x "$SVD/run"
    check "$T: enabled: its link in ~/$USCAN, and no down file" \
        bash -c '[ "$(readlink "$1")" = "$2" ] && [ ! -e "$3/down" ]' _ "$UHOME/$USCAN/ikuweb" "/home/$UNAME/$UDEFS/ikuweb" "$SVD"
    check "$T: its run script has no $DROP" bash -c '! grep -q "$2" "$1"' _ "$SVD/run" "$DROP"
    check "$T: the manifest is in ~/.local/state/initkit" test -f "$UHOME/.local/state/initkit/installed/ikuweb.json"
    check "$T: the files are $UNAME's" test "$(stat -c %U "$SVD/run" "$UHOME/.local/state/initkit/installed/ikuweb.json" | sort -u)" = "$(stat -c %U "$UHOME")"
    check "$T: ikuweb answers HTTP on $UPORT" wait_until 10 u_serves
    check "$T: status names its daemon" wait_until 10 u_has_pid
    old=$(u_pid)
    check "$T: its daemon runs as $UNAME" test "$(in_ns ps -o user= -p "${old:-0}" | tr -d ' ')" = "$UNAME"
    check "$T: ... under $SUPERVISE" under_supervisor "${old:-0}"
    expect_rc "$T: initkit status --user ikuweb" 0 as_u initkit status --user ikuweb
    check "$T: status reports it running" grep -qE "^ikuweb +$T +yes +running +[0-9]+" <<<"$OUT"
    expect_rc "$T: initkit list --installed --user" 0 as_u initkit list --installed --user
    check "$T: list names ikuweb, enabled" grep -qE "^ikuweb  \($T debian, [0-9]+ files, 1 links\)  enabled" <<<"$OUT"

    expect_rc "$T: initkit restart --user ikuweb" 0 as_u initkit restart --user ikuweb
    new=$(u_pid)
    check "$T: ikuweb has a new PID after restart" bash -c '[ -n "$1" ] && [ "$1" != "$2" ]' _ "$new" "$old"
    check "$T: ikuweb answers after restart" wait_until 10 u_serves
    case $new in ''|0|*[!0-9]*) fail "$T: ikuweb has a pid" "got '$new'" ;; *) in_ns kill -9 "$new" ;; esac
    check "$T: $SUPERVISE restarts ikuweb after kill -9" wait_until 20 u_restarted "$new"
    check "$T: ikuweb answers again" wait_until 10 u_serves
    expect_rc "$T: initkit status --user ikuweb --json" 0 as_u initkit status --user ikuweb --json
    check "$T: status says the last ikuweb died of SIGKILL" grep -q '"last_exit": "signal KILL"' <<<"$OUT"

    expect_rc "$T: initkit logs --user ikuweb -n 50" 0 as_u initkit logs --user ikuweb -n 50
    check "$T: logs shows the app's own lines" grep -q "Serving HTTP on 127.0.0.1 port $UPORT" <<<"$OUT"
    check "$T: logs shows the requests it answered" grep -q '"GET / HTTP/1.1" 200' <<<"$OUT"
    check "$T: $LOGGER writes in $UNAME's directories" test -f "$UHOME/.config/log/initkit/ikuweb/ikuweb/current"

    expect_rc "$T: initkit disable --user ikuweb" 0 as_u initkit disable --user ikuweb
    check "$T: disabled: a down file, the link stays" bash -c '[ -e "$1/down" ] && [ -L "$2" ]' _ "$SVD" "$UHOME/$USCAN/ikuweb"
    check "$T: ... and ikuweb still answers" u_serves
    expect_rc "$T: initkit enable --user ikuweb" 0 as_u initkit enable --user ikuweb
    check "$T: enabled again: no down file" test ! -e "$SVD/down"

    expect_rc "$T: initkit stop --user ikuweb" 0 as_u initkit stop --user ikuweb
    check "$T: ikuweb stopped answering" wait_until 10 bash -c '! curl -s --max-time 1 "http://127.0.0.1:$1/"' _ "$UPORT"
    expect_rc "$T: initkit status --user ikuweb, stopped" 3 as_u initkit status --user ikuweb
    expect_rc "$T: initkit start --user ikuweb" 0 as_u initkit start --user ikuweb
    check "$T: ikuweb answers after the start" wait_until 10 u_serves

    expect_rc "$T: initkit uninstall --user --purge ikuweb" 0 as_u initkit uninstall --user --purge ikuweb
    check "$T: nothing listens on $UPORT" wait_until 10 bash -c '! curl -s --max-time 1 "http://127.0.0.1:$1/"' _ "$UPORT"
    check "$T: no python3, $SUPERVISE or $LOGGER of $UNAME's runs" wait_until 10 none_of_u python3 "$SUPERVISE" "$LOGGER"
    AFTER=$(cd "$UHOME" && find . -path "./$USCAN/.s6-svscan" -prune -o -print | sort)
    check "$T: $UNAME's home is as before the install" test "$AFTER" = "$BEFORE"
    [ "$AFTER" = "$BEFORE" ] || diff <(echo "$BEFORE") <(echo "$AFTER") | head -20
    check "$T: nothing of initkit's in $UNAME's runtime directory" bash -c '[ -z "$(ls -A "$1")" ]' _ "$R/run/user/$UUID_"

    check "$T: root uninstalls the user's $SCANNER" in_ns initkit uninstall "$SCANNER-$UNAME" --purge
    check "$T: no process of $UNAME's is left" wait_until 10 none_of_u
    rm -rf "$R/tmp/h-u$T" "$R/run/user/$UUID_"
    rmdir "$R/run/user" 2>/dev/null
    chroot "$R" userdel -r "$UNAME" 2>/dev/null
    check "$T: the user $UNAME is gone" bash -c '! chroot "$1" getent passwd "$2" >/dev/null' _ "$R" "$UNAME"
fi
