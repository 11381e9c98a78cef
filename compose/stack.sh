#!/usr/bin/env bash
# Starts the local keyledger stack on 127.0.0.1 and prints how to use it; Ctrl-C stops it all.
#   broker   Apache Kafka 3.9.1, single node, KRaft (compose/kafka/broker.sh)
#   api        keyledger serve: admin API + writer + projector (RocksDB under the state dir)
#   validator  keyledger validator: the secret check for gateways (nginx auth_request, Caddy, Envoy)
#   console    the Manage Model Access Keys page, served by the API under /console/ (development
#              sign-in on: this stack is for development only)
# Every start begins with an empty log. Environment: KEYLEDGER_STACK_DIR (state, default
# /tmp/keyledger-stack), KEYLEDGER_API_PORT
# (default 8080), KEYLEDGER_JWT_SECRET (default: a random development secret).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${KEYLEDGER_STACK_DIR:-${TMPDIR:-/tmp}/keyledger-stack}
api_port=${KEYLEDGER_API_PORT:-8080}
validator_port=${KEYLEDGER_VALIDATOR_PORT:-8081}
validator_admin_port=${KEYLEDGER_VALIDATOR_ADMIN_PORT:-8082}
mkdir -p "$state"

bash "$root/compose/install-deps.sh"
bash "$root/compose/kafka/broker.sh" fetch
echo "building keyledger (release preset; the first build takes a few minutes on 2 cores)..."
cmake --preset release >/dev/null
# Ninja's [done/total] lines show the build's progress.
cmake --build --preset release --target keyledger
bin=$root/build/release/cli/keyledger
echo "building the console (npm ci and vite; the first install downloads its pinned packages)..."
(cd "$root/console" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null &&
  npm run --silent build >/dev/null) || { echo "the console did not build (cd console && npm ci && npm run build)" >&2; exit 1; }

pids=()
stop_all() {
  trap - EXIT INT TERM
  echo
  echo "stopping the stack..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  bash "$root/compose/kafka/broker.sh" stop "$state/broker" || true
  echo "stopped."
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# The broker starts with an empty log, so the read models and the validator snapshot start empty
# too (state from an earlier run would describe another log).
rm -rf "$state/api-db" "$state/validator.snapshot"
bootstrap=$(bash "$root/compose/kafka/broker.sh" start "$state/broker")
secret=${KEYLEDGER_JWT_SECRET:-$(head -c 32 /dev/urandom | base64 | tr -d '/+=' | head -c 40)}
rm -f "$state/api.port"
"$bin" serve --bootstrap "$bootstrap" --db "$state/api-db" --listen "127.0.0.1:$api_port" \
  --port-file "$state/api.port" --jwt-secret "$secret" --console-dir "$root/console/dist" --dev-sign-in \
  >"$state/api.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
  [[ -s $state/api.port ]] && break
  kill -0 "${pids[0]}" 2>/dev/null || { tail -20 "$state/api.log"; echo "the API exited" >&2; exit 1; }
  sleep 0.1
done
[[ -s $state/api.port ]] || { echo "the API did not start; see $state/api.log" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$state/api.port")"
rm -f "$state/validator.port"
"$bin" validator --bootstrap "$bootstrap" --listen "127.0.0.1:$validator_port" \
  --port-file "$state/validator.port" --admin-listen "127.0.0.1:$validator_admin_port" \
  --snapshot "$state/validator.snapshot" >"$state/validator.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
  [[ -s $state/validator.port ]] && break
  kill -0 "${pids[1]}" 2>/dev/null || { tail -20 "$state/validator.log"; echo "the validator exited" >&2; exit 1; }
  sleep 0.1
done
validator="http://127.0.0.1:$(cat "$state/validator.port")"
validator_admin="http://127.0.0.1:$validator_admin_port"
owner=$("$bin" token --jwt-secret "$secret" --sub user-olga --name "Olga Owner" --team team-acme --role owner)
member=$("$bin" token --jwt-secret "$secret" --sub user-mia --name "Mia Member" --team team-acme --role member)

cat <<MSG

keyledger is up (state and logs in $state).

Open the console:  $url/console/
  (development sign-in: pick Olga Owner or Omar Owner of team-acme, Mia Member, or Gina of team-globex)

Services:
  Kafka broker (KRaft, single node)      $bootstrap
  admin API (writer + projector)         $url     log: $state/api.log
  validator (secret check)               $validator     log: $state/validator.log
  validator health/readiness/metrics     $validator_admin/readyz  (admin listener; every request on the check port is a check)

Development tokens for team-acme (HS256, 24 h):
  OWNER=$owner
  MEMBER=$member

Try:
  curl -s -X POST $url/v2/gen-ai/models/api_keys -H "Authorization: Bearer \$OWNER" -H 'Content-Type: application/json' -d '{"name": "my first key", "all_models": true}'
  curl -s "$url/v2/gen-ai/models/api_keys?view=mine" -H "Authorization: Bearer \$OWNER"
  curl -s "$url/v2/gen-ai/models/api_keys?view=team" -H "Authorization: Bearer \$MEMBER"   # 403: owners only

Check a secret as a gateway would (200 allow, 401/403 deny with X-Keyledger-Deny-Reason):
  curl -si $validator/v1/chat/completions -H "Authorization: Bearer <secret_key>" -H 'X-Keyledger-Model: openai-gpt-4o'

More: $url/v2/gen-ai/models, $url/readyz, $url/metrics; watch the events with
  kcat -b $bootstrap -C -t keyledger.key-events -X isolation.level=read_committed -e
Press Ctrl-C to stop everything.
MSG

while true; do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "a component exited; see the logs in $state" >&2
      exit 1
    fi
  done
  bash "$root/compose/kafka/broker.sh" status "$state/broker" >/dev/null || {
    echo "the broker exited; see $state/broker/server.log" >&2
    exit 1
  }
  sleep 2
done
