#!/usr/bin/env bash
# Runs every keyledger benchmark and writes one markdown table of its figures, each with the
# reference measured in the same run, the ratio, the target and whether it is met.
#
# Usage: bash bench/run_all.sh [--quick] [--out FILE] [--no-build]
#   --quick     small sizes (about 1.5 minutes), to check that everything runs; noisy figures
#   --out FILE  where to write the table (default bench/RESULTS.md)
#   --no-build  use build/release as it is instead of building the release preset first
# Environment: KEYLEDGER_BUILD_LOCK, a file the configure and the build hold with flock(1) so
# that builds sharing a small machine take turns (default /tmp/kl-build.lock).
#
# Every benchmark that needs Kafka gets a fresh private broker (compose/kafka/broker.sh), passed
# as KEYLEDGER_BOOTSTRAP and stopped after it. Each benchmark runs in its own process group, which
# is terminated, with the broker, on exit and on Ctrl-C. Benchmarks print RESULT lines
# (bench/bench_result.h) and bench_events writes Google Benchmark JSON; both become the table.
# Temporary files of the benchmarks go under one directory (TMPDIR), removed at the end.
set -euo pipefail
unset KEYLEDGER_BOOTSTRAP
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

mode=full
out=$root/bench/RESULTS.md
build=1
while (($#)); do
  case $1 in
    --quick) mode=quick ;;
    --out)
      [[ $# -ge 2 ]] || { echo "run_all: --out needs a file" >&2; exit 2; }
      out=$2
      shift
      ;;
    --no-build) build=0 ;;
    -h | --help)
      sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) echo "run_all: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "run_all: $*" >&2; exit 1; }
for tool in python3 curl java wrk setsid; do
  command -v "$tool" >/dev/null ||
    die "$tool is not installed (compose/install-deps.sh installs what the benchmarks need)"
done

release=$root/build/release
binaries=(cli/keyledger bench/bench_events bench/bench_ledger bench/bench_validator
  bench/bench_replay bench/bench_bare_http bench/bench_fail_closed)
started=$(date +%s)
elapsed() {  # the time since $1 (epoch seconds) as 1m05s
  local s=$(($(date +%s) - $1))
  printf '%dm%02ds' $((s / 60)) $((s % 60))
}

if ((build)); then
  command -v cmake >/dev/null || die "cmake is not installed"
  lock=${KEYLEDGER_BUILD_LOCK:-/tmp/kl-build.lock}
  locked=()
  if command -v flock >/dev/null; then locked=(flock "$lock"); fi
  targets=()
  for b in "${binaries[@]}"; do targets+=("$(basename "$b")"); done
  echo "== building the release preset (holding $lock)..."
  (cd "$root" && "${locked[@]}" cmake --preset release >/dev/null) ||
    die "cmake --preset release failed"
  (cd "$root" && "${locked[@]}" cmake --build --preset release --target "${targets[@]}") ||
    die "the release build failed"
  echo "   built in $(elapsed "$started")"
fi
for b in "${binaries[@]}"; do
  [[ -x $release/$b ]] || die "$release/$b is missing: build the release preset" \
    "(cmake --preset release && cmake --build --preset release) or drop --no-build"
done

if [[ $mode == quick ]]; then
  ledger_args=(--commands 5000 --events 20000)
  http_args=(2)
  validator_args=(50 2 100000 300000)
  events_args=(--benchmark_min_time=0.05)
  replay_args=(--events 20000)
  fail_closed_args=(--cuts 3)
  receipt_args=(50 2)
  usage_args=(10)
else
  ledger_args=(--commands 100000 --events 500000)
  http_args=(10)
  validator_args=(1000 10 1000000 3000000)
  events_args=()
  replay_args=(--events 1000000)
  fail_closed_args=(--cuts 10)
  receipt_args=(1000 10)
  usage_args=(60)
fi

work=$(mktemp -d /tmp/keyledger-run-all.XXXXXX)
logs=$work/logs
mkdir -p "$logs"
results=$work/results.txt
: >"$results"
child=""       # pid, and process group, of the running benchmark
broker_dir=""  # state of the running private broker
failed=()

