#!/usr/bin/env bash
# The one command that installs what is missing, builds, and runs every test, in stages:
#   dev    Debug, warnings as errors: every test (unit, integration, e2e, fault campaign, console)
#   fuzz   the libFuzzer targets (clang, ASan + UBSan), 20 s each from their seed corpora
#   asan   the same suite built with ASan + UBSan
#   tsan   the same suite built with TSan
#   compose/test.sh                          all four: dev, fuzz, asan, tsan (what CI runs)
#   KEYLEDGER_STAGES="dev fuzz" compose/test.sh   some of them
#   KEYLEDGER_PRESET=asan compose/test.sh    one suite stage (asan or tsan; no fuzz stage)
# ctest starts the real Kafka broker (fixture `kafka`) before the first test that needs it and
# stops it after the last; the trap below stops it too if the run is interrupted. The run stops at
# the first stage that fails, and prints each stage's time.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -n ${KEYLEDGER_PRESET:-} ]]; then
  stages=${KEYLEDGER_STAGES:-$KEYLEDGER_PRESET}
else
  stages=${KEYLEDGER_STAGES:-dev fuzz asan tsan}
fi
for stage in $stages; do
  case $stage in
    dev|asan|tsan|fuzz) ;;
    *) echo "compose/test.sh: unknown stage '$stage' (dev, asan, tsan or fuzz)" >&2; exit 2 ;;
  esac
done
# Tests run four at a time on two cores: most of them wait on the broker, on a server or on a
# deadline, not on the CPU (at -j2 the dev suite's wall time was its tests' summed times halved,
# with the CPU a third idle). KEYLEDGER_TEST_JOBS sets another count.
test_jobs=${KEYLEDGER_TEST_JOBS:-4}
[[ $test_jobs =~ ^[1-9][0-9]*$ ]] || { echo "compose/test.sh: KEYLEDGER_TEST_JOBS must be a positive integer, not '$test_jobs'" >&2; exit 2; }
started=$(date +%s)
declare -a times=()

step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

step "installing missing packages"
bash "$root/compose/install-deps.sh"

step "fetching the Kafka broker (cached after the first run)"
bash "$root/compose/kafka/broker.sh" fetch

brokers=()
trap 'for d in "${brokers[@]}"; do bash "$root/compose/kafka/broker.sh" stop "$d" >/dev/null 2>&1 || true; done' EXIT

# One suite stage: configure and build the preset, then every test under its options.
suite() {
  local preset=$1 build_dir=$root/build/$1
  brokers+=("$build_dir/test-broker")
  step "configuring ($preset)"
  cmake --preset "$preset" >/dev/null
  step "building ($preset)"
  cmake --build --preset "$preset"
  # Sanitizer runs stop at the first report. TSan's suppressions cover only uninstrumented
  # third-party code (librdkafka, RocksDB); tests/tsan.supp justifies each. disable_coredump=0:
  # the sanitizers would otherwise set every process's core limit to 0 themselves, and
  # tests/e2e/core_dumps.sh checks that serve and validator do that (and only that) on their own.
  case $preset in
    asan) export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:disable_coredump=0}
          export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} ;;
    tsan) export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:disable_coredump=0:suppressions=$root/tests/tsan.supp} ;;
  esac
  step "running every test ($preset)"
  (cd "$build_dir" && ctest --output-on-failure -j"$test_jobs" --timeout 900 --no-tests=error)
}

# The libFuzzer targets, each for a bounded 20 s from its seed corpus; any finding fails the run.
fuzz() {
  step "configuring (fuzz)"
  cmake --preset fuzz >/dev/null
  step "building the fuzz targets"
  cmake --build --preset fuzz
  step "running the fuzz targets"
  ctest --test-dir "$root/build/fuzz" -L fuzz -j2 --output-on-failure --no-tests=error
}

cd "$root"
for stage in $stages; do
  stage_start=$(date +%s)
  if [[ $stage == fuzz ]]; then fuzz; else suite "$stage"; fi
  times+=("$stage $(($(date +%s) - stage_start)) s")
done
step "done"
printf 'stage times: %s\n' "$(IFS=,; echo "${times[*]}" | sed 's/,/, /g')"
