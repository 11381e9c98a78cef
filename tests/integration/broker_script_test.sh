#!/usr/bin/env bash
# The broker scripts work twice in a row, survive a stale pid file and a SIGKILLed broker, and
# leave no process or data behind.
set -euo pipefail
script=$1
dir=$2
rm -rf "$dir"
fail() { echo "FAIL: $*" >&2; "$script" stop "$dir" >/dev/null 2>&1 || true; exit 1; }
trap '"$script" stop "$dir" >/dev/null 2>&1 || true' EXIT

for round in 1 2; do
  bootstrap=$("$script" start "$dir") || fail "start round $round"
  [[ $bootstrap =~ ^127\.0\.0\.1:[0-9]+$ ]] || fail "bootstrap '$bootstrap' is not on loopback"
  kcat -b "$bootstrap" -L -m 10 >/dev/null || fail "metadata request failed in round $round"
  pid=$(cat "$dir/pid")
  "$script" stop "$dir" || fail "stop round $round"
  ! kill -0 "$pid" 2>/dev/null || fail "broker pid $pid still alive after stop"
  [[ ! -e $dir/pid && ! -e $dir/data ]] || fail "stop left pid file or data behind"
done

# A broker killed hard leaves a stale pid file; the next start must notice and replace it.
"$script" start "$dir" >/dev/null || fail "start before kill"
pid=$(cat "$dir/pid")
kill -KILL "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
"$script" status "$dir" >/dev/null && fail "status says running after SIGKILL"
bootstrap=$("$script" start "$dir") || fail "start over a stale pid file"
kcat -b "$bootstrap" -L -m 10 >/dev/null || fail "metadata after restart"
"$script" stop "$dir" || fail "final stop"

# A pid file naming an unrelated live process (our own shell) is not mistaken for the broker.
echo $$ >"$dir/pid"
"$script" status "$dir" >/dev/null && fail "status trusted a foreign pid"
"$script" stop "$dir" >/dev/null || fail "stop with a foreign pid"
kill -0 $$ || fail "stop killed a foreign process"
echo "broker script lifecycle: ok"
