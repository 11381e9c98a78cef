#!/usr/bin/env bash
# One-shot: create the keyledger event topic on the three-broker cluster, make sure its settings
# are the ones the ledger needs, and fail loudly if an existing topic disagrees.
# Runs inside the apache/kafka image (the `topic-init` service of docker-compose.yml).
set -euo pipefail
bin=/opt/kafka/bin
bootstrap=${KAFKA_BOOTSTRAP:?KAFKA_BOOTSTRAP is required}
topic=${KEYLEDGER_TOPIC:-keyledger.key-events}
partitions=${TOPIC_PARTITIONS:-12}
replication=${TOPIC_REPLICATION_FACTOR:-3}
min_isr=${TOPIC_MIN_INSYNC_REPLICAS:-2}
attempts=${TOPIC_INIT_ATTEMPTS:-60}
# The admin tools are JVMs: keep them small.
export KAFKA_HEAP_OPTS=${TOPIC_INIT_HEAP_OPTS:--Xmx256m}

# Retention forever: the log is the system of record (no size or time limit, never compacted).
# min.insync.replicas=2 with RF 3: an acks=all write survives one broker loss, and the topic
# refuses writes rather than accepting them on a single copy.
configs=(--config "min.insync.replicas=$min_isr" --config retention.ms=-1
         --config retention.bytes=-1 --config cleanup.policy=delete
         --config unclean.leader.election.enable=false)

# Creating with RF 3 needs all three brokers registered; right after start some may still be
# joining, so retry.
for ((i = 1; ; i++)); do
  if "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --if-not-exists \
      --topic "$topic" --partitions "$partitions" --replication-factor "$replication" "${configs[@]}"; then
    break
  fi
  if ((i >= attempts)); then
    echo "topic-init: could not create $topic after $attempts attempts" >&2
    exit 1
  fi
  echo "topic-init: brokers not ready yet (attempt $i/$attempts), retrying in 5 s" >&2
  sleep 5
done

# --if-not-exists leaves an existing topic alone: apply the settings again (idempotent).
"$bin/kafka-configs.sh" --bootstrap-server "$bootstrap" --alter --entity-type topics \
  --entity-name "$topic" \
  --add-config "min.insync.replicas=$min_isr,retention.ms=-1,retention.bytes=-1,unclean.leader.election.enable=false"

# An existing topic with another partition count or replication factor cannot be fixed here
# (keys are partitioned by team; changing the count would move teams): refuse to go on.
description=$("$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --describe --topic "$topic")
echo "$description"
have_partitions=$(grep -c 'Partition: ' <<<"$description" || true)
if [[ $have_partitions != "$partitions" ]]; then
  echo "topic-init: $topic has $have_partitions partitions, expected $partitions" >&2
  exit 1
fi
bad_rf=$(awk -v want="$replication" '/Partition: / {
    for (i = 1; i <= NF; i++) if ($i == "Replicas:" && split($(i + 1), r, ",") != want) n++
  } END { print n + 0 }' <<<"$description")
if [[ $bad_rf != 0 ]]; then
  echo "topic-init: $bad_rf partition(s) of $topic do not have $replication replicas" >&2
  exit 1
fi
echo "topic-init: $topic ready ($partitions partitions, RF $replication, min.insync.replicas=$min_isr)"
