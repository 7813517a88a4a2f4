#!/usr/bin/env bash
# Every catalogue recipe that has a test description (recipes/tests/NAME.toml)
# under runit: the catalogue's rootfs (the one catalogue_systemd.sh boots),
# with runsvdir as PID 1 of its own PID, mount and network namespaces, over
# /etc/service. Each recipe is installed there with `initkit install --target
# runit`, driven with `initkit` and sv through the same steps as under SysV
# and systemd (start, instances side by side, reload, the config-test gate,
# restart, stop, kill -9 restarted by runsv, uninstall), several recipes at a
# time. The harness: tests/e2e/catalogue.py and catalogue_runit.py.
# Usage: tests/e2e/catalogue_runit.sh [PATH-TO-INITKIT] [--jobs N] [-v] [NAME...]   (as root)
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
suite_initkit "$here" "$@"
shift "$SUITE_SHIFT"

[ "$(id -u)" = 0 ] || { echo "the catalogue suite under runit needs root"; exit 1; }
for tool in mmdebstrap unshare nsenter ip python3; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: .ci/run installs it"; exit 1; }
done
[ -x "$INITKIT" ] || { echo "no initkit at $initkit"; exit 1; }

PACKAGES=$(catalogue_packages "$here") || { echo "cannot read the test descriptions"; exit 1; }
NS_PID=
runit_cleanup() {
    stop_namespace
    release_overlay
    [ -n "${WORK:-}" ] && rm -rf -- "$WORK"
    e2e_cleanup
}
trap runit_cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

t0=$SECONDS
prepare_overlay "$CATALOGUE_CACHE" "$PACKAGES" catalogue-runit
mkdir -p "$R/srv/initkit-cat/tests"
cp -a "$here/../../recipes/tests/." "$R/srv/initkit-cat/tests/"
chmod -R a+rX "$R/srv/initkit-cat"
# The scan directory starts empty: only what the harness installs runs.
mkdir -p "$R/etc/service"
find "$R/etc/service" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +

echo "== runsvdir as PID 1, once for every recipe"
# In namespaces of its own: the rootfs bound onto itself (a trial start's
# mount namespace needs / to be a mount point), its own /proc, /sys, /run,
# /tmp and /dev/shm, the host's /dev, and a network with only the loopback.
# shellcheck disable=SC2016 # the quoted script runs inside the namespaces
unshare --pid --mount --net --fork --kill-child sh -c '
    r=$1
    mount --bind "$r" "$r" && mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
        mount --rbind /dev "$r/dev" && mount -t tmpfs -o mode=1777 tmpfs "$r/dev/shm" &&
        mount -t tmpfs -o mode=755 tmpfs "$r/run" && mount -t tmpfs -o mode=1777 tmpfs "$r/tmp" &&
        mkdir -p "$r/run/lock" && ip link set lo up || exit 1
    exec chroot "$r" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin runsvdir -P /etc/service' \
    initkit "$R" >"$WORK/runsvdir.out" 2>&1 &
NS_PID=$!
L=
if wait_until 20 bash -c "p=\$(pgrep -P $NS_PID) && [ \"\$(cat /proc/\$p/comm)\" = runsvdir ]"; then
    L=$(pgrep -P "$NS_PID" | head -1)
    pass "runsvdir runs as PID 1 of the namespaces (host PID $L) after $((SECONDS - t0)) s"
else
    fail "runsvdir runs" "$(tail -5 "$WORK/runsvdir.out")"; e2e_summary; exit 1
fi

echo "== the catalogue under runit"
python3 "$here/catalogue.py" --initkit "$INITKIT" --target runit --container-leader "$L" --container-root "$R" \
    --jobs "${CATALOGUE_JOBS:-3}" "$@" | tee "$WORK/harness.log"
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$WORK/harness.log" | tail -1)
if [ -z "$last" ]; then fail "the harness printed its result line"; else
    E2E_PASSED=$((E2E_PASSED + ${last%% passed*}))
    f=${last#*passed, }
    E2E_FAILED=$((E2E_FAILED + ${f%% failed}))
    [ "${f%% failed}" -gt 0 ] && E2E_FAILURES+=("the catalogue under runit: $f (listed above)")
fi

stop_namespace
check "the namespaces ended: their PID 1 is gone" gone "$L"
release_overlay
check "the overlay is unmounted" bash -c "! grep -qF ' $R ' /proc/mounts"
echo "suite wall time: $((SECONDS - t0)) s"
e2e_summary
