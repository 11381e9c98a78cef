#!/usr/bin/env bash
# The one command that installs what is missing, builds, and runs every test:
#   compose/test.sh            (preset dev: Debug, warnings as errors)
#   KEYLEDGER_PRESET=asan compose/test.sh   (asan or tsan; skips the fuzz stage)
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

# Sanitizer runs stop at the first report. TSan's suppressions cover only uninstrumented
# third-party code (librdkafka, RocksDB); tests/tsan.supp justifies each.
case $preset in
  asan) export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
        export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} ;;
  tsan) export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp} ;;
esac

step "running every test"
cd "$build_dir"
ctest --output-on-failure -j2 --timeout 900 --no-tests=error

# The libFuzzer targets (clang, ASan + UBSan), each for a bounded 20 s from its seed corpus; any
# finding fails the run. Only after the dev preset: KEYLEDGER_PRESET=asan or tsan runs skip it
# (the fuzz build is a sanitizer build of its own, and one such stage per CI run is enough).
if [[ $preset == dev ]]; then
  cd "$root"
  step "configuring (fuzz)"
  cmake --preset fuzz >/dev/null
  step "building the fuzz targets"
  cmake --build --preset fuzz
  step "running the fuzz targets"
  ctest --test-dir "$root/build/fuzz" -L fuzz -j2 --output-on-failure --no-tests=error
fi
step "done"
