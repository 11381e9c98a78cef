# Sourced by the benchmark scripts: a work directory, the processes they start, and one cleanup
# (on exit and on Ctrl-C or TERM) that stops those processes and the private broker.
#   bench_begin NAME      sets $root, $work, $bin and the traps
#   bench_track PID       stops PID at cleanup
#   bench_bootstrap       $KEYLEDGER_BOOTSTRAP, or a private broker started under $work
#   wait_file FILE        waits until FILE is not empty (60 s), else exits 1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$root/build/release/cli/keyledger
pids=()

bench_cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash "$root/compose/kafka/broker.sh" stop "$work/broker" >/dev/null 2>&1 || true
  rm -rf "$work"
}

bench_begin() {
  work=$(mktemp -d "/tmp/keyledger-$1.XXXXXX")
  trap bench_cleanup EXIT
  # A signal otherwise ends the shell without the EXIT trap while wrk runs in a command substitution.
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

bench_track() { pids+=("$1"); }

bench_bootstrap() {
  if [[ -n ${KEYLEDGER_BOOTSTRAP:-} ]]; then
    echo "$KEYLEDGER_BOOTSTRAP"
  else
    bash "$root/compose/kafka/broker.sh" start "$work/broker" 2>/dev/null
  fi
}

wait_file() {
  for _ in $(seq 1 600); do [[ -s $1 ]] && return 0; sleep 0.1; done
  echo "no $1" >&2
  exit 1
}
