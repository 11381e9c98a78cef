#!/usr/bin/env bash
# Starts the local keyledger stack on loopback and prints how to use it; Ctrl-C stops it all.
# Components start as they exist in this checkout (see README "Status").
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${KEYLEDGER_STACK_DIR:-${TMPDIR:-/tmp}/keyledger-stack}
mkdir -p "$state"

bash "$root/compose/install-deps.sh"
bash "$root/compose/kafka/broker.sh" fetch

stop_all() {
  echo
  echo "stopping the stack..."
  bash "$root/compose/kafka/broker.sh" stop "$state/broker" || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

bootstrap=$(bash "$root/compose/kafka/broker.sh" start "$state/broker")

cat <<MSG

keyledger local stack is up (state in $state):
  Kafka broker (KRaft, single node)   $bootstrap

  Inspect the cluster:   kcat -b $bootstrap -L
  Watch key events:      kcat -b $bootstrap -C -t keyledger.key-events -X isolation.level=read_committed

The admin API, projector and validator join this stack as they are built (see README, Status).
Press Ctrl-C to stop everything.
MSG

while bash "$root/compose/kafka/broker.sh" status "$state/broker" >/dev/null; do sleep 2; done
echo "the broker exited; see $state/broker/server.log" >&2
exit 1
