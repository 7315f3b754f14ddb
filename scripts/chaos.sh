#!/usr/bin/env bash
# `make chaos`: fault drills under a running k6 buyer journey (k6/chaos.js: browse, place, pay,
# cancel) against the API and the writer as separate processes on the real backends (their own,
# started empty for each drill). Each drill is scripted and bounded in time: warm up, break
# something, heal it, let k6 finish, then wait until `flashdeal audit` finds every order k6 was
# told was placed in MongoDB in the state its answers allow, with Redis equal to the event store's
# replay, conservation holding, nothing oversold and nothing charged twice (or the drain limit
# passes, and the audit's findings are the drill's result). During each drill the writer's /metrics
# is sampled every second (outbox entries, Kafka lag) and k6's requests are timed per second, so the
# report gives the error rate and P95 during the fault, the time to recover and the lag peaks. After
# each drill the simulator runs the same load with the same fault (experiments/chaos.json, the
# fault's measured start and length), and the report puts its prediction beside the measurement.
#
# Usage: scripts/chaos.sh [--short] [--report] [DRILL ...]
#   drills: api-kill writer-kill broker-freeze mongo-freeze consumer-pause redis-crash-always redis-crash-everysec
#   --short: the two drills `make test` runs (api-kill, broker-freeze), 5-s faults, a light load,
#            on the debug build; results in .run/chaos-short/ only.
#   Without --short: every drill on the release build, 30-s faults, and docs/chaos-report.md rewritten.
#   --report: no drill; the simulator's predictions and the report again from the drills' recorded
#            data (after a change to the model or the report's arithmetic).
# Environment: FLASHDEAL_LIVE_BIN (the binary), FLASHDEAL_CHAOS_RATE (visits/s), FLASHDEAL_CHAOS_PORT (18290).
set -euo pipefail
cd "$(dirname "$0")/.."

SHORT=0; REPORT_ONLY=0
if [ "${1:-}" = --short ]; then SHORT=1; shift; fi
if [ "${1:-}" = --report ]; then REPORT_ONLY=1; shift; fi
ALL="api-kill writer-kill broker-freeze mongo-freeze consumer-pause redis-crash-always redis-crash-everysec"
if [ "$SHORT" = 1 ]; then
    DRILLS=${*:-"api-kill broker-freeze"}
    BIN=${FLASHDEAL_LIVE_BIN:-.build/debug/flashdeal}
    RATE=${FLASHDEAL_CHAOS_RATE:-15}; WARMUP=8; FAULT=5; TAIL=8; DRAIN_LIMIT=240
    OUT=.run/chaos-short
else
    DRILLS=${*:-$ALL}
    BIN=${FLASHDEAL_LIVE_BIN:-.build/release/flashdeal}
    RATE=${FLASHDEAL_CHAOS_RATE:-100}; WARMUP=20; FAULT=30; TAIL=30; DRAIN_LIMIT=900
    OUT=.run/chaos
