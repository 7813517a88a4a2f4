# shellcheck shell=bash
# A user's own service under the user's systemd manager, with lingering:
# installed, driven and removed by an unprivileged user with `--user`.
# Sourced by tests/e2e/systemd.sh while the container runs (in_ct, L, pass,
# fail, check, expect_rc, wait_until); ports 19850-19869, scratch /tmp/h-user.
# shellcheck disable=SC2016 # the single-quoted scripts are expanded by the inner shell

echo "== a user's own service: install --user under systemd --user, with lingering"
if in_ct getent passwd ikuser >/dev/null; then fail "the container has no user ikuser" "refusing to touch it"; else
    in_ct useradd -m -s /bin/sh ikuser
    IKUID=$(in_ct id -u ikuser)
    # as_ikuser CMD...: CMD as ikuser, with the environment a login would give it.
    as_ikuser() { in_ct runuser -u ikuser -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/ikuser USER=ikuser XDG_RUNTIME_DIR="/run/user/$IKUID" "$@"; }
    user_pid() { as_ikuser systemctl --user show -p MainPID --value ikweb.service; }
    user_serves() { [ "$(in_ct curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:19851/)" = 200 ]; }
    in_ct mkdir -p /tmp/h-user
    printf '%s\n' 'name = "ikweb"' 'summary = "a python http.server of one'"'"'s own"' '[run]' \
        'command = ["/usr/bin/python3", "-u", "-m", "http.server", "19851", "--bind", "127.0.0.1"]' \
        'user = "ikuser"' '[ready]' 'tcp = "127.0.0.1:19851"' 'timeout = "10s"' | in_ct tee /tmp/h-user/ikweb.toml >/dev/null
    in_ct chmod 755 /tmp/h-user
    in_ct chmod 644 /tmp/h-user/ikweb.toml
    expect_rc "install --user as root is refused" 1 in_ct env HOME=/root initkit install --user /tmp/h-user/ikweb.toml
    check "the refusal says why and what to run" grep -q "this is root.*runuser -u NAME" <<<"$OUT"
    expect_rc "install --user without a user manager is refused" 1 as_ikuser initkit install --user /tmp/h-user/ikweb.toml
    check "the refusal names lingering" grep -q "loginctl enable-linger ikuser" <<<"$OUT"
    check "nothing was written for ikuser" test ! -e "$R/home/ikuser/.config/systemd/user/ikweb.service"
    # --linger asks logind, which lets only root (or polkit, absent here) turn it on.
    expect_rc "install --user --linger, refused by logind without polkit" 1 as_ikuser initkit install --user --linger /tmp/h-user/ikweb.toml
    check "the refusal says lingering needs root, and that nothing was written" grep -q "enable-linger ikuser\` failed (it may need root: \`sudo loginctl enable-linger ikuser\`); nothing was written" <<<"$OUT"
    check "lingering is still off" bash -c '[ "$(nsenter -t "$1" -a loginctl show-user ikuser -p Linger --value 2>/dev/null || echo no)" != yes ]' _ "$L"
    check "still nothing written for ikuser" test ! -e "$R/home/ikuser/.config/systemd/user/ikweb.service"
    # This minimal rootfs has no libpam-systemd, whose pam_systemd gives a
    # user's manager its XDG_RUNTIME_DIR; a drop-in does the same.
    in_ct mkdir -p /etc/systemd/system/user@.service.d
    printf '[Service]\nEnvironment=XDG_RUNTIME_DIR=/run/user/%%i\n' | in_ct tee /etc/systemd/system/user@.service.d/initkit-e2e.conf >/dev/null
    in_ct systemctl daemon-reload
    check "loginctl enable-linger ikuser" in_ct loginctl enable-linger ikuser
    check "ikuser's manager runs" wait_until 20 in_ct test -S "/run/user/$IKUID/systemd/private"
    expect_rc "initkit install --user --enable --start, as ikuser" 0 as_ikuser initkit install --user /tmp/h-user/ikweb.toml --enable --start
    check "no lingering note: lingering is on" bash -c '! grep -q "lingering is off" <<<"$1"' _ "$OUT"
    UNIT=$R/home/ikuser/.config/systemd/user/ikweb.service
    check "the unit is in ~/.config/systemd/user" test -f "$UNIT"
    check "the unit has no User= or Group=" bash -c "! grep -Eq '^(User|Group)=' '$UNIT'"
    check "the unit is wanted by default.target" grep -qx 'WantedBy=default.target' "$UNIT"
    check "enabled: the link in default.target.wants" test -L "$R/home/ikuser/.config/systemd/user/default.target.wants/ikweb.service"
    check "systemctl --user says it is enabled" test "$(as_ikuser systemctl --user is-enabled ikweb.service)" = enabled
    check "the manifest is in ~/.local/state/initkit" test -f "$R/home/ikuser/.local/state/initkit/installed/ikweb.json"
    check "the files are ikuser's" test "$(in_ct stat -c %U /home/ikuser/.config/systemd/user/ikweb.service /home/ikuser/.local/state/initkit/installed/ikweb.json | sort -u)" = ikuser
    check "ikweb answers HTTP on 19851" wait_until 10 user_serves
    old=$(user_pid)
    check "its main process runs as ikuser" bash -c '[ "$(nsenter -t "$1" -a ps -o user= -p "$2" | tr -d " ")" = ikuser ]' _ "$L" "$old"
    expect_rc "initkit status --user ikweb" 0 as_ikuser initkit status --user ikweb
    check "status reports it running" grep -qE '^ikweb +systemd +yes +running +[0-9]+' <<<"$OUT"
    expect_rc "initkit list --installed --user" 0 as_ikuser initkit list --installed --user
    check "list names ikweb, enabled" grep -q '^ikweb  (systemd debian, 1 files, 1 links)  enabled' <<<"$OUT"
    expect_rc "initkit restart --user ikweb" 0 as_ikuser initkit restart --user ikweb
    check "ikweb has a new main PID" bash -c 'p=$(nsenter -t "$1" -a runuser -u ikuser -- env XDG_RUNTIME_DIR="/run/user/$2" systemctl --user show -p MainPID --value ikweb.service); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$3" ]' _ "$L" "$IKUID" "$old"
    check "ikweb answers again" wait_until 10 user_serves
    expect_rc "initkit logs --user ikweb -n 50" 0 as_ikuser initkit logs --user ikweb -n 50
    check "logs shows the app's own lines" grep -q 'Serving HTTP on 127.0.0.1 port 19851' <<<"$OUT"
    check "logs shows the requests it answered" grep -q '"GET / HTTP/1.1" 200' <<<"$OUT"
    expect_rc "initkit stop --user ikweb" 0 as_ikuser initkit stop --user ikweb
    check "ikweb stopped answering" wait_until 10 bash -c '! nsenter -t "$1" -a curl -s --max-time 1 http://127.0.0.1:19851/' _ "$L"
    expect_rc "initkit status --user ikweb, stopped" 3 as_ikuser initkit status --user ikweb
    expect_rc "initkit start --user ikweb" 0 as_ikuser initkit start --user ikweb
    check "ikweb answers after the start" wait_until 10 user_serves
    expect_rc "initkit uninstall --user ikweb" 0 as_ikuser initkit uninstall --user ikweb
    check "nothing listens on 19851" wait_until 10 bash -c '! nsenter -t "$1" -a curl -s --max-time 1 http://127.0.0.1:19851/' _ "$L"
    check "no process of ikuser's runs python3" bash -c '! nsenter -t "$1" -a pgrep -u ikuser python3' _ "$L"
    check "the unit and its link are gone" bash -c "! ls -A '$R/home/ikuser/.config/systemd/user' 2>/dev/null | grep -q ."
    check "initkit's record is gone" test ! -e "$R/home/ikuser/.local/state/initkit"
    check "systemctl --user no longer knows ikweb" bash -c '[ "$(nsenter -t "$1" -a runuser -u ikuser -- env XDG_RUNTIME_DIR="/run/user/$2" systemctl --user show -p LoadState --value ikweb.service)" = not-found ]' _ "$L" "$IKUID"
    in_ct loginctl disable-linger ikuser
    in_ct rm -rf /etc/systemd/system/user@.service.d
    in_ct systemctl daemon-reload
    in_ct rm -rf /tmp/h-user
    wait_until 10 bash -c '! nsenter -t "$1" -a pgrep -u ikuser >/dev/null' _ "$L"
    in_ct userdel -r ikuser 2>/dev/null
fi
