#!/usr/bin/env bash
# Every catalogue recipe that has a test description (recipes/tests/NAME.toml)
# under systemd as PID 1: one rootfs with every catalogue package, one
# container booted once, and in it each recipe installed with `initkit
# install` and driven with `initkit` and systemctl through the same steps as
# under SysV (start, instances side by side, reload, the config-test gate,
# restart, stop, kill -9 restarted by systemd, uninstall), several recipes at
# a time. The harness and the description format: tests/e2e/catalogue.py and
# catalogue_systemd.py.
# Usage: tests/e2e/catalogue_systemd.sh [PATH-TO-INITKIT] [--jobs N] [-v] [NAME...]   (as root)
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
suite_initkit "$here" "$@"
shift "$SUITE_SHIFT"

[ "$(id -u)" = 0 ] || { echo "the catalogue suite under systemd needs root"; exit 1; }
for tool in mmdebstrap systemd-nspawn nsenter python3; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: .ci/run installs it"; exit 1; }
done
[ -x "$INITKIT" ] || { echo "no initkit at $initkit"; exit 1; }

PACKAGES=$(catalogue_packages "$here") || { echo "cannot read the test descriptions"; exit 1; }
CACHE=$CATALOGUE_CACHE
catalogue_cleanup() {
    stop_container
    release_overlay
    [ -n "${WORK:-}" ] && rm -rf -- "$WORK"
    e2e_cleanup
}
trap catalogue_cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

t0=$SECONDS
prepare_overlay "$CACHE" "$PACKAGES" catalogue

# Nothing but systemd and dbus starts at boot: every package enabled its own
# daemon, on its default port; the harness starts initkit's units, and only
# those. Links into the units of other packages go, and the rc links the
# SysV generator would turn into units.
keep=$(cat "$R"/var/lib/dpkg/info/systemd.list "$R"/var/lib/dpkg/info/dbus*.list 2>/dev/null)
disabled=0
for link in "$R"/etc/systemd/system/*.wants/* "$R"/etc/rc[2-5S].d/S*; do
    [ -L "$link" ] || continue
    target=$(readlink "$link")
    case $target in ../init.d/dbus) continue ;; esac
    grep -qxF -- "$target" <<<"$keep" && continue
    rm -f -- "$link"
    disabled=$((disabled + 1))
done
pass "the packages' own $disabled boot links removed (they would start every daemon on its default port)"
mkdir -p "$R/srv/initkit-cat/tests"
cp -a "$here/../../recipes/tests/." "$R/srv/initkit-cat/tests/"
chmod -R a+rX "$R/srv/initkit-cat"

while [ -n "$(pgrep systemd-nspawn)" ]; do
    echo "   another container runs (pgrep systemd-nspawn): waiting"
    sleep 10
done
echo "== boot systemd as PID 1, once for every recipe"
if boot_container "$R" initkit-cat "$WORK/console.log"; then
    pass "systemd is running ($(in_ct systemctl is-system-running)) after $((SECONDS - t0)) s"
else
    fail "systemd is running"; e2e_summary; exit 1
fi
in_ct systemctl --failed --no-legend | sed 's/^/        failed unit: /'

echo "== the catalogue under systemd"
python3 "$here/catalogue.py" --initkit "$INITKIT" --target systemd --container-leader "$L" --container-root "$R" \
    --jobs "${CATALOGUE_JOBS:-3}" "$@" | tee "$WORK/harness.log"
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$WORK/harness.log" | tail -1)
if [ -z "$last" ]; then fail "the harness printed its result line"; else
    E2E_PASSED=$((E2E_PASSED + ${last%% passed*}))
    f=${last#*passed, }
    E2E_FAILED=$((E2E_FAILED + ${f%% failed}))
    [ "${f%% failed}" -gt 0 ] && E2E_FAILURES+=("the catalogue under systemd: $f (listed above)")
fi

stop_container
check "the container stopped, its cgroups removed" test -z "$(comm -13 <(printf '%s\n' "$CGROUPS_BEFORE") <(cgroup_dirs))"
release_overlay
check "the overlay is unmounted" bash -c "! grep -qF ' $R ' /proc/mounts"
echo "suite wall time: $((SECONDS - t0)) s"
e2e_summary
