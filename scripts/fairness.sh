#!/usr/bin/env bash
# `make fairness`: who wins a scarce stock when bots come, predicted and measured, with and without
# a waiting room; rewrites docs/fairness.md. The prediction is `flashdeal fairness` on
# experiments/fairness/bots.json (mean of 5 seeds); the measurement runs k6/fairness.js with the
# same numbers against the release server on the real backends (live-server.sh: the API and the
# writer apart), once on a deal without a waiting room and once on one with, each deal started by
# the admin at its start instant. Results: .run/fairness/{predicted.json,open.log,room.log}.
# --short (what `make test` runs): experiments/fairness/bots-short.json on the debug build, the
# report in .run/fairness-short/report.md only, and a check that fails the run when the measurement
# does not show what the waiting room is for (scripts/fairness/report.py --check).
set -euo pipefail
cd "$(dirname "$0")/.."

SHORT=0
if [ "${1:-}" = --short ]; then SHORT=1; shift; fi
if [ "$SHORT" = 1 ]; then
    SCENARIO=experiments/fairness/bots-short.json
    OUT=.run/fairness-short
    export FLASHDEAL_LIVE_BIN=${FLASHDEAL_LIVE_BIN:-.build/debug/flashdeal}
else
    SCENARIO=experiments/fairness/bots.json
    OUT=.run/fairness
fi
PORT=${FLASHDEAL_FAIRNESS_PORT:-18190}
TARGET="http://127.0.0.1:$PORT"
K6=.venv/flashdeal/k6
mkdir -p "$OUT"
[ -x "$K6" ] || { echo "fairness: $K6 is missing: run scripts/bootstrap.sh" >&2; exit 1; }

value() { python3 -c "import json,sys; print(json.load(open('$SCENARIO'))['$1'])"; }
STOCK=$(value stock); HUMANS=$(value humans); BOTS=$(value bots); START_SECONDS=$(value startSeconds)
LATE_SECONDS=$(value lateSeconds); EARLY_SHARE=$(value earlyHumanShare); RATE=$(value admissionRate)
LIMIT=$(value perUserLimit)

. scripts/live-server.sh
live_server_up fairness "$PORT" "$OUT"
"$LIVE_BIN" fairness --scenario "$SCENARIO" --json >"$OUT/predicted.json"

ADMIN_AUTH="Authorization: Bearer $("$LIVE_BIN" token --user admin --admin --ttl 24h)"
admin() { curl -fs -X POST "$TARGET/graphql" -H 'Content-Type: application/json' -H "$ADMIN_AUTH" -d "$1" >/dev/null; }
admin '{"query":"mutation { createProduct(input: {id: \"fair-product\", name: \"Limited print\", description: \"one each\"}) { __typename } }"}'
RUN=$(date +%s)

for variant in open room; do
    deal="fair-$RUN-$variant"
    start_ms=$(( ($(date +%s) + START_SECONDS + 3) * 1000 ))
    starts=$(date -u -d "@$((start_ms / 1000))" +%Y-%m-%dT%H:%M:%SZ)
    ends=$(date -u -d "@$((start_ms / 1000 + 3600))" +%Y-%m-%dT%H:%M:%SZ)
    room=""
    [ "$variant" = room ] && room=", waitingRoomAdmissionRate: $RATE"
    admin "{\"query\":\"mutation { scheduleDeal(input: {id: \\\"$deal\\\", productId: \\\"fair-product\\\", price: 5000, startsAt: \\\"$starts\\\", endsAt: \\\"$ends\\\", perUserLimit: $LIMIT, stock: $STOCK, reservationTtlSeconds: 600, paymentWindowSeconds: 300$room}) { __typename } }\"}"
    echo "fairness: $variant, $HUMANS humans and $BOTS bots for $STOCK units, the deal starting at $starts"
    # The admin starts the deal at its instant (the writer's scheduler would, within its interval).
    ( sleep "$(python3 -c "import time; print(max(0, $start_ms / 1000 - time.time()))")"
      admin "{\"query\":\"mutation { startDeal(id: \\\"$deal\\\") { __typename } }\"}" ) &
    starter=$!
    "$K6" run --quiet --log-output=stdout --log-format=raw -e TARGET="$TARGET" -e DEAL="$deal" -e START_MS="$start_ms" \
        -e ROOM="$([ "$variant" = room ] && echo 1 || echo 0)" -e HUMANS="$HUMANS" -e BOTS="$BOTS" -e EARLY_SHARE="$EARLY_SHARE" \
        -e LATE_SECONDS="$LATE_SECONDS" -e START_SECONDS="$START_SECONDS" -e RUN="$RUN-$variant" k6/fairness.js >"$OUT/$variant.log" 2>&1 || true
    wait "$starter" || true
done

python3 scripts/fairness/report.py "$SCENARIO" "$OUT" >"$OUT/report.md"
if [ "$SHORT" = 1 ]; then
    cat "$OUT/report.md"
    python3 scripts/fairness/report.py --check "$SCENARIO" "$OUT"
else
    cp "$OUT/report.md" docs/fairness.md
    cat docs/fairness.md
fi
