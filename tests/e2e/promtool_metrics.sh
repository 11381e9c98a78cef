#!/usr/bin/env bash
# Every /metrics keyledger serves passes `promtool check metrics` (Prometheus' own linter: HELP and
# TYPE on every family, names and units by its conventions), and carries the standard process
# metrics. Starts serve and a validator on the test broker, scrapes both, stops both.
#   promtool_metrics.sh KEYLEDGER_BINARY WORK_DIR
set -euo pipefail
bin=$1
work=$2
command -v promtool >/dev/null || { echo "promtool is missing (Debian package prometheus; compose/install-deps.sh)"; exit 1; }
bootstrap=${KEYLEDGER_BOOTSTRAP:-$(cat "$KEYLEDGER_BROKER_DIR/bootstrap")}
rm -rf "$work"
mkdir -p "$work"
topic="keyledger.e2e.promtool.$$.$RANDOM"
pids=()
trap 'for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null || true' EXIT
"$bin" serve --bootstrap "$bootstrap" --topic "$topic" --partitions 2 --db "$work/db" --listen 127.0.0.1:0 \
  --port-file "$work/api.port" --jwt-secret promtool-secret-0123456789abcdef0123 >"$work/api.log" 2>&1 &
pids+=($!)
wait_file() {
  for _ in $(seq 1 600); do [[ -s $1 ]] && return 0; sleep 0.1; done
  echo "no $1"; tail -20 "$work"/*.log; exit 1
}
wait_file "$work/api.port"
# The validator's /metrics is on its admin listener.
"$bin" validator --bootstrap "$bootstrap" --topic "$topic" --listen 127.0.0.1:0 --port-file "$work/validator.check.port" \
  --admin-listen 127.0.0.1:0 --admin-port-file "$work/validator.port" >"$work/validator.log" 2>&1 &
pids+=($!)
wait_file "$work/validator.port"
status=0
for name in api validator; do
  port=$(cat "$work/$name.port")
  # One request first, so that the request metrics have series.
  curl -s -o /dev/null "http://127.0.0.1:$port/healthz"
  curl -sf "http://127.0.0.1:$port/metrics" >"$work/$name.metrics"
  if ! promtool check metrics <"$work/$name.metrics" >"$work/$name.promtool" 2>&1; then
    echo "promtool finds problems in the $name's /metrics:"
    cat "$work/$name.promtool"
    status=1
  fi
  for family in process_cpu_seconds_total process_resident_memory_bytes process_open_fds process_start_time_seconds; do
    grep -q "^# TYPE $family " "$work/$name.metrics" || { echo "the $name's /metrics lacks $family"; status=1; }
  done
done
[[ $status -eq 0 ]] && echo "promtool: the API's and the validator's /metrics are clean"
exit $status
