#!/usr/bin/env bash
# The one command that installs what is missing, builds, and runs every test:
#   compose/test.sh            (preset dev: Debug, warnings as errors)
#   KEYLEDGER_PRESET=asan compose/test.sh
# ctest starts the real Kafka broker (fixture `kafka`) before the first test that needs it and
# stops it after the last; the trap below stops it too if the run is interrupted.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
preset=${KEYLEDGER_PRESET:-dev}
build_dir=$root/build/$preset
started=$(date +%s)

step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

step "installing missing packages"
bash "$root/compose/install-deps.sh"

step "fetching the Kafka broker (cached after the first run)"
bash "$root/compose/kafka/broker.sh" fetch

trap 'bash "$root/compose/kafka/broker.sh" stop "$build_dir/test-broker" >/dev/null 2>&1 || true' EXIT

step "configuring ($preset)"
cmake --preset "$preset" >/dev/null

step "building"
cmake --build --preset "$preset"

step "running every test"
cd "$build_dir"
ctest --output-on-failure -j2 --timeout 900 --no-tests=error
step "done"
