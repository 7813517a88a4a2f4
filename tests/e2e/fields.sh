#!/usr/bin/env bash
# Recipe fields beyond one daemon, real on the host's SysV: a dependency
# ordered by update-rc.d through insserv from the LSB header (and the rc
# sequence runs it second), and a scheduled task's cron.d twin run by the real
# cron; a security condition answered by the script as systemd answers it.
# Installs on the running host under ikf-* names and removes them again.
# Usage: tests/e2e/fields.sh [PATH-TO-INITKIT]   (as root)
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
INITKIT=$(readlink -f "${1:-$here/../../target/release/initkit}")

[ "$(id -u)" = 0 ] || { echo "the fields suite needs root"; exit 1; }
for tool in update-rc.d cron; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: .ci/run installs it"; exit 1; }
done
[ -x /sbin/insserv ] || { echo "insserv is missing: .ci/run installs it"; exit 1; }

NAMES="ikf-tick ikf-dep ikf-base"
CRON_PID=
STATE=/run/ikf-fields
fields_cleanup() {
    [ -n "$CRON_PID" ] && kill "$CRON_PID" 2>/dev/null && wait "$CRON_PID" 2>/dev/null
    for n in $NAMES ikf-sec; do "$INITKIT" uninstall "$n" --force --purge >/dev/null 2>&1; done
    rm -rf -- "$STATE" "${DIR:-}"
    e2e_cleanup
}
trap fields_cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

DIR=$(mktemp -d /tmp/initkit-e2e-fields.XXXXXX)
mkdir -p "$STATE"
# recipe NAME LINE [TOML...]: a root task appending LINE to $STATE/order, with more TOML after.
recipe() {
    local name=$1 line=$2
    shift 2
    {
        printf 'name = "%s"\nsummary = "field test %s"\n[run]\ntype = "oneshot"\nuser = "root"\n' "$name" "$name"
        printf 'command = ["/bin/sh", "-c", "echo %s >>%s/order"]\n' "$line" "$STATE"
        printf '%s\n' "$@"
    } >"$DIR/$name.toml"
}
# S number of NAME's link in /etc/rc2.d.
seq_of() { local l; l=$(basename /etc/rc2.d/S[0-9][0-9]"$1"); l=${l#S}; printf '%s' "${l%%"$1"}"; }

echo "== dependency order (LSB header, insserv)"
# ikf-dep is installed first, so the order comes from its header, not the sequence of installs.
recipe ikf-dep dep 'remain = true' '[depends]' 'requires = ["ikf-base"]' 'after = ["ikf-base"]'
recipe ikf-base base 'remain = true'
check "install ikf-dep --enable" "$INITKIT" install "$DIR/ikf-dep.toml" --enable
check "install ikf-base --enable" "$INITKIT" install "$DIR/ikf-base.toml" --enable
check "ikf-dep's header requires ikf-base" grep -qE '^# Required-Start: .* ikf-base$' /etc/init.d/ikf-dep
check "both have rc2.d start links" test -L "/etc/rc2.d/S$(seq_of ikf-base)ikf-base" -a -L "/etc/rc2.d/S$(seq_of ikf-dep)ikf-dep"
base=$(seq_of ikf-base) dep=$(seq_of ikf-dep)
check "insserv orders ikf-dep after ikf-base (S$base, S$dep)" test "$((10#${dep:-0}))" -gt "$((10#${base:-99}))"
# What /etc/init.d/rc does in runlevel 2: the S links in their order.
for link in /etc/rc2.d/S[0-9][0-9]ikf-*; do "$link" start >/dev/null 2>&1; done
check "the rc sequence started ikf-base, then ikf-dep" test "$(tr '\n' ' ' <"$STATE/order")" = "base dep "
expect_rc "initkit status ikf-dep (a task that remains)" 0 "$INITKIT" status ikf-dep
for n in ikf-dep ikf-base; do expect_rc "initkit stop $n" 0 "$INITKIT" stop "$n"; done

echo "== a schedule's cron.d twin, run by cron"
recipe ikf-tick tick '[schedule]' 'every = "1min"'
sed -i "s|echo tick >>$STATE/order|date +%s >>$STATE/ticks|" "$DIR/ikf-tick.toml"
check "install ikf-tick --enable" "$INITKIT" install "$DIR/ikf-tick.toml" --enable
check "its cron.d entry runs the script's start every minute" \
    grep -qx '\* \* \* \* \* root /etc/init.d/ikf-tick start >/dev/null 2>&1' /etc/cron.d/initkit-ikf-tick
# cron reads /etc/cron.d when it starts; -f keeps it ours to stop by PID.
cron -f >"$DIR/cron.log" 2>&1 &
CRON_PID=$!
check "cron ran the task within 70 s" wait_until 70 test -s "$STATE/ticks"
kill "$CRON_PID" 2>/dev/null
wait "$CRON_PID" 2>/dev/null
CRON_PID=
check "the task ran to its end (status: not running)" bash -c "! '$INITKIT' status ikf-tick >/dev/null"

echo "== a security condition, tested by the script as systemd tests it"
# Whatever this host runs, the script's answer is systemd's own (systemd-analyze condition).
for what in selinux apparmor tomoyo ima smack audit uefi-secureboot tpm2; do
    rm -f -- "$STATE/order"
    recipe ikf-sec sec '[conditions]' "security = [\"$what\"]"
    check "install ikf-sec ($what)" "$INITKIT" install "$DIR/ikf-sec.toml" --force
    out=$(/etc/init.d/ikf-sec start 2>&1)
    rc=$?
    if systemd-analyze condition "ConditionSecurity=$what" >/dev/null 2>&1; then
        check "$what holds, as systemd says: the task ran (exit $rc)" test "$rc" = 0 -a -s "$STATE/order"
    else
        check "$what does not hold, as systemd says: skipped, exit 0 ($out)" \
            test "$rc" = 0 -a ! -e "$STATE/order" -a -n "$(printf '%s' "$out" | grep 'not started: .* must be on')"
    fi
    "$INITKIT" uninstall ikf-sec --purge >/dev/null 2>&1
done

echo "== uninstall"
for n in $NAMES; do check "uninstall $n" "$INITKIT" uninstall "$n" --purge; done
check "no rc links, script, cron entry or log left" bash -c '! ls -d /etc/rc?.d/*ikf-* /etc/init.d/ikf-* /etc/cron.d/initkit-ikf-* /var/log/initkit/ikf-* 2>/dev/null | grep -q .'

e2e_summary
