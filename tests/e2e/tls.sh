#!/usr/bin/env bash
# The admin API over TLS: a self-signed certificate made here, HTTPS answered, plain HTTP refused.
#   tls.sh KEYLEDGER_BINARY WORK_DIR
set -euo pipefail
bin=$1
work=$2
bootstrap=${KEYLEDGER_BOOTSTRAP:-$(cat "$KEYLEDGER_BROKER_DIR/bootstrap")}
rm -rf "$work"
mkdir -p "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
secret=tls-test-secret-0123456789abcdef0123456789
"$bin" serve --bootstrap "$bootstrap" --topic "keyledger.e2e.tls.$$.$RANDOM" --partitions 3 --db "$work/db" \
  --listen 127.0.0.1:0 --port-file "$work/port" --jwt-secret "$secret" \
  --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" >"$work/server.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do [[ -s $work/port ]] && break; sleep 0.1; done
port=$(cat "$work/port")
token=$("$bin" token --jwt-secret "$secret" --sub olga --team team-acme --role owner)
status=$(curl -s -o "$work/body" -w '%{http_code}' --cacert "$work/cert.pem" -X POST \
  "https://127.0.0.1:$port/v2/gen-ai/models/api_keys" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"name": "over tls", "all_models": true}')
[[ $status == 201 ]] || { echo "FAIL: HTTPS create answered $status: $(cat "$work/body")"; exit 1; }
grep -q '"secret_key":"sk-do-v1-' "$work/body" || { echo "FAIL: no secret in the HTTPS create response"; exit 1; }
if curl -s -m 5 -o /dev/null "http://127.0.0.1:$port/healthz"; then
  echo "FAIL: plain HTTP was answered on the TLS port"
  exit 1
fi
echo "tls: HTTPS served with the configured certificate; plain HTTP refused"
