#!/usr/bin/env bash
# A real nginx (Debian's, with auth_request) in front of a dummy upstream, with the keyledger
# validator as its auth service: allow and each denial are checked through nginx.
#   nginx_auth_request.sh KEYLEDGER_BINARY WORK_DIR
set -euo pipefail
bin=$1
work=$2
command -v nginx >/dev/null || { echo "FAIL: nginx is not installed (compose/install-deps.sh)"; exit 1; }
nginx -V 2>&1 | grep -q http_auth_request_module || { echo "FAIL: nginx lacks auth_request"; exit 1; }
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

topic="keyledger.e2e.nginx.$$.$RANDOM"
secret=nginx-test-secret-0123456789abcdef012345
"$bin" serve --bootstrap "$bootstrap" --topic "$topic" --partitions 3 --db "$work/db" \
  --listen 127.0.0.1:0 --port-file "$work/api.port" --jwt-secret "$secret" >"$work/api.log" 2>&1 &
pids+=($!)
wait_port_file "$work/api.port"
"$bin" validator --bootstrap "$bootstrap" --topic "$topic" --listen 127.0.0.1:0 \
  --port-file "$work/validator.port" >"$work/validator.log" 2>&1 &
pids+=($!)
wait_port_file "$work/validator.port"
api="http://127.0.0.1:$(cat "$work/api.port")"
validator_port=$(cat "$work/validator.port")
gateway_port=$(free_port)
upstream_port=$(free_port)
vpc=5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c

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
  # \$request_uri: in the auth subrequest, \$uri is the internal location.
  map \$request_uri \$keyledger_batch { ~^/v1/batches true; default false; }
  server {
    listen 127.0.0.1:$gateway_port;
    location / {
      auth_request /_keyledger_check;
      auth_request_set \$keyledger_key \$upstream_http_x_keyledger_key_id;
      auth_request_set \$keyledger_reason \$upstream_http_x_keyledger_deny_reason;
      add_header X-Keyledger-Key-Id \$keyledger_key always;
      add_header X-Keyledger-Deny-Reason \$keyledger_reason always;
      proxy_pass http://127.0.0.1:$upstream_port;
    }
    location = /_keyledger_check {
      internal;
      proxy_pass http://127.0.0.1:$validator_port\$request_uri;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Keyledger-Model \$http_x_model;
      # In production the gateway sets the source VPC from the network, never from the client.
      proxy_set_header X-Keyledger-Source-Vpc \$http_x_test_source_vpc;
      proxy_set_header X-Keyledger-Batch \$keyledger_batch;
    }
  }
  server {
    listen 127.0.0.1:$upstream_port;
    location / { return 200 "upstream ok\n"; }
  }
}
CONF
nginx -t -c "$work/nginx.conf" -p "$work" >/dev/null 2>&1 || { nginx -t -c "$work/nginx.conf" -p "$work"; exit 1; }
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
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

failures=0
expect() {  # name status reason secret model path [source vpc]
  local name=$1 want=$2 reason=$3 key=$4 model=$5 path=$6 source=${7:-}
  local headers status got_reason got_key body
  headers=$(mktemp)
  for _ in $(seq 1 100); do  # the validator may still be reading the newest events
    body=$(curl -s -D "$headers" -o - "http://127.0.0.1:$gateway_port$path" \
      -H "Authorization: Bearer $key" -H "X-Model: $model" ${source:+-H "X-Test-Source-Vpc: $source"})
    status=$(awk 'NR==1 {print $2}' "$headers")
    [[ $status == "$want" ]] && break
    sleep 0.05
  done
  got_reason=$(awk -F': ' 'tolower($1)=="x-keyledger-deny-reason" {print $2}' "$headers" | tr -d '\r')
  got_key=$(awk -F': ' 'tolower($1)=="x-keyledger-key-id" {print $2}' "$headers" | tr -d '\r')
  rm -f "$headers"
  if [[ $status != "$want" || $got_reason != "$reason" ]]; then
    echo "FAIL $name: status $status reason '$got_reason', want $want '$reason'"
    failures=$((failures + 1))
  elif [[ $want == 200 && ( $body != "upstream ok" || -z $got_key ) ]]; then
    echo "FAIL $name: allowed but body '$body' key '$got_key'"
    failures=$((failures + 1))
  else
    echo "ok   $name: $status ${reason:-allowed}${got_key:+ key $got_key}"
  fi
}
expect "allow, all models" 200 "" "$all_secret" openai-gpt-4o /v1/chat/completions
expect "allow, batch" 200 "" "$all_secret" openai-gpt-4o /v1/batches
expect "allow, selected model" 200 "" "$scoped_secret" alibaba-qwen3-32b /v1/chat/completions
expect "allow, from its VPC" 200 "" "$vpc_secret" openai-gpt-4o /v1/chat/completions "$vpc"
expect "deny, malformed" 401 malformed "sk-do-v1-not-a-real-key" openai-gpt-4o /v1/chat/completions
expect "deny, no credentials" 401 malformed "" openai-gpt-4o /v1/chat/completions
expect "deny, model not allowed" 403 model_not_allowed "$scoped_secret" openai-gpt-4o /v1/chat/completions
expect "deny, VPC mismatch" 403 vpc_mismatch "$vpc_secret" openai-gpt-4o /v1/chat/completions
expect "deny, batch not allowed" 403 batch_not_allowed "$scoped_secret" alibaba-qwen3-32b /v1/batches
curl -s -o /dev/null -X DELETE "$api/v2/gen-ai/models/api_keys/$all_id?confirm_name=all" -H "Authorization: Bearer $token"
expect "deny, deleted key" 401 unknown "$all_secret" openai-gpt-4o /v1/chat/completions
if ((failures > 0)); then
  echo "nginx auth_request: $failures failure(s)"
  tail -5 "$work/error.log"
  exit 1
fi
echo "nginx auth_request: all checks passed"
