#!/usr/bin/env bash
# Runs schemathesis (PyPI) against a running keyledger server with api/openapi.yaml and every
# check (--checks all, none excluded): no 5xx, no response that violates the document, 401
# without credentials, 405 for undocumented methods, every schema-valid request accepted
# (positive_data_acceptance) and every invalid one refused (negative_data_rejection), resources
# reachable after create and gone after delete (stateful phase, through the document's links).
# All four phases run (examples, coverage, fuzzing, stateful), as a team owner and as a member
# (both at once, each against a server of its own), with the operator routes under a real
# operator token.
#
# The document run is api/openapi.yaml with what each deployment configures filled in from the
# server under test (schemathesis_document.py: the catalog's model ids, the caller's team's VPCs,
# the partition count, and expires_at narrowed to times certainly in the future);
# schemathesis.toml says which refusals count as "valid but refused by state" (403, 404, 409, 413, 429,
# never 400) and why. The seed is printed; SCHEMATHESIS_SEED replays a run,
# SCHEMATHESIS_MAX_EXAMPLES sets the examples per operation (default 200; 50 when
# KEYLEDGER_SANITIZED=1, as ctest sets for the ASan and TSan builds: there the run looks for
# memory errors and races in the server's request paths, and the dev stage's 200 per operation
# check the contract).
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
partitions=3
export KEYLEDGER_ST_OPERATOR_TOKEN=schemathesis-operator-$RANDOM$RANDOM-0123456789abcdef
(umask 077 && echo "st-operator $KEYLEDGER_ST_OPERATOR_TOKEN" >"$work/operator-tokens")
if [[ ${KEYLEDGER_SANITIZED:-} == 1 ]]; then default_examples=50; else default_examples=200; fi
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-$default_examples}
# CI pins the seed (reproducible landings); local runs explore new cases and print their seed.
if [[ ${CI:-} == true ]]; then default_seed=20261122; else default_seed=$RANDOM; fi
seed=${SCHEMATHESIS_SEED:-$default_seed}

# The two roles run at once, each against a server of its own (its own topic and store), so
# neither sees the other's keys and each run is what it would be alone; the run takes as long as
# the longer of the two instead of their sum. Their outputs are printed one after the other.
roles=(owner member)
servers=()
runs=()
trap 'for p in "${runs[@]}" "${servers[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; for p in "${runs[@]}" "${servers[@]}"; do wait "$p" 2>/dev/null || true; done' EXIT
for role in "${roles[@]}"; do
  dir=$work/$role
  mkdir -p "$dir"
  "$binary" serve --bootstrap "$bootstrap" --topic "keyledger.e2e.schemathesis.$role.$$.$RANDOM" \
    --partitions $partitions --db "$dir/db" --listen 127.0.0.1:0 --port-file "$dir/port" \
    --jwt-secret "$secret" --operator-tokens "$work/operator-tokens" \
    --commands-per-second 100000 >"$dir/server.log" 2>&1 &
  servers+=($!)
done

# run_role ROLE SERVER_PID: schemathesis as ROLE against that role's server; its exit status is
# the run's.
run_role() {
  local role=$1 server=$2 dir=$work/$1 port token
  for _ in $(seq 1 600); do
    [[ -s $dir/port ]] && break
    kill -0 "$server" 2>/dev/null || { tail -20 "$dir/server.log"; echo "server ($role) exited"; return 1; }
    sleep 0.1
  done
  [[ -s $dir/port ]] || { echo "server ($role) wrote no port within 60 s"; return 1; }
  port=$(cat "$dir/port")
  token=$("$binary" token --jwt-secret "$secret" --sub "st-$role" --name "Schemathesis $role" \
    --team team-acme --role "$role")
  echo "== schemathesis as $role (seed $seed, $max_examples examples per operation)"
  # api/openapi.yaml with this deployment's catalog, the team's VPCs and the partition count.
  "$venv/bin/python" "$root/tests/e2e/schemathesis_document.py" "$root/api/openapi.yaml" \
    "$dir/openapi.json" "http://127.0.0.1:$port" "$token" $partitions
  (cd "$dir" && SCHEMATHESIS_HOOKS="$root/tests/e2e/schemathesis_hooks.py" \
    "$venv/bin/schemathesis" --config-file "$root/tests/e2e/schemathesis.toml" run "$dir/openapi.json" --url "http://127.0.0.1:$port" -H "Authorization: Bearer $token" --checks all \
    --phases examples,coverage,fuzzing,stateful --max-examples "$max_examples" --seed "$seed" \
    --workers 1 --request-timeout 20)
}

status=0
for i in "${!roles[@]}"; do
  run_role "${roles[$i]}" "${servers[$i]}" >"$work/${roles[$i]}/run.log" 2>&1 &
  runs+=($!)
done
for i in "${!roles[@]}"; do
  role=${roles[$i]}
  wait "${runs[$i]}" || { status=1; echo "schemathesis as $role: FAILED"; }
  cat "$work/$role/run.log"
  if grep -q '"level":"error"' "$work/$role/server.log"; then
    echo "server ($role) logged errors:"
    grep '"level":"error"' "$work/$role/server.log" | head -20
    status=1
  fi
done
exit $status
