#!/usr/bin/env bash
# `make test`'s Prometheus drill: Debian's prometheus with the repository's config and rules
# (deploy/prometheus) scrapes an API (127.0.0.1:18090) and a writer (18091), the targets that config
# names, both the debug build on the backends make test started under namespaces of their own.
# Through Prometheus's HTTP API (scripts/check-prometheus.py) it checks that both targets are up;
# then `flashdeal loadtest` runs experiments/prometheus-drill.json (buyers who view, order and pay)
# while MongoDB is frozen (SIGSTOP), so the writer is stuck on its write as the relay fills Kafka:
# every recording rule must produce a series, FlashDealKafkaLagHigh must go pending, and every
# Grafana panel's PromQL (deploy/grafana/dashboards) must parse and read only series the targets
# export or the rules record; and `flashdeal compare --prometheus` must read the run back from
# Prometheus alone. MongoDB is thawed on the way out, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FLASHDEAL_DRILL_BIN:-.build/debug/flashdeal}
OUT=.run/prometheus
PY=.venv/bin/python
: "${FLASHDEAL_REDIS_URL:?run under make test, or source .run/backends.env}"
. scripts/run-identity.sh
rm -rf "$OUT"
mkdir -p "$OUT"
MONGO_PID=$(cat "${FLASHDEAL_RUN_DIR:-.run}/mongo.pid")
TAG=prom$(date +%s)
COMMON=(--redis-key-prefix "$TAG" --kafka-topic-prefix "$TAG" --mongo-uri "${FLASHDEAL_MONGO_URI%/*}/$TAG" --log-access false)
PIDS=()
cleanup() {
    kill -CONT "$MONGO_PID" 2>/dev/null || true
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

"$BIN" serve --role writer --port 18091 "${COMMON[@]}" >"$OUT/writer.log" 2>&1 &
PIDS+=($!)
"$BIN" serve --role api --port 18090 "${COMMON[@]}" >"$OUT/api.log" 2>&1 &
PIDS+=($!)
prometheus --config.file=deploy/prometheus/prometheus.yml --storage.tsdb.path="$OUT/data" \
    --web.listen-address=127.0.0.1:19090 >"$OUT/prometheus.log" 2>&1 &
PIDS+=($!)
for port in 18090 18091; do
    for _ in $(seq 1 150); do
        curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
        sleep 0.2
    done
    curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "drill: the server on $port never became ready" >&2; tail -5 "$OUT"/*.log >&2; exit 1; }
done
"$PY" scripts/check-prometheus.py targets

# The load, and MongoDB frozen once its deal is seeded (k6 started): the writer's batch hangs on
# its write while the relay keeps filling Kafka; its lag is still reported, from a task of its own.
LOAD_START=$(date +%s)
"$BIN" loadtest --scenario experiments/prometheus-drill.json --target http://127.0.0.1:18090 --results "$OUT/results.sqlite" \
    >"$OUT/loadtest.log" 2>&1 &
LOAD=$!
for _ in $(seq 1 300); do
    pgrep -f "TARGET=http://127.0.0.1:18090" >/dev/null 2>&1 && break
    kill -0 "$LOAD" 2>/dev/null || break
    sleep 0.1
done
kill -STOP "$MONGO_PID"
echo "drill: MongoDB frozen under load"
wait "$LOAD" || { echo "drill: the load test failed" >&2; tail -5 "$OUT/loadtest.log" >&2; exit 1; }
LOAD_END=$(date +%s)
"$PY" scripts/check-prometheus.py recorded deploy/prometheus/rules/*.yml
"$PY" scripts/check-prometheus.py alert FlashDealKafkaLagHigh pending firing
"$PY" scripts/check-prometheus.py dashboards deploy/prometheus/rules/*.yml -- deploy/grafana/dashboards/*.json
kill -CONT "$MONGO_PID"
echo "drill: MongoDB thawed"
# The same run compared with its prediction from Prometheus alone, as a production sale would be.
"$BIN" compare --scenario experiments/prometheus-drill.json --prometheus http://127.0.0.1:19090 --from "$LOAD_START" --to "$LOAD_END" \
    --results "$OUT/results.sqlite" >"$OUT/compare.txt"
grep -q "measured (1 Prometheus run)" "$OUT/compare.txt" && grep -q "placeOrder P95" "$OUT/compare.txt" \
    || { echo "drill: compare --prometheus printed no placeOrder P95:" >&2; cat "$OUT/compare.txt" >&2; exit 1; }
echo "drill: compare --prometheus read the run back from Prometheus (.run/prometheus/compare.txt)"
