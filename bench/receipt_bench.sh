#!/usr/bin/env bash
# Revocation receipts (issue 21) with three validator replicas on one broker:
#   receipt: after the API answers a regenerate or delete, how long until
#   the receipt's href (GET /v2/gen-ai/revocations/{partition}/{offset}?wait=) says "old secret
#   denied on 3 of 3 validators"
#   (p50/p99/max over N revocations). Reference, same operations: how long until all three
#   replicas really deny the old secret, polled on their check ports from a second thread
#   (ratio = receipt / reality: what reporting costs on top of the revocation itself).
#   checks/s of one replica with heartbeats on (every 1000 ms and after every revocation) and of
#   one with heartbeats off (--heartbeat-interval-ms 0), with wrk in the same run (interleaved,
#   twice each, the better of each).
# Usage: bench/receipt_bench.sh [REVOCATIONS] [WRK_SECONDS]
# Prints RESULT lines (bench/bench_result.h) for bench/run_all.sh.
# Environment: KEYLEDGER_BOOTSTRAP uses that broker instead of starting a private one;
# KEYLEDGER_BENCH_NO_BUILD=1 skips the build.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
revocations=${1:-1000}
duration=${2:-10}
if [[ -z ${KEYLEDGER_BENCH_NO_BUILD:-} ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target keyledger >/dev/null
fi
bench_begin receipt-bench

bootstrap=$(bench_bootstrap)
bench_serve "$bootstrap"
for i in 1 2 3; do
  "$bin" validator --bootstrap "$bootstrap" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --port-file "$work/validator-$i.port" \
    --replica-id "replica-$i" >"$work/validator-$i.log" 2>&1 &
  bench_track $!
done
# Off the board: checks/s without heartbeats (it never publishes, so receipts do not count it).
"$bin" validator --bootstrap "$bootstrap" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
  --port-file "$work/validator-quiet.port" \
  --heartbeat-interval-ms 0 >"$work/validator-quiet.log" 2>&1 &
bench_track $!
for f in validator-1 validator-2 validator-3 validator-quiet; do wait_file "$work/$f.port"; done

echo "receipts over $revocations revocations with 3 replicas..." >&2
python3 - "$api_port" "$token" "$revocations" \
  "$(cat "$work/validator-1.port")" "$(cat "$work/validator-2.port")" "$(cat "$work/validator-3.port")" \
  >"$work/receipts.txt" <<'PY'
import http.client, json, sys, threading, time
api_port, token, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
replica_ports = [int(p) for p in sys.argv[4:7]]
auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
api = http.client.HTTPConnection("127.0.0.1", api_port)
checkers = [http.client.HTTPConnection("127.0.0.1", p) for p in replica_ports]

def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read()

def check(conn, secret):
    return call(conn, "GET", "/v1/chat/completions",
                headers={"Authorization": "Bearer " + secret, "X-Keyledger-Model": "openai-gpt-4o"})[0]

def receipt(conn, href, wait):
    status, body = call(conn, "GET", f"{href}?wait={wait}", None, auth)
    assert status == 200, body
    return json.loads(body)["revocation"]

# Every replica on the board before the first measured revocation.
status, body = call(api, "POST", "/v2/gen-ai/models/api_keys", {"name": "warm", "all_models": True}, auth)
warm = json.loads(body)["api_key_info"]
status, body = call(api, "PUT", f"/v2/gen-ai/models/api_keys/{warm['uuid']}/regenerate", {"confirm_name": "warm"}, auth)
warm_href = json.loads(body)["revocation"]["href"]
deadline = time.time() + 60
while True:
    r = receipt(api, warm_href, 2)
    if r["validators_total"] == 3 and r["complete"]:
        break
    if time.time() > deadline:
        sys.exit(f"the board never showed 3 of 3 replicas: {r}")

receipt_ms, reality_ms = [], []
for i in range(n):
    status, body = call(api, "POST", "/v2/gen-ai/models/api_keys", {"name": f"r{i}", "all_models": True}, auth)
    assert status == 201, body
    info = json.loads(body)["api_key_info"]
    for c in checkers:
        while check(c, info["secret_key"]) != 200:
            pass
    # The reference runs on a thread of its own, started before the command.
    go = threading.Event()
    real = {}
    def reality():
        go.wait()
        for c in checkers:
            while check(c, info["secret_key"]) != 401:
                pass
        real["at"] = time.perf_counter()
    t = threading.Thread(target=reality)
    t.start()
    if i % 2 == 0:
        status, body = call(api, "PUT", f"/v2/gen-ai/models/api_keys/{info['uuid']}/regenerate", {"confirm_name": f"r{i}"}, auth)
    else:
        status, body = call(api, "DELETE", f"/v2/gen-ai/models/api_keys/{info['uuid']}?confirm_name=r{i}", None, auth)
    answered = time.perf_counter()
    go.set()
    assert status == 200, body
    r = json.loads(body)["revocation"]
    if not r["complete"]:
        r = receipt(api, r["href"], 10)
    done = time.perf_counter()
    t.join()
    if not (r["complete"] and r["validators_applied"] == 3):
        sys.exit(f"revocation {i}: no 3 of 3 within 10 s: {r}")
    receipt_ms.append((done - answered) * 1000)
    reality_ms.append((real["at"] - answered) * 1000)
    if i % 100 == 0:
        print(f"  {i}/{n} receipts", file=sys.stderr, flush=True)

def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * q))]
print(f"{pct(receipt_ms, .5):.2f} {pct(receipt_ms, .99):.2f} {max(receipt_ms):.2f} "
      f"{pct(reality_ms, .5):.2f} {pct(reality_ms, .99):.2f} {max(reality_ms):.2f}")
