#!/usr/bin/env bash
# `make bench-live`: the live server (release build) on the real backends on loopback, loaded by k6
# on the same machine. Measures the raw GET /health/live ceiling, then each load level of a
# placeOrder/deal-read mix (k6/bench-live.js, open model) with rps, P50/P95/P99, faults, sold-out
# answers and the server's CPU share. Results: .run/bench-live/report.{txt,json}.
# Environment: FLASHDEAL_BENCH_LEVELS ("500 1000 2000"), FLASHDEAL_BENCH_DURATION (30s),
# FLASHDEAL_BENCH_STOCK (20000 units per level), FLASHDEAL_BENCH_PORT (18090).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.build/release/flashdeal
K6=.venv/flashdeal/k6
PORT=${FLASHDEAL_BENCH_PORT:-18090}
LEVELS=${FLASHDEAL_BENCH_LEVELS:-"500 1000 2000"}
DURATION=${FLASHDEAL_BENCH_DURATION:-30s}
STOCK=${FLASHDEAL_BENCH_STOCK:-20000}
OUT=.run/bench-live
TARGET="http://127.0.0.1:$PORT"
mkdir -p "$OUT"
rm -f "$OUT"/*.json

[ -x "$BIN" ] || { echo "bench-live: $BIN is missing: run 'swift build -c release --product flashdeal'" >&2; exit 1; }
[ -x "$K6" ] || { echo "bench-live: $K6 is missing: run scripts/bootstrap.sh" >&2; exit 1; }

STARTED_BACKENDS=0
if ! bash scripts/backends.sh status >/dev/null 2>&1; then
    bash scripts/backends.sh up
    STARTED_BACKENDS=1
fi
SERVER=""
WRITER=""
cleanup() {
    [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    [ -n "$WRITER" ] && kill -TERM "$WRITER" 2>/dev/null && wait "$WRITER" 2>/dev/null || true
    [ "$STARTED_BACKENDS" = 1 ] && bash scripts/backends.sh down || true
}
trap cleanup EXIT
set -a; . .run/backends.env; set +a

# The API and the writer (Kafka → MongoDB) as two processes, the writer at a lower CPU priority:
# on two shared cores that is what separate deployments give the request path. Kafka buffers what
# the writer has not written yet.
nice -n 10 "$BIN" serve --role writer --port $((PORT + 1)) >"$OUT/writer.log" 2>&1 &
WRITER=$!
"$BIN" serve --role api --port "$PORT" >"$OUT/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
    curl -fs "$TARGET/health/ready" >/dev/null 2>&1 && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/server.log" >&2; exit 1; }
    sleep 0.2
done
curl -fs "$TARGET/health/ready" >/dev/null || { echo "bench-live: the server never became ready" >&2; exit 1; }

admin() {
    curl -fs -X POST "$TARGET/graphql" -H 'Content-Type: application/json' -H 'X-User-Id: admin' -d "$1" >/dev/null
}
RUN=$(date +%s)
admin '{"query":"mutation { createProduct(input: {id: \"bench-product\", name: \"Bench kettle\", description: \"1.7 l\"}) { __typename } }"}'
NOW=$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)
END=$(date -u -d '+6 hours' +%Y-%m-%dT%H:%M:%SZ)

cpu_seconds() {  # utime + stime of the server, in seconds
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$SERVER/stat"
}

echo "bench-live: ceiling (GET /health/live, closed model, 10 s)"
"$K6" run --quiet --summary-export "$OUT/ceiling.json" -e TARGET="$TARGET" -e DURATION=10s k6/ceiling.js >"$OUT/ceiling.log" 2>&1 || true

for level in $LEVELS; do
    deal="bench-$RUN-$level"
    admin "{\"query\":\"mutation { scheduleDeal(input: {id: \\\"$deal\\\", productId: \\\"bench-product\\\", price: 9900, startsAt: \\\"$NOW\\\", endsAt: \\\"$END\\\", perUserLimit: 2, stock: $STOCK, reservationTtlSeconds: 600, paymentWindowSeconds: 300}) { __typename } }\"}"
    admin "{\"query\":\"mutation { startDeal(id: \\\"$deal\\\") { __typename } }\"}"
    echo "bench-live: $level rps for $DURATION on $deal"
    before=$(cpu_seconds); start=$(date +%s.%N)
    "$K6" run --quiet --summary-export "$OUT/level-$level.json" -e TARGET="$TARGET" -e DEAL="$deal" -e RATE="$level" \
        -e DURATION="$DURATION" k6/bench-live.js >"$OUT/level-$level.log" 2>&1 || true
    after=$(cpu_seconds); finish=$(date +%s.%N)
    awk -v a="$after" -v b="$before" -v f="$finish" -v s="$start" 'BEGIN { printf "{\"cpu\": %.3f, \"wall\": %.3f}\n", a - b, f - s }' >"$OUT/cpu-$level.json"
done

python3 scripts/bench/bench_live_report.py "$OUT" "$LEVELS" | tee "$OUT/report.txt"
