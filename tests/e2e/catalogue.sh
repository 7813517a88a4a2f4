#!/usr/bin/env bash
# Every catalogue recipe that has a test description (recipes/tests/NAME.toml)
# rendered for SysV and driven for real on this host: start, instances side by
# side, reload, the config-test gate, restart, stop, kill -9, cleanup.
# The harness and the description format: tests/e2e/catalogue.py.
# Usage: tests/e2e/catalogue.sh [PATH-TO-INITKIT] [--recipes DIR] [--port-base N]
#        [--timeout S] [-v] [NAME...]   (as root; the daemons' packages installed:
#        apt-get install $(tests/e2e/catalogue.py --list-packages))
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
suite_initkit "$here" "$@"
shift "$SUITE_SHIFT"

if [ "$(id -u)" != 0 ]; then echo "the catalogue suite needs root"; exit 1; fi
if [ -d /run/systemd/system ]; then echo "/run/systemd/system exists: refusing to run SysV tests here"; exit 1; fi
command -v python3 >/dev/null || { echo "python3 is missing: .ci/run installs it"; exit 1; }

exec python3 "$here/catalogue.py" --initkit "$initkit" "$@"
