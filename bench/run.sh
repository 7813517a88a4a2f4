#!/usr/bin/env bash
# Builds initkit and runs the benchmark (root, Debian, daemons installed).
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
exec python3 bench/bench.py "${CARGO_TARGET_DIR:-target}/release/initkit"
