#!/usr/bin/env bash
# HTTP benchmarks of the admin API with wrk (issue 4), printed as a markdown table:
#   GET one key and GET a 20-key page of a view, each as a ratio to the reference server
#   (bench_bare_http: the same transport with a fixed small JSON body), measured in this run;
#   create-key throughput with p50/p99 latency through HTTP against the real broker.
# Usage: bench/http_bench.sh [DURATION_SECONDS]   (builds the release preset first)
# Also prints one RESULT line per figure (see bench/bench_result.h) for bench/run_all.sh.
# Environment: KEYLEDGER_BOOTSTRAP uses that broker instead of starting a private one;
# KEYLEDGER_BENCH_NO_BUILD=1 skips the build.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration=${1:-10}
if [[ -z ${KEYLEDGER_BENCH_NO_BUILD:-} ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target keyledger bench_bare_http >/dev/null
fi
bare=$root/build/release/bench/bench_bare_http
bench_begin http-bench

bootstrap=$(bench_bootstrap)
bench_serve "$bootstrap"
api="http://127.0.0.1:$api_port"
"$bare" >"$work/bare.port" 2>/dev/null &
bench_track $!
for _ in $(seq 1 100); do [[ -s $work/bare.port ]] && break; sleep 0.1; done
bare_url="http://127.0.0.1:$(cat "$work/bare.port")"

echo "creating 100 keys..." >&2
key=""
for i in $(seq 1 100); do
  out=$(curl -s -X POST "$api/v2/gen-ai/models/api_keys" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"name\": \"bench $i\", \"all_models\": true}")
  key=${key:-$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key_info"]["uuid"])')}
done

rps() { awk '/Requests\/sec/ {print $2}'; }
pct() { awk -v p="$1" '$1 == p {print $2}'; }
run() {  # url [extra wrk args...]
  local url=$1
  shift
  wrk -t2 -c32 -d"${duration}s" --latency -H "Authorization: Bearer $token" "$@" "$url" 2>/dev/null
}
echo "wrk: reference..." >&2
ref=$(run "$bare_url/" | rps)
echo "wrk: get one..." >&2
one=$(run "$api/v2/gen-ai/models/api_keys/$key" | rps)
echo "wrk: list 20..." >&2
list=$(run "$api/v2/gen-ai/models/api_keys?view=mine&per_page=20" | rps)
cat >"$work/post.lua" <<'LUA'
counter = 0
request = function()
  counter = counter + 1
  local body = '{"name": "wrk ' .. counter .. '-' .. math.random(1000000000) .. '", "all_models": true}'
  -- A headers table replaces wrk's own (from -H): copy them, then add the content type.
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", nil, headers, body)
end
LUA
echo "wrk: create..." >&2
create_out=$(run "$api/v2/gen-ai/models/api_keys" -s "$work/post.lua")
create=$(echo "$create_out" | rps)
p50=$(echo "$create_out" | pct 50%)
p99=$(echo "$create_out" | pct 99%)
non2xx=$(echo "$create_out" | awk '/Non-2xx/ {print $5}')

ratio() { python3 -c "print(f'{float($1)/float($2):.2f}')"; }
echo "| benchmark (wrk -t2 -c32, ${duration}s) | keyledger req/s | reference req/s (same transport, fixed JSON) | ratio | target |"
echo "|---|---|---|---|---|"
echo "| GET one key | $one | $ref | $(ratio "$one" "$ref") | >= 0.5 |"
echo "| GET a view page (20 keys) | $list | $ref | $(ratio "$list" "$ref") | - |"
echo "| POST create key (real broker; p50 $p50, p99 $p99; non-2xx: ${non2xx:-0}) | $create | - | - | - |"
echo "RESULT name=http.get_one label=\"GET one key (wrk -t2 -c32, ${duration}s)\" value=$one unit=req/s" \
  "reference=$ref reference_label=\"same transport, fixed JSON\" ratio=$(ratio "$one" "$ref")" \
  "target=\"ratio >= 0.5\""
echo "RESULT name=http.get_page label=\"GET a view page of 20 keys (wrk -t2 -c32, ${duration}s)\"" \
  "value=$list unit=req/s reference=$ref reference_label=\"same transport, fixed JSON\"" \
  "ratio=$(ratio "$list" "$ref")"
echo "RESULT name=http.create label=\"POST create key through HTTP, real broker (wrk -t2 -c32, ${duration}s)\"" \
  "value=$create unit=req/s detail=\"p50 $p50, p99 $p99, non-2xx ${non2xx:-0}\""
