#!/usr/bin/env bash
# `serve` and `validator` turn core dumps off at start (a core would hold recently issued and
# presented secrets): their RLIMIT_CORE is 0 even when the shell allows cores, unless
# --allow-core-dumps is given. Needs no broker: both are inspected while they try to reach one.
#   core_dumps.sh KEYLEDGER_BINARY WORK_DIR
set -euo pipefail
bin=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)"
parent_limit=$(ulimit -c)
if [[ $parent_limit == 0 ]]; then
  echo "FAIL: this shell cannot allow core dumps (hard limit 0), so the test cannot tell"
  exit 1
fi
failures=0
core_limit() {  # soft "Max core file size" of a running process
  awk '/^Max core file size/ {print $5}' "/proc/$1/limits"
}
check() {  # name want(0|nonzero) command...
  local name=$1 want=$2
  shift 2
  "$@" >"$work/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  local got=""
  for _ in $(seq 1 50); do
    sleep 0.1
    got=$(core_limit "$pid" 2>/dev/null || true)
    [[ $want == 0 && $got == 0 ]] && break
  done
  if [[ $want == 0 && $got != 0 ]] || [[ $want != 0 && ($got == 0 || -z $got) ]]; then
    echo "FAIL $name: core limit '$got', want $want"
    failures=$((failures + 1))
  else
    echo "ok   $name: core limit $got"
  fi
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
nowhere=127.0.0.1:1
check "validator, default" 0 "$bin" validator --bootstrap $nowhere --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0
check "validator, --allow-core-dumps" nonzero "$bin" validator --bootstrap $nowhere --listen 127.0.0.1:0 \
  --admin-listen 127.0.0.1:0 --allow-core-dumps
check "serve, default" 0 "$bin" serve --bootstrap $nowhere --db "$work/db1" --listen 127.0.0.1:0 \
  --jwt-secret core-dump-test-secret-0123456789abcdef
check "serve, --allow-core-dumps" nonzero "$bin" serve --bootstrap $nowhere --db "$work/db2" --listen 127.0.0.1:0 \
  --jwt-secret core-dump-test-secret-0123456789abcdef --allow-core-dumps
((failures == 0)) || { echo "core dumps: $failures failure(s)"; exit 1; }
echo "core dumps: off by default in serve and validator"
