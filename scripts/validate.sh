#!/usr/bin/env bash
# `make validate`: predicted against measured at the plan's three load levels, as docs/validation.md
# reports it. Starts the release server on backends of its own as `make bench-live` runs it
# (scripts/live-server.sh: an API process, the writer tier in the idle scheduling class), runs every level's scenario through k6 FLASHDEAL_VALIDATE_REPEAT
# times (5), then `flashdeal validate`: fits the CPU factor on one level, predicts every level,
# compares, rewrites docs/validation.md's levels section and experiments/calibration/fitted.json.
# The model (in the scenario files): the API process as two cores (its two event-loop threads on the
# machine's two cores); the CPU factor is fitted on the 2k level, the one where queueing for the
# cores makes most of the P95 (at 500 and 1k the P95 is mostly fixed delays, not queueing, so a
# factor fitted there mistakes them for CPU and predicts the server saturated at 2k). Environment: FLASHDEAL_VALIDATE_LEVELS
# ("500 1000 2000"), FLASHDEAL_VALIDATE_REPEAT (5), FLASHDEAL_VALIDATE_PORT (18290),
# FLASHDEAL_VALIDATE_CALIBRATE_ON (2000), FLASHDEAL_VALIDATE_REUSE (1: compare the stored runs
# again, no k6), FLASHDEAL_RESULTS (flashdeal-results.sqlite), FLASHDEAL_VALIDATE_MIX (validation:
# the deal view and order mix, experiments/validation-*.json, docs/validation.md's `levels` section
# and calibration/fitted.json; journey: the whole buyer journey with a 20 ms provider,
# experiments/journey-*.json, the `journey-levels` section, no calibration file written).
set -euo pipefail
cd "$(dirname "$0")/.."

LEVELS=${FLASHDEAL_VALIDATE_LEVELS:-"500 1000 2000"}
REPEAT=${FLASHDEAL_VALIDATE_REPEAT:-5}
PORT=${FLASHDEAL_VALIDATE_PORT:-18290}
CALIBRATE_ON=${FLASHDEAL_VALIDATE_CALIBRATE_ON:-2000}
REUSE=${FLASHDEAL_VALIDATE_REUSE:-0}
RESULTS=${FLASHDEAL_RESULTS:-flashdeal-results.sqlite}
MIX=${FLASHDEAL_VALIDATE_MIX:-validation}
case $MIX in
    validation) SECTION=levels; WRITE=(--write-calibration experiments/calibration/fitted.json) ;;
    journey) SECTION=journey-levels; WRITE=(); export FLASHDEAL_PAYMENT_LATENCY=20ms ;;
    *) echo "validate: FLASHDEAL_VALIDATE_MIX is validation or journey, not $MIX" >&2; exit 2 ;;
esac
OUT=.run/validate-$MIX
TARGET="http://127.0.0.1:$PORT"
mkdir -p "$OUT"
ARGS=()
for level in $LEVELS; do ARGS+=(--scenario "experiments/$MIX-$level.json"); done
if [ "$REUSE" != 1 ]; then
    . scripts/live-server.sh
    live_server_up validate "$PORT" "$OUT"
    for level in $LEVELS; do
        echo "validate: experiments/$MIX-$level.json, $REPEAT k6 runs"
        "${LOAD_PIN[@]}" "$LIVE_BIN" loadtest --scenario "experiments/$MIX-$level.json" --target "$TARGET" --repeat "$REPEAT" \
            --results "$RESULTS" --work-directory "$OUT/k6" >"$OUT/loadtest-$level.txt"
    done
fi
.build/release/flashdeal validate "${ARGS[@]}" --calibrate-on "experiments/$MIX-$CALIBRATE_ON.json" \
    --measured "$REPEAT" --results "$RESULTS" "${WRITE[@]}" --document docs/validation.md --section "$SECTION" | tee "$OUT/report.txt"