fi
K6=.venv/flashdeal/k6
PY=.venv/bin/python
PORT=${FLASHDEAL_CHAOS_PORT:-18290}
TARGET="http://127.0.0.1:$PORT"
[ -x "$BIN" ] || { echo "chaos: $BIN is missing (swift build$([ "$SHORT" = 1 ] || echo " -c release") --product flashdeal)" >&2; exit 1; }
[ -x "$K6" ] || { echo "chaos: $K6 is missing: run scripts/bootstrap.sh" >&2; exit 1; }
mkdir -p "$OUT"
# A drill's old results go when it runs again; naming drills keeps the others' for the report.
[ $# -gt 0 ] || [ "$REPORT_ONLY" = 1 ] || rm -rf "${OUT:?}"/*
export FLASHDEAL_PAYMENT_LATENCY=20ms GOGC=${GOGC:-400}
. scripts/run-identity.sh
RUN_DIR=.run/chaos-backends
REDIS_PORT=16579

backends() {
    FLASHDEAL_RUN_DIR=$RUN_DIR FLASHDEAL_REDIS_PORT=$REDIS_PORT FLASHDEAL_KAFKA_PORT=19292 FLASHDEAL_MONGO_PORT=27317 bash scripts/backends.sh "$@"
}
pid_of() { cat "$RUN_DIR/$1.pid"; }

API=""; WRITER=""; SAMPLER=""
start_api() { "$BIN" serve --role api --port "$PORT" >>"$OUT/$DRILL-api.log" 2>&1 & API=$!; }
start_writer() { "$BIN" serve --role writer --port $((PORT + 1)) >>"$OUT/$DRILL-writer.log" 2>&1 & WRITER=$!; }
stop_all() {
    for pid in $SAMPLER $API $WRITER; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
    for pid in $SAMPLER $API $WRITER; do wait "$pid" 2>/dev/null || true; done
    API=""; WRITER=""; SAMPLER=""
    for name in kafka mongo redis; do [ -f "$RUN_DIR/$name.pid" ] && kill -CONT "$(pid_of $name)" 2>/dev/null || true; done
    backends down >/dev/null 2>&1 || true
}
trap stop_all EXIT
wait_ready() {  # wait_ready URL SECONDS
    for _ in $(seq 1 $(($2 * 5))); do curl -fs "$1/health/ready" >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}
ADMIN_AUTH="Authorization: Bearer $("$BIN" token --user admin --admin --ttl 24h)"
admin() { curl -fs -X POST "$TARGET/graphql" -H 'Content-Type: application/json' -H "$ADMIN_AUTH" -d "$1" >/dev/null; }
now() { date +%s.%N; }

# The backlog every second: epoch, outbox entries (as the API reads them for its backpressure, so
# a writer stopped or killed does not hide them), Kafka lag (the writer's, summed over partitions).
sample() {
    while true; do
        api=$(curl -fs --max-time 1 "http://127.0.0.1:$PORT/metrics" 2>/dev/null || true)
        m=$(curl -fs --max-time 1 "http://127.0.0.1:$((PORT + 1))/metrics" 2>/dev/null || true)
        outbox=$(printf '%s\n' "$api" | awk '/^flashdeal_outbox_entries /{print $2}')
        lag=$(printf '%s\n' "$m" | awk '/^flashdeal_writer_kafka_lag_messages/{s += $2; n++} END {if (n) print s}')
        echo "$(date +%s.%N),${outbox:-},${lag:-}"
        sleep 1
    done
}

fault() {  # the drill's break and heal: it returns once the broken part serves again
    case $1 in
        api-kill) kill -9 "$API"; wait "$API" 2>/dev/null || true; sleep 2; start_api; wait_ready "$TARGET" 30 || true ;;
        writer-kill)
            kill -9 "$WRITER"; wait "$WRITER" 2>/dev/null || true; sleep 2; start_writer
            wait_ready "http://127.0.0.1:$((PORT + 1))" 60 || true ;;
        broker-freeze) kill -STOP "$(pid_of kafka)"; sleep "$FAULT"; kill -CONT "$(pid_of kafka)" ;;
        mongo-freeze) kill -STOP "$(pid_of mongo)"; sleep "$FAULT"; kill -CONT "$(pid_of mongo)" ;;
        consumer-pause) kill -STOP "$WRITER"; sleep "$FAULT"; kill -CONT "$WRITER" ;;
        redis-crash-always | redis-crash-everysec)
            # The fault lasts until Redis answers again (the rest of `up` only checks the others).
            kill -9 "$(pid_of redis)"; sleep 1; FLASHDEAL_REDIS_ARGS="--appendfsync $fsync" backends up >/dev/null & up=$!
            for _ in $(seq 1 200); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
            healed=$(now); wait "$up" ;;
        *) echo "chaos: unknown drill $1 (drills: $ALL)" >&2; exit 2 ;;
    esac
}

predict() {  # The simulator's prediction for the same load and fault (experiments/chaos.json).
    "$PY" scripts/chaos/report.py --scenario "$OUT" "$1" >"$OUT/$1-scenario.json"
    "$BIN" simulate --scenario "$OUT/$1-scenario.json" --format json --results "$OUT/predictions.sqlite" \
        >"$OUT/$1-predicted.json" 2>"$OUT/$1-simulate.log" || echo "chaos: the simulator failed for $1 (see $OUT/$1-simulate.log)" >&2
}