PY
read -r r50 r99 rmax d50 d99 dmax <"$work/receipts.txt"

sk=$(curl -s -X POST "http://127.0.0.1:$api_port/v2/gen-ai/models/api_keys" \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"name": "wrk", "all_models": true}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key_info"]["secret_key"])')
sleep 0.5
rps() { awk '/Requests\/sec/ {print $2}'; }
wrk_checks() {
  wrk -t2 -c32 -d"${duration}s" -H "Authorization: Bearer $sk" -H "X-Keyledger-Model: openai-gpt-4o" \
    "http://127.0.0.1:$(cat "$work/$1.port")/v1/chat/completions" 2>/dev/null | rps
}
# Interleaved, twice each, best of each: the order of runs on a noisy machine is not the figure.
echo "wrk: heartbeats on, off, on, off..." >&2
on1=$(wrk_checks validator-1)
off1=$(wrk_checks validator-quiet)
on2=$(wrk_checks validator-1)
off2=$(wrk_checks validator-quiet)
on=$(python3 -c "print(max(float('$on1'), float('$on2')))")
off=$(python3 -c "print(max(float('$off1'), float('$off2')))")
ratio=$(python3 -c "print(f'{float($on)/float($off):.2f}')")
receipt_ratio=$(python3 -c "print(f'{float($r99)/max(float($d99), 0.001):.2f}')")

echo "RESULT name=receipts.n_of_n label=\"revocation receipt p99: API answered regenerate/delete -> receipt says" \
  "3 of 3 validators ($revocations ops)\" value=$r99 unit=ms reference=$d99" \
  "reference_label=\"p99 until all 3 really deny the old secret, polled\" ratio=$receipt_ratio" \
  "target=\"value <= 100\" detail=\"p50 $r50 ms, max $rmax ms; reality p50 $d50 ms, max $dmax ms\""
echo "RESULT name=receipts.heartbeat_cost label=\"validator HTTP checks/s with heartbeats on (wrk -t2 -c32," \
  "${duration}s)\" value=$on unit=checks/s reference=$off reference_label=\"a replica with heartbeats off\"" \
  "ratio=$ratio target=\"ratio >= 0.9\""
