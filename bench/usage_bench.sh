#!/usr/bin/env bash
# Usage end to end (issue 17): one allowed check on a validator replica -> the key's usage through
# the API (GET .../usage) counts it. The replica sends usage every --usage-flush-ms (1000 here, to
# measure in reasonable time; the default 10000 adds up to 9 s to every figure), so the delay is
# mostly the flush interval. Reference, same checks: until the replica's /metrics say the
# brokers acknowledged an aggregate sent after the check (ratio = API / brokers: what the usage
# projection and the API add on top).
# Usage: bench/usage_bench.sh [CHECKS]
# Prints RESULT lines (bench/bench_result.h) for bench/run_all.sh.
# Environment: KEYLEDGER_BOOTSTRAP uses that broker instead of starting a private one;
# KEYLEDGER_BENCH_NO_BUILD=1 skips the build.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
checks=${1:-60}
flush_ms=1000
if [[ -z ${KEYLEDGER_BENCH_NO_BUILD:-} ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target keyledger >/dev/null
fi
bench_begin usage-bench

bootstrap=$(bench_bootstrap)
bench_serve "$bootstrap"
"$bin" validator --bootstrap "$bootstrap" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
  --port-file "$work/validator.port" --admin-port-file "$work/validator-admin.port" --replica-id usage-bench \
  --usage-flush-ms "$flush_ms" >"$work/validator.log" 2>&1 &
bench_track $!
wait_file "$work/validator.port"
wait_file "$work/validator-admin.port"

echo "usage delay over $checks checks (flush every $flush_ms ms)..." >&2
python3 - "$api_port" "$token" "$checks" "$(cat "$work/validator.port")" "$(cat "$work/validator-admin.port")" \
  >"$work/usage.txt" <<'PY'
import http.client, json, re, sys, time
api_port, token, n, check_port, admin_port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
api = http.client.HTTPConnection("127.0.0.1", api_port)
checker = http.client.HTTPConnection("127.0.0.1", check_port)
admin = http.client.HTTPConnection("127.0.0.1", admin_port)

def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read()

def check(secret):
    return call(checker, "GET", "/v1/chat/completions",
                headers={"Authorization": "Bearer " + secret, "X-Keyledger-Model": "openai-gpt-4o"})[0]

def delivered():
    status, body = call(admin, "GET", "/metrics")
    m = re.search(rb"^keyledger_validator_usage_records_delivered_total (\S+)$", body, re.M)
    return float(m.group(1)) if m else 0.0

def allowed_today(key):
    status, body = call(api, "GET", f"/v2/gen-ai/models/api_keys/{key}/usage?days=1", None, auth)
    assert status == 200, body
    return json.loads(body)["usage"]["days"][-1]["allowed"]

api_ms, broker_ms = [], []
for i in range(n):
    status, body = call(api, "POST", "/v2/gen-ai/models/api_keys", {"name": f"u{i}", "all_models": True}, auth)
    assert status == 201, body
    info = json.loads(body)["api_key_info"]
    while check(info["secret_key"]) != 200:  # the replica knows the key: this check is counted too
        time.sleep(0.002)
    # Let that first check reach the API, then measure one more.
    deadline = time.time() + 30
    while allowed_today(info["uuid"]) == 0:
        if time.time() > deadline:
            sys.exit("usage never reached the API")
        time.sleep(0.01)
    base = allowed_today(info["uuid"])
    acked = delivered()
    t0 = time.perf_counter()
    assert check(info["secret_key"]) == 200
    seen_broker = None
    while True:
        now = time.perf_counter()
        if seen_broker is None and delivered() > acked:
            seen_broker = now
        if allowed_today(info["uuid"]) > base:
            done = time.perf_counter()
            break
        if now - t0 > 60:
            sys.exit(f"check {i}: not in the API's usage after 60 s")
        time.sleep(0.005)
    if seen_broker is None:
        seen_broker = done
    api_ms.append((done - t0) * 1000)
    broker_ms.append((seen_broker - t0) * 1000)
    if i % 10 == 0:
        print(f"  {i}/{n} checks", file=sys.stderr, flush=True)

def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * q))]
print(f"{pct(api_ms, .5):.0f} {pct(api_ms, .99):.0f} {max(api_ms):.0f} {pct(broker_ms, .5):.0f} {pct(broker_ms, .99):.0f}")
PY
read -r a50 a99 amax b50 b99 <"$work/usage.txt"
ratio=$(python3 -c "print(f'{float($a99)/max(float($b99), 1):.2f}')")
echo "RESULT name=usage.end_to_end label=\"usage delay p99: allowed check -> counted in GET .../usage" \
  "(flush every $flush_ms ms, $checks checks)\" value=$a99 unit=ms reference=$b99" \
  "reference_label=\"p99 until the brokers acknowledged the replica's aggregate\" ratio=$ratio" \
  "target=\"value <= 60000\" detail=\"p50 $a50 ms, max $amax ms; brokers p50 $b50 ms\""
