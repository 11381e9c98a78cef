#!/usr/bin/env bash
# Runs schemathesis (PyPI) against a running keyledger server with api/openapi.yaml: no 5xx, no
# response that violates the document, 401 without credentials, 405 for undocumented methods,
# and so on (--checks all). One check is excluded: positive_data_acceptance, because a
# schema-valid request can still be rightly refused by rules JSON Schema cannot state (model ids
# must be in the catalog, a VPC must be the caller's team's, names may not be blank or contain
# control characters, DELETE takes its confirmation from the body or the query).
#   schemathesis.sh KEYLEDGER_BINARY SOURCE_ROOT WORK_DIR
set -euo pipefail
binary=$1
root=$2
work=$3
version=4.32.5
cache=${KEYLEDGER_CACHE:-$HOME/.cache/keyledger}
venv=$cache/venv-schemathesis-$version
if [[ ! -x $venv/bin/schemathesis ]]; then
  echo "installing schemathesis $version into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version"
fi

bootstrap=${KEYLEDGER_BOOTSTRAP:-$(cat "$KEYLEDGER_BROKER_DIR/bootstrap")}
rm -rf "$work"
mkdir -p "$work"
secret=schemathesis-secret-0123456789abcdef0123
"$binary" serve --bootstrap "$bootstrap" --topic "keyledger.e2e.schemathesis.$$.$RANDOM" --partitions 3 \
  --db "$work/db" --listen 127.0.0.1:0 --port-file "$work/port" --jwt-secret "$secret" \
  --commands-per-second 100000 >"$work/server.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  [[ -s $work/port ]] && break
  kill -0 $server 2>/dev/null || { tail -20 "$work/server.log"; echo "server exited"; exit 1; }
  sleep 0.1
done
port=$(cat "$work/port")
status=0
for role in owner member; do
  token=$("$binary" token --jwt-secret "$secret" --sub "st-$role" --name "Schemathesis $role" \
    --team team-acme --role "$role")
  # CI pins the seed (reproducible landings); local runs explore new cases and print their seed.
  if [[ ${CI:-} == true ]]; then default_seed=20261122; else default_seed=$RANDOM; fi
  seed=${SCHEMATHESIS_SEED:-$default_seed}
  echo "== schemathesis as $role (seed $seed)"
  (cd "$work" && "$venv/bin/schemathesis" run "$root/api/openapi.yaml" --url "http://127.0.0.1:$port" \
    -H "Authorization: Bearer $token" --checks all --exclude-checks positive_data_acceptance \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-40}" --seed "$seed" --workers 1 \
    --request-timeout 20) || status=1
done
if grep -q '"level":"error"' "$work/server.log"; then
  echo "server logged errors:"
  grep '"level":"error"' "$work/server.log" | head -20
  status=1
fi
exit $status
