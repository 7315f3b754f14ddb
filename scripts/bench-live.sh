#!/usr/bin/env bash
# `make bench-live`: the live server (release build) on the real backends on loopback, loaded by k6
# on the same machine. Measures the raw GET /health/live ceiling, then each load level of each mix
# (k6/bench-live.js, open model): `bench`, a placeOrder/deal-read mix, and `journey`, the whole
# buyer journey (deal list, deal, order, poll, pay through a provider of FLASHDEAL_BENCH_PAYMENT_MS,
# 20 ms, cancel), with rps, P50/P95/P99 (per operation for the journey), faults, sold-out answers
# and the server's CPU share; then how long the writer tier (which ran on the CPU the request path
# left, see live-server.sh) takes to get every order k6 was told was placed into MongoDB
# (FLASHDEAL_BENCH_DRAIN_LIMIT, 900 s). The full run places about 270k orders (each pair and each
# durability run is another 2k journey) and this machine's writer, on what CPU the request path
# leaves and about 4.5 messages an order, is some 100k behind when the load stops, so the full run
# ends its wait INCOMPLETE, saying at what rate the writer was still writing (a stopped writer says
# so); one level of the journey is in MongoDB within half a minute of its end.
# Results: .run/bench-live/report.{txt,json}.
# Environment: FLASHDEAL_BENCH_LEVELS ("500 1000 2000"), FLASHDEAL_BENCH_MIXES ("bench journey"),
# FLASHDEAL_BENCH_DURATION (30s), FLASHDEAL_BENCH_STOCK (40000 units per level: 2k rps for 30 s
# places 30000), FLASHDEAL_BENCH_PORT (18090), FLASHDEAL_PIN (split: the API and k6 on cores of their
# own; the placement is in the report).
# Then the price of durability, the journey at the top level once more under each of
# FLASHDEAL_BENCH_DURABILITY ("always replica"; "" for none), beside the same level at Redis's
# default (appendfsync everysec): `always` (CONFIG SET appendfsync always: an fsync before each
# reply) and `replica` (a replica Redis of the benchmark's own, and the API started with
# FLASHDEAL_REDIS_REPLICAS=1: every write acknowledged by it, WAIT, before it is answered).
# Then the price of security: the journey at the top level with authentication and rate limits on
# (bearer tokens, the buyer's and the address's buckets) and off (a trusted gateway's X-User-Id, no
# buckets), alternately, FLASHDEAL_BENCH_SECURITY_PAIRS times (2; 0 for none) in the order on, off,
# off, on, ...; the report compares the server's CPU per request.
set -euo pipefail
cd "$(dirname "$0")/.."

