#!/usr/bin/env bash
# Fetches, starts and stops a single-node Apache Kafka broker (KRaft, combined mode) on loopback.
#
#   broker.sh fetch            download the broker jars into the cache (once; offline afterwards)
#   broker.sh start [DIR]      start a fresh broker whose state lives in DIR; prints the bootstrap
#   broker.sh stop  [DIR]      SIGTERM (controlled shutdown), SIGKILL after a timeout, remove state
#   broker.sh status [DIR]     exit 0 when the broker of DIR is running
#   broker.sh kill   [DIR]     SIGKILL the broker, keep its data and ports (a crash, for tests)
#   broker.sh resume [DIR]     start the broker of DIR again on the same ports with the same data
#
# DIR defaults to $KEYLEDGER_BROKER_DIR or ${TMPDIR:-/tmp}/keyledger-broker. After start, DIR holds
# `bootstrap` (host:port), `pid`, `server.log`. The jar cache is $KEYLEDGER_CACHE/kafka-<version>
# (default ~/.cache/keyledger). Ports are picked free at start unless KEYLEDGER_BROKER_PORT and
# KEYLEDGER_CONTROLLER_PORT are set.
# KEYLEDGER_BROKER_CUT_ADVERTISED=HOST:PORT adds a second listener, CUT, on a free port (written
# to DIR/cut_port) that advertises HOST:PORT: a TCP proxy the caller owns there, so that a client
# bootstrapped through the proxy reaches the broker only through it and closing it cuts that
# client alone off (tests/support/tcp_proxy.h).
set -euo pipefail

KAFKA_VERSION=3.9.1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${KEYLEDGER_CACHE:-$HOME/.cache/keyledger}
lib_dir=$cache_root/kafka-$KAFKA_VERSION/lib
start_timeout=${KEYLEDGER_BROKER_START_TIMEOUT:-120}
stop_timeout=${KEYLEDGER_BROKER_STOP_TIMEOUT:-30}

