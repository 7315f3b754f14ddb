#!/usr/bin/env bash
# `make loadtest`: the live server (release build) on the real backends, one scenario through k6
# (`flashdeal loadtest`), then predicted against measured (`flashdeal compare`), then everything it
# started is stopped. Environment: FLASHDEAL_LOADTEST_SCENARIO (experiments/smoke.json),
# FLASHDEAL_LOADTEST_REPEAT (1), FLASHDEAL_LOADTEST_PORT (18190), FLASHDEAL_RESULTS
# (flashdeal-results.sqlite). The report: .run/loadtest/compare.html.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.build/release/flashdeal
SCENARIO=${FLASHDEAL_LOADTEST_SCENARIO:-experiments/smoke.json}
REPEAT=${FLASHDEAL_LOADTEST_REPEAT:-1}
PORT=${FLASHDEAL_LOADTEST_PORT:-18190}
RESULTS=${FLASHDEAL_RESULTS:-flashdeal-results.sqlite}
mkdir -p .run/loadtest

STARTED_BACKENDS=0
if ! bash scripts/backends.sh status >/dev/null 2>&1; then
    bash scripts/backends.sh up
    STARTED_BACKENDS=1
fi
. scripts/live-server.sh  # live_stop: a server that outlives its shutdown is killed, not waited on
SERVER=""
cleanup() {
    [ -n "$SERVER" ] && live_stop "$SERVER" 40 && wait "$SERVER" 2>/dev/null || true
    [ "$STARTED_BACKENDS" = 1 ] && bash scripts/backends.sh down || true
}
trap cleanup EXIT
set -a; . .run/backends.env; set +a
. scripts/run-identity.sh

"$BIN" serve --port "$PORT" >.run/loadtest/server.log 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
    kill -0 "$SERVER" 2>/dev/null || { cat .run/loadtest/server.log >&2; exit 1; }
    sleep 0.2
done

"$BIN" loadtest --scenario "$SCENARIO" --target "http://127.0.0.1:$PORT" --repeat "$REPEAT" --results "$RESULTS"
"$BIN" compare --scenario "$SCENARIO" --results "$RESULTS" --report .run/loadtest/compare.html