K6=.venv/flashdeal/k6
PORT=${FLASHDEAL_BENCH_PORT:-18090}
LEVELS=${FLASHDEAL_BENCH_LEVELS:-"500 1000 2000"}
DURATION=${FLASHDEAL_BENCH_DURATION:-30s}
STOCK=${FLASHDEAL_BENCH_STOCK:-40000}
MIXES=${FLASHDEAL_BENCH_MIXES:-"bench journey"}
DURABILITY=${FLASHDEAL_BENCH_DURABILITY-"always replica"}
SECURITY_PAIRS=${FLASHDEAL_BENCH_SECURITY_PAIRS:-2}
OBSERVABILITY_PAIRS=${FLASHDEAL_BENCH_OBSERVABILITY_PAIRS:-4}
PAYMENT_MS=${FLASHDEAL_BENCH_PAYMENT_MS:-20}
export FLASHDEAL_PAYMENT_LATENCY=${PAYMENT_MS}ms
OUT=.run/bench-live
TARGET="http://127.0.0.1:$PORT"
mkdir -p "$OUT"
rm -f "$OUT"/*.json

[ -x "$K6" ] || { echo "bench-live: $K6 is missing: run scripts/bootstrap.sh" >&2; exit 1; }
. scripts/live-server.sh
live_server_up bench-live "$PORT" "$OUT"
live_placement >"$OUT/placement.txt"

ADMIN_AUTH="Authorization: Bearer $("$LIVE_BIN" token --user admin --admin --ttl 24h)"
admin() {
    # The token, and the header a trusted-header run reads (FLASHDEAL_AUTH_MODE, with
    # FLASHDEAL_AUTH_TRUSTED_ADMINS=admin): each mode ignores the other.
    curl -fs -X POST "$TARGET/graphql" -H 'Content-Type: application/json' -H "$ADMIN_AUTH" -H 'X-User-Id: admin' -d "$1" >/dev/null
}
RUN=$(date +%s)
admin '{"query":"mutation { createProduct(input: {id: \"bench-product\", name: \"Bench kettle\", description: \"1.7 l\"}) { __typename } }"}'
NOW=$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)
END=$(date -u -d '+6 hours' +%Y-%m-%dT%H:%M:%SZ)

cpu_seconds() {  # utime + stime of the server, in seconds
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$SERVER/stat"
}
memory_mib() {  # memory_mib PID FIELD: VmRSS (resident now) or VmHWM (its peak), in MiB
    awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0
}

echo "bench-live: ceiling (GET /health/live, closed model, 10 s)"
"${LOAD_PIN[@]}" "$K6" run --quiet --summary-export "$OUT/ceiling.json" -e TARGET="$TARGET" -e DURATION=10s k6/ceiling.js >"$OUT/ceiling.log" 2>&1 || true

run_level() {  # run_level MIX LEVEL NAME
    local mix=$1 level=$2 name=$3
    local deal="bench-$RUN-${name//[+~]/.}"  # a deal id takes letters, digits and -_.:
    admin "{\"query\":\"mutation { scheduleDeal(input: {id: \\\"$deal\\\", productId: \\\"bench-product\\\", price: 9900, startsAt: \\\"$NOW\\\", endsAt: \\\"$END\\\", perUserLimit: 2, stock: $STOCK, reservationTtlSeconds: 600, paymentWindowSeconds: 300}) { __typename } }\"}"
    admin "{\"query\":\"mutation { startDeal(id: \\\"$deal\\\") { __typename } }\"}"
    echo "bench-live: $mix mix, $level rps for $DURATION on $deal"
    before=$(cpu_seconds); start=$(date +%s.%N)
    "${LOAD_PIN[@]}" "$K6" run --quiet --summary-export "$OUT/level-$name.json" -e TARGET="$TARGET" -e DEAL="$deal" -e RATE="$level" -e MIX="$mix" \
        -e PAYMENT_MS="$PAYMENT_MS" -e DURATION="$DURATION" k6/bench-live.js >"$OUT/level-$name.log" 2>&1 || true
    after=$(cpu_seconds); finish=$(date +%s.%N)
    # The memory the deployment's requests and limits come from (docs/deploy.md): the API's resident
    # set after the level and its peak so far, and the writer's peak.
    awk -v a="$after" -v b="$before" -v f="$finish" -v s="$start" -v rss="$(memory_mib "$SERVER" VmRSS)" \
        -v hwm="$(memory_mib "$SERVER" VmHWM)" -v writer="$(memory_mib "$LIVE_WRITER" VmHWM)" \
        'BEGIN { printf "{\"cpu\": %.3f, \"wall\": %.3f, \"rss_mib\": %s, \"peak_rss_mib\": %s, \"writer_peak_rss_mib\": %s}\n", a - b, f - s, rss, hwm, writer }' >"$OUT/cpu-$name.json"
}

for mix in $MIXES; do
    for level in $LEVELS; do run_level "$mix" "$level" "$([ "$mix" = bench ] && echo "$level" || echo "$mix-$level")"; done
done

TOP=${LEVELS##* }
REDIS_CLI="redis-cli -p ${FLASHDEAL_BENCH_REDIS_PORT:-16479}"
REPLICA=""
for variant in $DURABILITY; do
    case $variant in
    always)
        $REDIS_CLI CONFIG SET appendfsync always >/dev/null
        run_level journey "$TOP" "journey+always-$TOP"
        $REDIS_CLI CONFIG SET appendfsync everysec >/dev/null ;;
    replica)
        mkdir -p .run/bench-backends/replica
        redis-server --bind 127.0.0.1 --port $(( ${FLASHDEAL_BENCH_REDIS_PORT:-16479} + 1 )) --dir .run/bench-backends/replica \
            --replicaof 127.0.0.1 "${FLASHDEAL_BENCH_REDIS_PORT:-16479}" --appendonly yes --save "" --daemonize no \
            >.run/bench-backends/replica/redis.log 2>&1 &
        REPLICA=$!
        trap 'kill -KILL $REPLICA 2>/dev/null || true; live_server_down' EXIT
        # In sync once it acknowledges a write (the first full sync carries the whole data set).
        for _ in $(seq 1 300); do
            [ "$(printf 'SET fd:replica-probe 1\r\nWAIT 1 200\r\n' | $REDIS_CLI | tail -1)" = 1 ] && break
            sleep 0.2
        done
        live_api_restart FLASHDEAL_REDIS_REPLICAS=1
        run_level journey "$TOP" "journey+replica-$TOP"
        live_api_restart
        kill -KILL "$REPLICA" 2>/dev/null || true ;;
    *) echo "bench-live: unknown durability variant $variant (always, replica)" >&2; exit 1 ;;
    esac
done

security_run() {  # security_run on|off PAIR
    if [ "$1" = on ]; then
        live_api_restart
        run_level journey "$TOP" "journey~on$2-$TOP"
    else
        # k6 reads FLASHDEAL_AUTH_MODE too, and names its buyers in X-User-Id.
        export FLASHDEAL_AUTH_MODE=trusted-header
        live_api_restart FLASHDEAL_AUTH_TRUSTED_ADMINS=admin FLASHDEAL_LIMITS_BUYER_RATE=0 FLASHDEAL_LIMITS_ADDRESS_RATE=0
        run_level journey "$TOP" "journey~off$2-$TOP"
        unset FLASHDEAL_AUTH_MODE
    fi
}
for pair in $(seq 1 "$SECURITY_PAIRS"); do
    if [ $((pair % 2)) = 1 ]; then security_run on "$pair"; security_run off "$pair"; else security_run off "$pair"; security_run on "$pair"; fi
done
[ "$SECURITY_PAIRS" -gt 0 ] && live_api_restart

# The price of observability: the journey at the top level with tracing exporting a 1% sample over
# OTLP/HTTP (to scripts/otlp-receiver.py, which decodes every span it gets) and metrics on, against
# both off (metrics.enabled false: /metrics keeps only the process's series), alternately,
# FLASHDEAL_BENCH_OBSERVABILITY_PAIRS times (4, since one pair alone moves by up to ±5%; 0 for none);
# access logs at their default (off) in both.
# FLASHDEAL_BENCH_OTEL_SAMPLER and _SAMPLER_ARG change the sampler (to see what an unsampled span costs).
observability_run() {  # observability_run traced|plain PAIR
    if [ "$1" = traced ]; then
        live_api_restart OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$OTLP_PORT" OTEL_TRACES_SAMPLER="${FLASHDEAL_BENCH_OTEL_SAMPLER:-parentbased_traceidratio}" \
            OTEL_TRACES_SAMPLER_ARG="${FLASHDEAL_BENCH_OTEL_SAMPLER_ARG:-0.01}" FLASHDEAL_METRICS_ENABLED=true
    else
        live_api_restart FLASHDEAL_METRICS_ENABLED=false
    fi
    run_level journey "$TOP" "journey~$1$2-$TOP"
}
if [ "$OBSERVABILITY_PAIRS" -gt 0 ]; then
    OTLP_PORT=${FLASHDEAL_BENCH_OTLP_PORT:-18418}
    rm -f "$OUT/spans.jsonl"
    .venv/bin/python scripts/otlp-receiver.py --port "$OTLP_PORT" --out "$OUT/spans.jsonl" >/dev/null &
    RECEIVER=$!
    trap 'kill -KILL $RECEIVER 2>/dev/null || true; live_server_down' EXIT
    for pair in $(seq 1 "$OBSERVABILITY_PAIRS"); do
        if [ $((pair % 2)) = 1 ]; then observability_run traced "$pair"; observability_run plain "$pair"
        else observability_run plain "$pair"; observability_run traced "$pair"; fi
    done
    kill -KILL "$RECEIVER" 2>/dev/null || true
    live_api_restart
fi

echo "bench-live: waiting for the writer to put every placed order in MongoDB"
.venv/bin/python scripts/bench/orders_written.py "$FLASHDEAL_MONGO_URI" "${FLASHDEAL_BENCH_DRAIN_LIMIT:-900}" "$OUT"/level-*.json >"$OUT/drain.json"
python3 scripts/bench/bench_live_report.py "$OUT" "$LEVELS" "$MIXES" "$PAYMENT_MS" "$DURABILITY" "$SECURITY_PAIRS" "$OBSERVABILITY_PAIRS" | tee "$OUT/report.txt"
