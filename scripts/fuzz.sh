#!/usr/bin/env bash
# `make test`'s fuzzing: `flashdeal serve` (the debug build) on the backends make test started, under
# namespaces of its own, seeded by an admin with one live deal; then schemathesis
# (scripts/fuzz/test_graphql_fuzz.py) sends generated documents and variables for every query and
# mutation as one of 20 buyers, and checks no 5xx, no leaked fault and no deal oversold; then the
# server's /metrics passes `promtool check metrics` and exports every series the Prometheus rules read.
# Bounded: FLASHDEAL_FUZZ_EXAMPLES per operation (40) and FLASHDEAL_FUZZ_SECONDS for the run (240).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FLASHDEAL_FUZZ_BIN:-.build/debug/flashdeal}
PORT=${FLASHDEAL_FUZZ_PORT:-18390}
OUT=.run/fuzz
mkdir -p "$OUT"
: "${FLASHDEAL_REDIS_URL:?run under make test, or source .run/backends.env}"
. scripts/run-identity.sh
TAG=fuzz$(date +%s)
"$BIN" serve --port "$PORT" --limits-address-rate 0 --log-access true --redis-key-prefix "$TAG" --kafka-topic-prefix "$TAG" --mongo-uri "${FLASHDEAL_MONGO_URI%/*}/$TAG" >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/server.log" >&2; exit 1; }
    sleep 0.2
done
ADMIN="Authorization: Bearer $("$BIN" token --user fuzz-admin --admin)"
admin() { curl -fs -X POST "http://127.0.0.1:$PORT/graphql" -H 'Content-Type: application/json' -H "$ADMIN" -d "$1" | grep -q "$2"; }
NOW=$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)
END=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
admin '{"query":"mutation { createProduct(input: {id: \"fuzz-product\", name: \"Fuzz\", description: \"\"}) { __typename } }"}' ProductCreated
admin "{\"query\":\"mutation { scheduleDeal(input: {id: \\\"fuzz-deal\\\", productId: \\\"fuzz-product\\\", price: 500, startsAt: \\\"$NOW\\\", endsAt: \\\"$END\\\", perUserLimit: 2, stock: 30, reservationTtlSeconds: 600, paymentWindowSeconds: 300}) { __typename } }\"}" DealUpdated
admin '{"query":"mutation { startDeal(id: \"fuzz-deal\") { __typename } }"}' DealUpdated
TOKENS=$(for i in $(seq 1 20); do printf 'Bearer %s,' "$("$BIN" token --user "fuzz-buyer-$i")"; done)
FLASHDEAL_FUZZ_URL="http://127.0.0.1:$PORT/graphql" FLASHDEAL_FUZZ_TOKENS=${TOKENS%,} FLASHDEAL_FUZZ_STOCK=fuzz-deal=30 \
    FLASHDEAL_FUZZ_EXAMPLES=${FLASHDEAL_FUZZ_EXAMPLES:-40} timeout "${FLASHDEAL_FUZZ_SECONDS:-240}" \
    .venv/bin/python -m pytest -q -p no:cacheprovider scripts/fuzz/test_graphql_fuzz.py
# The server's /metrics after all that: promtool's lint, and every series the alerting and recording
# rules (deploy/prometheus/rules) read is one the server exports.
# The writer's lag appears once its consumer holds partitions (a group join takes seconds).
for _ in $(seq 1 60); do
    curl -fs "http://127.0.0.1:$PORT/metrics" >"$OUT/metrics.txt"
    grep -q '^flashdeal_writer_kafka_lag_messages{' "$OUT/metrics.txt" && break
    sleep 1
done
promtool check metrics <"$OUT/metrics.txt"
missing=0
# So does every series k8s/ reads: the canary's analysis and the HPA's custom metric (whose
# served name, _in_flight, is prometheus-adapter's, not the server's).
for name in $(grep -ohE 'flashdeal_[a-z_]+' deploy/prometheus/rules/*.yml k8s/components/canary/analysis-template.yaml \
    k8s/components/monitoring/prometheus-adapter-values.yaml | grep -v '_in_flight$' | sort -u); do
    # A histogram's name stands for its _bucket, _sum and _count series.
    grep -qE "^$name(_bucket)?[{ ]" "$OUT/metrics.txt" || { echo "fuzz: the rules or k8s/ read $name, which /metrics does not export" >&2; missing=1; }
done
[ "$missing" = 0 ] && echo "fuzz: /metrics passes promtool's lint and has every series the rules read"
# Its log, every line JSON, read as deploy/loki/promtail.yml's pipeline reads it.
.venv/bin/python scripts/check-log-pipeline.py deploy/loki/promtail.yml "$OUT/server.log" || missing=1
exit "$missing"