log() { printf 'broker: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

instance_dir() {
  local dir=${1:-${KEYLEDGER_BROKER_DIR:-${TMPDIR:-/tmp}/keyledger-broker}}
  mkdir -p "$dir"
  (cd "$dir" && pwd)
}

fetch() {
  if [[ -f $lib_dir/.complete ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "maven is not installed (run compose/install-deps.sh)"
  log "fetching Apache Kafka $KAFKA_VERSION from Maven Central into $lib_dir"
  rm -rf "$lib_dir"
  mkdir -p "$lib_dir"
  local mvn_log=$cache_root/kafka-$KAFKA_VERSION/fetch.log
  if ! mvn -B -q -f "$here/pom.xml" -Dbroker.lib.dir="$lib_dir" package >"$mvn_log" 2>&1; then
    tail -n 30 "$mvn_log" >&2
    die "maven could not fetch the broker jars (log: $mvn_log)"
  fi
  # The pom writes into target/ beside itself; it holds nothing we need.
  rm -rf "$here/target"
  [[ -f $lib_dir/kafka_2.13-$KAFKA_VERSION.jar ]] || die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"
  touch "$lib_dir/.complete"
  log "fetched $(ls "$lib_dir" | wc -l) jars"
}

# The pid in DIR/pid if that process is alive and is this instance's broker.
running_pid() {
  local dir=$1 pid
  [[ -f $dir/pid ]] || return 1
  pid=$(cat "$dir/pid" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$dir/server.properties" || return 1
  echo "$pid"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

java_cmd() {
  local dir=$1
  shift
  java -Xms64m -Xmx${KEYLEDGER_BROKER_HEAP:-512m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$dir/log4j.properties" \
    -Dkafka.logs.dir="$dir" -cp "$lib_dir/*" "$@"
}

start() {
  local dir pid port cport cluster_id
  dir=$(instance_dir "${1:-}")
  fetch
  if pid=$(running_pid "$dir"); then
    log "already running (pid $pid) at $(cat "$dir/bootstrap")"
    cat "$dir/bootstrap"
    return 0
  fi
  if [[ -f $dir/pid ]]; then
    log "removing stale pid file $dir/pid"
  fi
  rm -rf "$dir/data" "$dir/pid" "$dir/bootstrap" "$dir/server.log" "$dir/format.log"
  port=${KEYLEDGER_BROKER_PORT:-$(free_port)}
  cport=${KEYLEDGER_CONTROLLER_PORT:-$(free_port)}
  while [[ $cport == "$port" ]]; do cport=$(free_port); done

  local cut_listener="" cut_advertised="" cut_map=""
  rm -f "$dir/cut_port"
  if [[ -n ${KEYLEDGER_BROKER_CUT_ADVERTISED:-} ]]; then
    [[ $KEYLEDGER_BROKER_CUT_ADVERTISED =~ ^[0-9.]+:[0-9]+$ ]] ||
      die "KEYLEDGER_BROKER_CUT_ADVERTISED must be HOST:PORT, not '$KEYLEDGER_BROKER_CUT_ADVERTISED'"
    local cut_port
    cut_port=$(free_port)
    while [[ $cut_port == "$port" || $cut_port == "$cport" ]]; do cut_port=$(free_port); done
    cut_listener=",CUT://127.0.0.1:$cut_port"
    cut_advertised=",CUT://$KEYLEDGER_BROKER_CUT_ADVERTISED"
    cut_map=",CUT:PLAINTEXT"
    echo "$cut_port" >"$dir/cut_port"
  fi

  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport$cut_listener
advertised.listeners=PLAINTEXT://127.0.0.1:$port$cut_advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT$cut_map
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.cleaner.dedupe.buffer.size=2097152
num.network.threads=2
num.io.threads=2
log.retention.hours=-1
log.segment.bytes=268435456
PROPS

  cat >"$dir/log4j.properties" <<LOG4J
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
LOG4J

  cluster_id=$(java_cmd "$dir" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
  [[ -n $cluster_id ]] || die "StorageTool random-uuid printed nothing"
  if ! java_cmd "$dir" kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$dir/server.properties" --ignore-formatted >"$dir/format.log" 2>&1; then
    tail -n 20 "$dir/format.log" >&2
    die "formatting KRaft storage failed"
  fi

  launch "$dir" "$port"
}

# Starts the broker configured in DIR and waits until it serves requests.
launch() {
  local dir=$1 port=$2 pid
  # setsid: the broker must not receive the terminal's Ctrl-C before we stop it in order.
  setsid java -Xms128m -Xmx${KEYLEDGER_BROKER_HEAP:-512m} -XX:+UseSerialGC \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$dir/log4j.properties" \
    -Dkafka.logs.dir="$dir" -cp "$lib_dir/*" kafka.Kafka "$dir/server.properties" \
    >"$dir/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/pid"

  local waited=0
  until grep -q 'Kafka Server started' "$dir/server.log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "broker exited during start; last lines of its log:"
      tail -n 40 "$dir/server.log" "$dir/stdout.log" >&2 2>/dev/null || true
      rm -f "$dir/pid"
      die "broker failed to start"
    fi
    if ((waited >= start_timeout * 5)); then
      log "broker not ready after ${start_timeout}s; last lines of its log:"
      tail -n 40 "$dir/server.log" "$dir/stdout.log" >&2 2>/dev/null || true
      stop "$dir" >/dev/null 2>&1 || true
      die "broker start timed out"
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  echo "127.0.0.1:$port" >"$dir/bootstrap"
  if command -v kcat >/dev/null; then
    if ! kcat -b "127.0.0.1:$port" -L -m 10 >/dev/null 2>&1; then
      stop "$dir" >/dev/null 2>&1 || true
      die "broker started but a librdkafka metadata request failed"
    fi
  fi
  log "started (pid $pid) at 127.0.0.1:$port, state in $dir"
  echo "127.0.0.1:$port"
}

kill_hard() {
  local dir pid
  dir=$(instance_dir "${1:-}")
  pid=$(running_pid "$dir") || { log "not running"; return 0; }
  kill -KILL "$pid"
  while [[ -e /proc/$pid ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$dir/server.properties"; do
    sleep 0.05
  done
  log "killed (pid $pid), data kept in $dir/data"
}

resume() {
  local dir pid port
  dir=$(instance_dir "${1:-}")
  if pid=$(running_pid "$dir"); then
    log "already running (pid $pid)"
    return 0
  fi
  [[ -f $dir/server.properties && -d $dir/data ]] || die "nothing to resume in $dir"
  port=$(sed -n 's|^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*|\1|p' "$dir/server.properties")
  rm -f "$dir/pid"
  mv -f "$dir/server.log" "$dir/server.log.prev" 2>/dev/null || true
  launch "$dir" "$port"
}

stop() {
  local dir pid
  dir=$(instance_dir "${1:-}")
  if ! pid=$(running_pid "$dir"); then
    [[ -f $dir/pid ]] && log "removing stale pid file $dir/pid"
    rm -rf "$dir/pid" "$dir/bootstrap" "$dir/data"
    log "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= stop_timeout * 10)); then
      log "no exit after ${stop_timeout}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  # Reap if we are its parent; otherwise wait for /proc to drop it.
  while [[ -e /proc/$pid ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$dir/server.properties"; do
    sleep 0.1
  done
  rm -rf "$dir/pid" "$dir/bootstrap" "$dir/data"
  log "stopped (pid $pid)"
}

status() {
  local dir pid
  dir=$(instance_dir "${1:-}")
  if pid=$(running_pid "$dir"); then
    echo "running pid $pid at $(cat "$dir/bootstrap" 2>/dev/null)"
  else
    echo "not running"
    return 1
  fi
}

case ${1:-} in
  fetch) fetch ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  status) status "${2:-}" ;;
  kill) kill_hard "${2:-}" ;;
  resume) resume "${2:-}" ;;
  *) echo "usage: $0 fetch|start|stop|status|kill|resume [DIR]" >&2; exit 2 ;;
esac
