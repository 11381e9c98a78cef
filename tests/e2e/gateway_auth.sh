#!/usr/bin/env bash
# The shipped gateways in front of a dummy upstream, with the keyledger validator as their auth
# service, run for real: nginx (compose/deploy/nginx/gateway.conf.template, auth_request) or Caddy
# (compose/deploy/caddy/Caddyfile, forward_auth; built once by compose/caddy/build.sh). Checks,
# through the gateway: every allow and denial reason; that nothing reaches the upstream without a
# valid key (/healthz, /readyz, /metrics, /readyz?x=1, any path: 401); that batch calls of both
# providers are batch calls (also with repeated slashes, dot segments, percent-encoding or
# another letter case); and that a repeated Authorization header is a 400.
#   gateway_auth.sh nginx|caddy KEYLEDGER_BINARY WORK_DIR
set -euo pipefail
gateway=$1
bin=$2
work=$3
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
case $gateway in
  nginx)
    command -v nginx >/dev/null || { echo "FAIL: nginx is not installed (compose/install-deps.sh)"; exit 1; }
    nginx -V 2>&1 | grep -q http_auth_request_module || { echo "FAIL: nginx lacks auth_request"; exit 1; }
    ;;
  caddy) caddy=$(bash "$root/compose/caddy/build.sh") ;;
  *) echo "usage: gateway_auth.sh nginx|caddy KEYLEDGER_BINARY WORK_DIR" >&2; exit 2 ;;