stop_broker() {
  [[ -n $broker_dir ]] || return 0
  bash "$root/compose/kafka/broker.sh" stop "$broker_dir" >/dev/null 2>&1 || true
  rm -rf "$broker_dir"
  broker_dir=""
}
stop_child() {
  [[ -n $child ]] || return 0
  kill -TERM -- "-$child" 2>/dev/null || true
  for _ in $(seq 1 100); do  # its scripts stop their servers on TERM; give them 10 s
    kill -0 -- "-$child" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$child" 2>/dev/null || true
  wait "$child" 2>/dev/null || true
  child=""
}
cleanup() {
  local rc=$?
  stop_child
  stop_broker
  if ((rc == 0 && ${#failed[@]} == 0)); then
    rm -rf "$work"
  else
    rm -rf "$work/tmp"
    echo "run_all: logs kept in $logs" >&2
  fi
}
trap cleanup EXIT
trap 'echo; echo "run_all: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

# gbench_results JSON: Google Benchmark's output of bench_events as RESULT lines, with SHA-256 of
# the same event bytes as the reference.
gbench_results() {
  python3 - "$1" <<'PY'
import json, sys

runs = {b["name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"]
        if b.get("run_type", "iteration") == "iteration"}
ns_per = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
reference = runs.get("BM_Sha256OfEvent_Reference")
for name, rid, label, unit, with_reference in [
    ("BM_EncodeEvent", "events.encode", "events: encode one KeyCreated event", "events/s", True),
    ("BM_DecodeEvent", "events.decode", "events: decode one KeyCreated event", "events/s", True),
    ("BM_SecretFormatCheckAndHash", "secrets.check_hash",
     "secrets: format check + SHA-256 of one secret", "checks/s", False),
]:
    run = runs.get(name)
    if run is None:
        continue
    ns = run["real_time"] * ns_per[run.get("time_unit", "ns")]
    line = f'RESULT name={rid} label="{label}" value={run["items_per_second"]:.3f} unit={unit}'
    if with_reference and reference:
        line += (f' reference={reference["items_per_second"]:.3f}'
                 ' reference_label="SHA-256 of the same event bytes"'
                 f' ratio={run["items_per_second"] / reference["items_per_second"]:.4f}')
    print(line + f' detail="{ns:.0f} ns each"')
PY
}

# run NAME yes|no COMMAND...: runs one benchmark (with a private broker if the second argument is
# yes) in its own process group, shows its newest progress line and the elapsed time, and
# collects its RESULT lines (and those of the Google Benchmark JSON it wrote to $logs/NAME.json).
step=0
steps=8
run() {
  local name=$1 needs_broker=$2 since line shown="" quiet=0 rc=0
  shift 2
  step=$((step + 1))
  since=$(date +%s)
  echo "== [$step/$steps] $name: ${*#"$root"/}"
  if [[ $needs_broker == yes ]]; then
    broker_dir=$work/broker-$name
    if ! KEYLEDGER_BOOTSTRAP=$(bash "$root/compose/kafka/broker.sh" start "$broker_dir" \
        2>"$logs/$name.broker.log"); then
      echo "   FAILED: the private broker did not start (log: $logs/$name.broker.log)" >&2
      stop_broker
      failed+=("$name")
      return 0
    fi
    export KEYLEDGER_BOOTSTRAP
    echo "   private broker at $KEYLEDGER_BOOTSTRAP ($(elapsed "$since"))"
  fi
  mkdir -p "$work/tmp"
  TMPDIR=$work/tmp setsid "$@" >"$logs/$name.out" 2>"$logs/$name.err" &
  child=$!
  while kill -0 "$child" 2>/dev/null; do
    sleep 1
    quiet=$((quiet + 1))
    line=$(tail -n 1 "$logs/$name.err" 2>/dev/null | tr -d '\r' | cut -c1-100)
    if [[ -n $line && $line != "$shown" ]]; then
      echo "   [$(elapsed "$since")] $line"
      shown=$line
      quiet=0
    elif ((quiet >= 30)); then
      echo "   [$(elapsed "$since")] running..."
      quiet=0
    fi
  done
  wait "$child" || rc=$?
  child=""
  unset KEYLEDGER_BOOTSTRAP
  stop_broker
  if [[ -s $logs/$name.json ]]; then gbench_results "$logs/$name.json" >>"$logs/$name.out"; fi
  grep '^RESULT ' "$logs/$name.out" >>"$results" || true
  if ((rc != 0)); then
    echo "   FAILED (exit $rc) after $(elapsed "$since"); the end of its output:" >&2
    tail -n 15 "$logs/$name.err" "$logs/$name.out" >&2 || true
    failed+=("$name")
  else
    echo "   done in $(elapsed "$since"): $(grep -c '^RESULT ' "$logs/$name.out" || true) figures"
  fi
}

export KEYLEDGER_BENCH_NO_BUILD=1
run bench_events no "$release/bench/bench_events" "${events_args[@]}" \
  --benchmark_out="$logs/bench_events.json" --benchmark_out_format=json
run bench_ledger yes "$release/bench/bench_ledger" "${ledger_args[@]}"
run http_bench yes bash "$root/bench/http_bench.sh" "${http_args[@]}"
run validator_bench yes bash "$root/bench/validator_bench.sh" "${validator_args[@]}"
run bench_replay yes "$release/bench/bench_replay" "${replay_args[@]}"
# Starts its own broker, with the CUT listener its proxy needs.
run bench_fail_closed no "$release/bench/bench_fail_closed" "${fail_closed_args[@]}"
run receipt_bench yes bash "$root/bench/receipt_bench.sh" "${receipt_args[@]}"
run usage_bench yes bash "$root/bench/usage_bench.sh" "${usage_args[@]}"

# The table.
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
# Only source changes count: an earlier run's bench/RESULTS.md is this script's own output.
if [[ -n $(git -C "$root" status --porcelain --untracked-files=no -- . ':!bench/RESULTS.md' 2>/dev/null) ]]; then
  commit="$commit (with uncommitted changes in the tree)"
fi
cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
sizes="bench_ledger ${ledger_args[*]}; bench/http_bench.sh ${http_args[*]};"
sizes+=" bench/validator_bench.sh ${validator_args[*]};"
sizes+=" bench_events ${events_args[*]:-(default times)}; bench_replay ${replay_args[*]};"
sizes+=" bench_fail_closed ${fail_closed_args[*]}; bench/receipt_bench.sh ${receipt_args[*]};"
sizes+=" bench/usage_bench.sh ${usage_args[*]}"
mkdir -p "$(dirname "$out")"
python3 - "$results" "$out" "$(date '+%Y-%m-%d %H:%M %Z')" \
  "$(nproc) cores, ${cpu:-unknown CPU}, $(uname -sr)" "$commit" "$mode" "$sizes" \
  "$(elapsed "$started")" "${failed[*]:-}" <<'PY'
import shlex, sys

results, out, date, machine, commit, mode, sizes, wall, failed = sys.argv[1:10]


def num(x):
    if abs(x) >= 1000 or x == int(x):
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def amount(x, unit):
    return f"{num(x)}/s" if unit.endswith("/s") else f"{num(x)} {unit}"


rows = []
for line in open(results):
    r = dict(token.split("=", 1) for token in shlex.split(line)[1:])
    value, unit = float(r["value"]), r["unit"]
    figure = amount(value, unit) + (f" ({r['detail']})" if r.get("detail") else "")
    reference = ratio = "-"
    measured = {"value": value}
    if "reference" in r:
        ref = float(r["reference"])
        reference = amount(ref, unit)
        if r.get("reference_label"):
            reference += f" ({r['reference_label']})"
        if ref > 0:
            measured["ratio"] = value / ref
            ratio = f"{value / ref:.2f}"
    target = met = "-"
    if r.get("target"):
        what, op, bound = r["target"].split()
        bound = float(bound)
        target = f"ratio {op} {bound:g}" if what == "ratio" else f"{op} {amount(bound, unit)}"
        if what in measured:
            ok = measured[what] >= bound if op == ">=" else measured[what] <= bound
            met = "met" if ok else "**not met**"
        else:
            met = "?"
    rows.append(f"| {r['label']} | {figure} | {reference} | {ratio} | {target} | {met} |")

lines = [
    "# keyledger benchmark results",
    "",
    "Written by `bash bench/run_all.sh" + (" --quick" if mode == "quick" else "") + "`. Every "
    "reference was measured in the same run on the same machine; ratio = keyledger / reference.",
    "",
    f"- date: {date}",
    f"- machine: {machine}",
    f"- commit: {commit}",
    f"- mode: {mode} ({sizes})",
    f"- wall time: {wall}",
]
if mode == "quick":
    lines.append("- quick mode: small sizes that check the suite runs; the figures are not comparable")
if failed:
    lines.append(f"- **failed: {failed}** (their figures are missing below)")
lines += [
    "",
    "| benchmark | figure | reference (same run) | ratio | target | met? |",
    "|---|---|---|---|---|---|",
    *rows,
    "",
]
with open(out, "w") as f:
    f.write("\n".join(lines))
PY
echo "== wrote $out in $(elapsed "$started")"
cat "$out"
((${#failed[@]} == 0)) || die "failed: ${failed[*]}"
