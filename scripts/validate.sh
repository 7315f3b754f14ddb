#!/usr/bin/env bash
# `make validate`: the validation grid of docs/validation.md, from one calibration. Starts the release
# server on backends of its own as `make bench-live` runs it (scripts/live-server.sh: an API process,
# the writer tier in the idle scheduling class, placement per FLASHDEAL_PIN), then:
#  1. `flashdeal calibrate` against it: the backends' service times, each operation's CPU per
#     request from the server's own CPU accounting over k6 phases, the other processes' CPU per
#     request, the CPU-by-rate curve and the wake-up delay, and the writer tier's CPU per message
#     from its catch-up after the journey phases, which run first, on the fresh backends
#     (experiments/calibration/measured*.json);
#     then, on a fresh start, the writer tier's backlog and catch-up after one run of
#     FLASHDEAL_VALIDATE_DRAIN (experiments/drain-2000.json; "" skips it), predicted and measured
#     (`flashdeal drain`);
#  2. both mixes (validation: deal views and orders; journey: browse, view, order, poll, pay through a
#     60 ms provider, cancel) at every level, FLASHDEAL_VALIDATE_REPEAT k6 runs each, stored; each
#     run on a server and backends started afresh (`--before-run`), as each simulated run starts
#     from an empty system: no run is measured behind the runs before it (the writer tier's
#     backlog, relayed through Redis at the request path's priority, and their reservations
#     expiring);
#  3. the saturation point of each mix, stepped up on both sides (`flashdeal saturation`, each
#     step on a fresh start too);
#  4. `flashdeal validate --no-fit`: every level predicted with the calibration as measured (no
#     fitted factor) and compared; docs/validation.md's sections rewritten.
# Environment: FLASHDEAL_VALIDATE_LEVELS ("500 1000 2000 3000"), FLASHDEAL_VALIDATE_MIXES ("validation
# journey"), FLASHDEAL_VALIDATE_REPEAT (3), FLASHDEAL_VALIDATE_PORT (18290), FLASHDEAL_VALIDATE_REUSE
# (1: no server, no calibration, no k6; predict the stored runs again with the calibration on disk),
# FLASHDEAL_VALIDATE_SET (model settings for the predictions, PATH=VALUE separated by spaces),
# FLASHDEAL_VALIDATE_SATURATION ("1250 250 3500": from, step, to; "" skips it), FLASHDEAL_VALIDATE_DRAIN
# (experiments/drain-2000.json), FLASHDEAL_RESULTS
# (flashdeal-results.sqlite).
set -euo pipefail
cd "$(dirname "$0")/.."

LEVELS=${FLASHDEAL_VALIDATE_LEVELS:-"500 1000 2000 3000"}
MIXES=${FLASHDEAL_VALIDATE_MIXES:-"validation journey"}
REPEAT=${FLASHDEAL_VALIDATE_REPEAT:-3}
PORT=${FLASHDEAL_VALIDATE_PORT:-18290}
REUSE=${FLASHDEAL_VALIDATE_REUSE:-0}
RESULTS=${FLASHDEAL_RESULTS:-flashdeal-results.sqlite}
SATURATION=${FLASHDEAL_VALIDATE_SATURATION-"1250 250 3500"}
DRAIN=${FLASHDEAL_VALIDATE_DRAIN-experiments/drain-2000.json}
# The journey's provider; the validation mix does not pay.
export FLASHDEAL_PAYMENT_LATENCY=60ms
OUT=.run/validate
TARGET="http://127.0.0.1:$PORT"
mkdir -p "$OUT"
section() { [ "$1" = validation ] && echo levels || echo journey-levels; }
# The placement the predictions model: split pins the API to one core (and calibrate leaves k6 out of
# the demand on it), so the model gets one core.
MODEL=()
[ "${FLASHDEAL_PIN:-}" = split ] && MODEL=(--set http.coresPerReplica=1)
# Model settings of a calibration recorded before the model had them (FLASHDEAL_VALIDATE_SET,
# space-separated PATH=VALUE): the measured runs stay the scenario files'.
for setting in ${FLASHDEAL_VALIDATE_SET:-}; do MODEL+=(--set "$setting"); done

if [ "$REUSE" != 1 ]; then
    . scripts/live-server.sh
    live_server_up validate "$PORT" "$OUT"
    echo "validate: calibrating under load ($(live_placement))"
    WRITER="http://127.0.0.1:$((PORT + 1))"
    FRESH="bash scripts/live-server.sh restart validate $PORT $OUT"
    "${LOAD_PIN[@]}" "$LIVE_BIN" calibrate --target "$TARGET" --writer "$WRITER" >"$OUT/calibrate.json" 2>"$OUT/calibrate.log"
    if [ -n "$DRAIN" ]; then
        echo "validate: the writer tier's backlog and catch-up after $DRAIN"
        # On a fresh start, as every measured run: not behind calibrate's phases (the writer's
        # MongoDB holding their orders, its counters running).
        $FRESH >"$OUT/drain-restart.log" 2>&1
        "${LOAD_PIN[@]}" "$LIVE_BIN" drain --scenario "$DRAIN" --target "$TARGET" --writer "$WRITER" --work-directory "$OUT/drain" "${MODEL[@]}" \
            --document docs/validation.md --section writer-drain | tee "$OUT/drain.txt"
    fi
    for mix in $MIXES; do
        for level in $LEVELS; do
            echo "validate: experiments/$mix-$level.json, $REPEAT k6 runs"
            "${LOAD_PIN[@]}" "$LIVE_BIN" loadtest --scenario "experiments/$mix-$level.json" --target "$TARGET" --before-run "$FRESH" --repeat "$REPEAT" \
                --results "$RESULTS" --work-directory "$OUT/k6" >"$OUT/loadtest-$mix-$level.txt"
        done
        if [ -n "$SATURATION" ]; then
            read -r from step to <<<"$SATURATION"
            echo "validate: the saturation point of the $mix mix, $from to $to requests/s by $step"
            "${LOAD_PIN[@]}" "$LIVE_BIN" saturation --scenario "experiments/$mix-2000.json" --from "$from" --step "$step" --to "$to" "${MODEL[@]}" \
                --target "$TARGET" --before-run "$FRESH" --work-directory "$OUT/saturation" --document docs/validation.md --section "saturation-$mix" \
                | tee "$OUT/saturation-$mix.txt"
        fi
    done
fi
for mix in $MIXES; do
    ARGS=()
    for level in $LEVELS; do ARGS+=(--scenario "experiments/$mix-$level.json"); done
    .build/release/flashdeal validate "${ARGS[@]}" --no-fit --measured "$REPEAT" --results "$RESULTS" "${MODEL[@]}" \
        --document docs/validation.md --section "$(section "$mix")" | tee "$OUT/report-$mix.txt"
done
