#!/usr/bin/env bash
# Validator benchmarks across processes (issue 5), printed as markdown rows:
#   propagation: after the API answers a regenerate or delete, how long until a separate
#   validator process denies the old secret (p50/p99/max over N operations, real broker);
#   HTTP checks/s with wrk as a ratio to bench_bare_http (same transport, fixed body), same run;
#   in-process checks/s and memory per key at 1M keys (bench_validator).
# Usage: bench/validator_bench.sh [OPERATIONS] [WRK_SECONDS] [KEYS] [CHECKS]
#   (KEYS and CHECKS go to bench_validator: 1,000,000 keys and 3,000,000 checks by default)
# Also prints one RESULT line per figure (see bench/bench_result.h) for bench/run_all.sh.
# Environment: KEYLEDGER_BOOTSTRAP uses that broker instead of starting a private one;
# KEYLEDGER_BENCH_NO_BUILD=1 skips the build.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
operations=${1:-1000}
duration=${2:-10}
keys=${3:-1000000}
checks=${4:-3000000}
if [[ -z ${KEYLEDGER_BENCH_NO_BUILD:-} ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target keyledger bench_bare_http bench_validator >/dev/null
fi
bench_begin validator-bench

bootstrap=$(bench_bootstrap)
bench_serve "$bootstrap"
"$bin" validator --bootstrap "$bootstrap" --listen 127.0.0.1:0 --port-file "$work/validator.port" \
  >"$work/validator.log" 2>&1 &
bench_track $!
wait_file "$work/validator.port"
"$root/build/release/bench/bench_bare_http" >"$work/bare.port" 2>/dev/null &
bench_track $!
wait_file "$work/bare.port"

echo "propagation over $operations operations..." >&2
python3 - "$api_port" "$(cat "$work/validator.port")" "$token" "$operations" >"$work/propagation.txt" <<'PY'
import http.client, json, sys, time
api_port, validator_port, token, n = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
api = http.client.HTTPConnection("127.0.0.1", api_port)
val = http.client.HTTPConnection("127.0.0.1", validator_port)
auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read()
def check(secret):
    return call(val, "GET", "/v1/chat/completions", headers={"Authorization": "Bearer " + secret, "X-Keyledger-Model": "openai-gpt-4o"})[0]
delays = []
for i in range(n):
    status, body = call(api, "POST", "/v2/gen-ai/models/api_keys", {"name": f"p{i}", "all_models": True}, auth)
    info = json.loads(body)["api_key_info"]
    while check(info["secret_key"]) != 200:
        pass
    if i % 2 == 0:
        status, body = call(api, "PUT", f"/v2/gen-ai/models/api_keys/{info['uuid']}/regenerate", {"confirm_name": f"p{i}"}, auth)
    else:
        status, body = call(api, "DELETE", f"/v2/gen-ai/models/api_keys/{info['uuid']}?confirm_name=p{i}", None, auth)
    answered = time.perf_counter()
    assert status == 200, body
    while check(info["secret_key"]) != 401:
        pass
    delays.append((time.perf_counter() - answered) * 1000)
    if i % 200 == 0:
        print(f"  {i}/{n}", file=sys.stderr)
delays.sort()
print(f"{delays[len(delays)//2]:.2f} {delays[int(len(delays)*0.99)]:.2f} {delays[-1]:.2f}")
PY
read -r p50 p99 max <"$work/propagation.txt"

# A key for the HTTP check benchmark.
sk=$(curl -s -X POST "http://127.0.0.1:$api_port/v2/gen-ai/models/api_keys" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"name": "wrk", "all_models": true}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key_info"]["secret_key"])')
sleep 0.5
rps() { awk '/Requests\/sec/ {print $2}'; }
echo "wrk: validator and reference..." >&2
http_rate=$(wrk -t2 -c32 -d"${duration}s" -H "Authorization: Bearer $sk" -H "X-Keyledger-Model: openai-gpt-4o" \
  "http://127.0.0.1:$(cat "$work/validator.port")/v1/chat/completions" 2>/dev/null | rps)
ref=$(wrk -t2 -c32 -d"${duration}s" "http://127.0.0.1:$(cat "$work/bare.port")/" 2>/dev/null | rps)
ratio=$(python3 -c "print(f'{float($http_rate)/float($ref):.2f}')")

echo "| validator benchmark | keyledger | reference (same run) | ratio | target |"
echo "|---|---|---|---|---|"
echo "| propagation: API answered regenerate/delete -> separate validator denies the old secret ($operations ops) | p50 $p50 ms, p99 $p99 ms, max $max ms | - | - | p99 <= 25 ms |"
echo "| HTTP checks/s (wrk -t2 -c32) | $http_rate | $ref (same transport, fixed body) | $ratio | >= 0.6 |"
echo "RESULT name=validator.propagation label=\"validator propagation p99: API answered regenerate/delete ->" \
  "a separate validator process denies the old secret ($operations ops)\" value=$p99 unit=ms" \
  "target=\"value <= 25\" detail=\"p50 $p50 ms, max $max ms\""
echo "RESULT name=validator.http label=\"validator HTTP checks/s (wrk -t2 -c32, ${duration}s)\"" \
  "value=$http_rate unit=checks/s reference=$ref reference_label=\"same transport, fixed body\"" \
  "ratio=$ratio target=\"ratio >= 0.6\""
"$root/build/release/bench/bench_validator" "$keys" "$checks" 2>/dev/null