RUN=$DRILLS
if [ "$REPORT_ONLY" = 1 ]; then
    for DRILL in $DRILLS; do if [ -f "$OUT/$DRILL-times.json" ]; then predict "$DRILL"; fi; done
    RUN=""
fi

for DRILL in $RUN; do
    echo "chaos: $DRILL"
    rm -f "$OUT/$DRILL-"*
    fsync=everysec; [ "$DRILL" = redis-crash-always ] && fsync=always
    backends down >/dev/null 2>&1 || true
    FLASHDEAL_REDIS_ARGS="--appendfsync $fsync" backends up --fresh >"$OUT/$DRILL-backends.log"
    set -a; . "$RUN_DIR/backends.env"; set +a
    start_writer; start_api
    wait_ready "$TARGET" 60 || { echo "chaos: the API never became ready" >&2; tail -20 "$OUT/$DRILL-api.log" >&2; exit 1; }
    sample >"$OUT/$DRILL-lag.csv" & SAMPLER=$!
    deal="chaos-$DRILL"
    begin=$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ); end=$(date -u -d '+6 hours' +%Y-%m-%dT%H:%M:%SZ)
    admin '{"query":"mutation { createProduct(input: {id: \"chaos-product\", name: \"Chaos kettle\", description: \"1.7 l\"}) { __typename } }"}'
    admin "{\"query\":\"mutation { scheduleDeal(input: {id: \\\"$deal\\\", productId: \\\"chaos-product\\\", price: 9900, startsAt: \\\"$begin\\\", endsAt: \\\"$end\\\", perUserLimit: 2, stock: 100000, reservationTtlSeconds: 3600, paymentWindowSeconds: 1800}) { __typename } }\"}"
    admin "{\"query\":\"mutation { startDeal(id: \\\"$deal\\\") { __typename } }\"}"
    duration=$((WARMUP + FAULT + TAIL))
    "$K6" run --quiet --out "csv=$OUT/$DRILL-requests.csv" --summary-export "$OUT/$DRILL-k6.json" -e TARGET="$TARGET" -e DEAL="$deal" \
        -e RATE="$RATE" -e DURATION="${duration}s" k6/chaos.js >"$OUT/$DRILL-k6.log" 2>&1 &
    k6pid=$!; load_start=$(now)
    sleep "$WARMUP"
    healed=""; fault_start=$(now); fault "$DRILL"; fault_end=${healed:-$(now)}
    wait "$k6pid" || true
    load_end=$(now)
    # Recovery: until the audit is clean (every acknowledged order written, Redis equal to the log).
    recovered=""
    until [ -n "$recovered" ]; do
        if "$BIN" audit --acknowledged "$OUT/$DRILL-k6.log" --json >"$OUT/$DRILL-audit.json" 2>"$OUT/$DRILL-audit.err"; then
            recovered=$(now)
        elif awk -v a="$(now)" -v b="$load_end" -v l="$DRAIN_LIMIT" 'BEGIN { exit !(a - b > l) }'; then
            recovered=none
        else
            sleep 3
        fi
    done
    cat >"$OUT/$DRILL-times.json" <<JSON
{"drill": "$DRILL", "load_start": $load_start, "load_seconds": $duration, "fault_start": $fault_start, "fault_end": $fault_end, "load_end": $load_end, "recovered": $([ "$recovered" = none ] && echo null || echo "$recovered"), "fsync": "$fsync", "rate": $RATE, "fault_seconds": $FAULT}
JSON
    stop_all
    predict "$DRILL"
done

# The report covers every drill with results here, in the order of $ALL.
REPORTED=$(for d in $ALL; do if [ -f "$OUT/$d-times.json" ]; then printf '%s ' "$d"; fi; done)
"$PY" scripts/chaos/report.py "$OUT" $REPORTED >"$OUT/report.md"
cat "$OUT/report.md"
[ "$SHORT" = 1 ] || cp "$OUT/report.md" docs/chaos-report.md
# The drills' verdicts: any audit finding fails the run, except where the report explains it
# (a Redis crash with appendfsync everysec may lose up to a second of writes).
"$PY" scripts/chaos/report.py --check "$OUT" $DRILLS
