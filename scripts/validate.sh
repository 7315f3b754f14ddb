#!/usr/bin/env bash
# `make validate`: predicted against measured at the plan's three load levels, as docs/validation.md
# reports it. Starts the backends (unless running) and the release server as `make bench-live` runs
# it (an API process and a niced writer), runs every level's scenario through k6 FLASHDEAL_VALIDATE_REPEAT
# times (5), then `flashdeal validate`: fits the CPU factor on the first level, predicts every level,
# compares, rewrites docs/validation.md's levels section and experiments/calibration/fitted.json.
# Environment: FLASHDEAL_VALIDATE_LEVELS ("500 1000 2000"), FLASHDEAL_VALIDATE_REPEAT (5),
# FLASHDEAL_VALIDATE_PORT (18290), FLASHDEAL_RESULTS (flashdeal-results.sqlite).
set -euo pipefail
cd "$(dirname "$0")/.."

LEVELS=${FLASHDEAL_VALIDATE_LEVELS:-"500 1000 2000"}
REPEAT=${FLASHDEAL_VALIDATE_REPEAT:-5}
PORT=${FLASHDEAL_VALIDATE_PORT:-18290}
RESULTS=${FLASHDEAL_RESULTS:-flashdeal-results.sqlite}
OUT=.run/validate
TARGET="http://127.0.0.1:$PORT"
mkdir -p "$OUT"
. scripts/live-server.sh
live_server_up validate "$PORT" "$OUT"

ARGS=()
for level in $LEVELS; do
    scenario="experiments/validation-$level.json"
    echo "validate: $scenario, $REPEAT k6 runs"
    "$LIVE_BIN" loadtest --scenario "$scenario" --target "$TARGET" --repeat "$REPEAT" --results "$RESULTS" --work-directory "$OUT/k6" >"$OUT/loadtest-$level.txt"
    ARGS+=(--scenario "$scenario")
done
"$LIVE_BIN" validate "${ARGS[@]}" --measured "$REPEAT" --results "$RESULTS" \
    --write-calibration experiments/calibration/fitted.json --document docs/validation.md | tee "$OUT/report.txt"
