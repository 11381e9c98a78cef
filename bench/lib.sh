# Sourced by the benchmark scripts: a work directory, the processes they start, and one cleanup
# (on exit and on Ctrl-C or TERM) that stops those processes and the private broker.
#   bench_begin NAME      sets $root, $work, $bin and the traps
#   bench_track PID       stops PID at cleanup
#   bench_bootstrap       $KEYLEDGER_BOOTSTRAP, or a private broker started under $work
#   wait_file FILE        waits until FILE is not empty (60 s), else exits 1
#   bench_serve BOOTSTRAP starts `keyledger serve` on a free port with $secret as its JWT secret
#                         and no command rate limit; sets $api_port and $token (an owner of
#                         team-acme; log: $work/api.log)
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

secret=bench-secret-0123456789abcdef0123456789
bench_serve() {
  "$bin" serve --bootstrap "$1" --db "$work/db" --listen 127.0.0.1:0 --port-file "$work/api.port" \
    --jwt-secret "$secret" --commands-per-second 1000000 >"$work/api.log" 2>&1 &
  bench_track $!
  wait_file "$work/api.port"
  api_port=$(cat "$work/api.port")
  token=$("$bin" token --jwt-secret "$secret" --sub bench --name Bench --team team-acme --role owner)
}