esac
bootstrap=${KEYLEDGER_BOOTSTRAP:-$(cat "$KEYLEDGER_BROKER_DIR/bootstrap")}
rm -rf "$work"
mkdir -p "$work/tmp"
pids=()
cleanup() {
  [[ -f $work/nginx.pid ]] && kill -TERM "$(cat "$work/nginx.pid")" 2>/dev/null || true
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port_file() {
  for _ in $(seq 1 600); do [[ -s $1 ]] && return 0; sleep 0.1; done
  echo "FAIL: $1 never appeared"; exit 1
}

topic="keyledger.e2e.gateway.$gateway.$$.$RANDOM"
secret=gateway-test-secret-0123456789abcdef0123
"$bin" serve --bootstrap "$bootstrap" --topic "$topic" --partitions 3 --db "$work/db" \
  --listen 127.0.0.1:0 --port-file "$work/api.port" --jwt-secret "$secret" >"$work/api.log" 2>&1 &
pids+=($!)
wait_port_file "$work/api.port"
"$bin" validator --bootstrap "$bootstrap" --topic "$topic" --listen 127.0.0.1:0 --port-file "$work/validator.port" \
  --admin-listen 127.0.0.1:0 --admin-port-file "$work/validator.admin.port" >"$work/validator.log" 2>&1 &
pids+=($!)
wait_port_file "$work/validator.port"
wait_port_file "$work/validator.admin.port"
api="http://127.0.0.1:$(cat "$work/api.port")"
validator_port=$(cat "$work/validator.port")
gateway_port=$(free_port)
upstream_port=$(free_port)
vpc=5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c

# Renders ${KEYLEDGER_*} of a shipped file as nginx's image does (envsubst of those names only).
render() {
  python3 - "$1" <<'PY'
import os, re, sys
text = open(sys.argv[1]).read()
print(re.sub(r"\$\{(KEYLEDGER_[A-Z_]+)\}", lambda m: os.environ[m.group(1)], text), end="")
PY
}

if [[ $gateway == nginx ]]; then
  export KEYLEDGER_GATEWAY_LISTEN=127.0.0.1:$gateway_port KEYLEDGER_VALIDATOR_URL=http://127.0.0.1:$validator_port
  export KEYLEDGER_BACKEND_URL=http://127.0.0.1:$upstream_port KEYLEDGER_STANDIN_LISTEN=127.0.0.1:$upstream_port
  export KEYLEDGER_RESOLVER=127.0.0.1 KEYLEDGER_MODEL_FROM='$http_x_model'
  # A test knob: the source VPC from a test header (in production, from the network).
  export KEYLEDGER_SOURCE_VPC_FROM='$http_x_test_source_vpc'
  render "$root/compose/deploy/nginx/gateway.conf.template" >"$work/gateway.conf"
  cat >"$work/nginx.conf" <<CONF
daemon off;
pid $work/nginx.pid;
error_log $work/error.log info;
events { worker_connections 64; }
http {
  access_log $work/access.log;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  include $work/gateway.conf;
}
CONF
  nginx -t -c "$work/nginx.conf" -p "$work" >/dev/null 2>&1 || { nginx -t -c "$work/nginx.conf" -p "$work"; exit 1; }
  nginx -c "$work/nginx.conf" -p "$work" &
  pids+=($!)
else
  # The stand-in upstream (the Caddyfile ships none): a tiny HTTP server answering "upstream ok".
  python3 - "$upstream_port" >"$work/upstream.log" 2>&1 <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        body = b"upstream ok\n"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PUT = do_DELETE = answer
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
  pids+=($!)
  KEYLEDGER_GATEWAY_LISTEN=127.0.0.1:$gateway_port KEYLEDGER_VALIDATOR=127.0.0.1:$validator_port \
    KEYLEDGER_BACKEND=127.0.0.1:$upstream_port KEYLEDGER_MODEL_FROM='{header.X-Model}' \
    KEYLEDGER_SOURCE_VPC_FROM='{header.X-Test-Source-Vpc}' XDG_DATA_HOME=$work/caddy-data XDG_CONFIG_HOME=$work/caddy-config \
    "$caddy" run --config "$root/compose/deploy/caddy/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 &
  pids+=($!)
fi
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$gateway_port/" && break; sleep 0.1; done

token=$("$bin" token --jwt-secret "$secret" --sub olga --name Olga --team team-acme --role owner)
create() {
  curl -s -X POST "$api/v2/gen-ai/models/api_keys" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "$1" |
    python3 -c 'import json,sys; i=json.load(sys.stdin)["api_key_info"]; print(i["uuid"], i["secret_key"])'
}
read -r all_id all_secret < <(create '{"name": "all", "all_models": true, "batch_inference": true}')
read -r scoped_id scoped_secret < <(create '{"name": "scoped", "all_models": false, "models": ["alibaba-qwen3-32b"]}')
read -r vpc_id vpc_secret < <(create "{\"name\": \"vpc\", \"all_models\": true, \"vpc_uuid\": \"$vpc\"}")
: "$scoped_id" "$vpc_id"

failures=0
expect() {  # name status reason('*': any) secret model path source-vpc [extra curl args...]
  local name=$1 want=$2 reason=$3 key=$4 model=$5 path=$6 source=${7:-}
  shift 7 2>/dev/null || shift $#
  local headers status got_reason got_key body
  headers=$(mktemp)
  local auth=()
  [[ -n $key ]] && auth=(-H "Authorization: Bearer $key")
  for _ in $(seq 1 100); do  # the validator may still be reading the newest events
    body=$(curl -s --path-as-is -D "$headers" -o - "http://127.0.0.1:$gateway_port$path" "${auth[@]}" \
      -H "X-Model: $model" ${source:+-H "X-Test-Source-Vpc: $source"} "$@")
    status=$(awk 'NR==1 {print $2}' "$headers")
    [[ $status == "$want" ]] && break
    sleep 0.05
  done
  got_reason=$(awk -F': ' 'tolower($1)=="x-keyledger-deny-reason" {print $2}' "$headers" | tr -d '\r')
  got_key=$(awk -F': ' 'tolower($1)=="x-keyledger-key-id" {print $2}' "$headers" | tr -d '\r')
  rm -f "$headers"
  if [[ $status != "$want" || ($reason != "*" && $got_reason != "$reason") ]]; then
    echo "FAIL $name: status $status reason '$got_reason', want $want '$reason'"
    failures=$((failures + 1))
  elif [[ $want == 200 && $body != "upstream ok" ]]; then
    echo "FAIL $name: allowed but body '$body'"
    failures=$((failures + 1))
  elif [[ $want != 200 && $body == *"upstream ok"* ]]; then
    echo "FAIL $name: denied but the upstream answered"
    failures=$((failures + 1))
  else
    echo "ok   $name: $status ${reason:-allowed}${got_key:+ key $got_key}"
  fi
}
chat=/v1/chat/completions
expect "allow, all models" 200 "" "$all_secret" openai-gpt-4o $chat ""
expect "allow, batch" 200 "" "$all_secret" openai-gpt-4o /v1/batches ""
expect "allow, batch of the other provider" 200 "" "$all_secret" openai-gpt-4o /v1/messages/batches ""
expect "allow, selected model" 200 "" "$scoped_secret" alibaba-qwen3-32b $chat ""
expect "allow, from its VPC" 200 "" "$vpc_secret" openai-gpt-4o $chat "$vpc"
expect "deny, malformed" 401 malformed "sk-do-v1-not-a-real-key" openai-gpt-4o $chat ""
expect "deny, no credentials" 401 malformed "" openai-gpt-4o $chat ""
expect "deny, model not allowed" 403 model_not_allowed "$scoped_secret" openai-gpt-4o $chat ""
expect "deny, VPC mismatch" 403 vpc_mismatch "$vpc_secret" openai-gpt-4o $chat ""
# The gateway's batch flag, whatever the client claims and however it spells the path.
for path in /v1/batches /v1/messages/batches /v1/batches/batch_abc/cancel //v1/batches /v1//messages/batches \
  /v1/./batches /v1/x/../batches /V1/Batches /v1/%62atches; do
  expect "deny, batch not allowed: $path" 403 batch_not_allowed "$scoped_secret" alibaba-qwen3-32b "$path" "" \
    -H "X-Keyledger-Batch: false"
done
# Nothing reaches the upstream, or the validator's own endpoints, without a key.
for path in /healthz /readyz /metrics "/readyz?x=1" / /v1/models /anything/else; do
  expect "no key: $path" 401 malformed "" openai-gpt-4o "$path" ""
done
# nginx itself refuses a repeated Authorization header (400, before any check); Caddy passes both
# to the validator, which answers 400 malformed_request. Never an allow.
expect "deny, repeated Authorization" 400 "$([[ $gateway == nginx ]] && echo '*' || echo malformed_request)" \
  "$all_secret" openai-gpt-4o $chat "" -H "Authorization: Bearer $scoped_secret"
curl -s -o /dev/null -X DELETE "$api/v2/gen-ai/models/api_keys/$all_id?confirm_name=all" -H "Authorization: Bearer $token"
expect "deny, deleted key" 401 unknown "$all_secret" openai-gpt-4o $chat ""
if ((failures > 0)); then
  echo "$gateway gateway: $failures failure(s)"
  [[ $gateway == nginx ]] && tail -5 "$work/error.log" || tail -5 "$work/caddy.log"
  exit 1
fi
echo "$gateway gateway: all checks passed"
