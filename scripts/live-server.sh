# Sourced by bench-live.sh and validate.sh: the release server on the real backends as a
# deployment runs it, an API process (the request path) and the writer (outbox relay, Kafka →
# MongoDB consumer, sweeper, scheduler) apart at a lower CPU priority, and Kafka and MongoDB with
# it (on two shared cores that is what separate deployments give the request path; Kafka and the
# outbox buffer what the writer has not written yet). `live_server_up NAME PORT OUT` starts the
# backends unless they run, the writer on PORT+1 and the API on PORT, waits until the API is ready,
# and stops everything it started when the calling script exits. Sets SERVER (the API's pid).
live_server_up() {
    local name=$1 port=$2 out=$3
    LIVE_BIN=.build/release/flashdeal
    [ -x "$LIVE_BIN" ] || { echo "$name: $LIVE_BIN is missing: run 'swift build -c release --product flashdeal'" >&2; exit 1; }
    LIVE_STARTED_BACKENDS=0
    if ! bash scripts/backends.sh status >/dev/null 2>&1; then
        bash scripts/backends.sh up
        LIVE_STARTED_BACKENDS=1
    fi
    SERVER=""
    LIVE_WRITER=""
    trap live_server_down EXIT
    set -a; . .run/backends.env; set +a
    # The asynchronous tier (Kafka, MongoDB) at the writer's priority, every thread of it: the
    # request path (the API, Redis, and k6 in the clients' place) comes first on the shared cores.
    live_priority 10
    nice -n 10 "$LIVE_BIN" serve --role writer --port $((port + 1)) >"$out/writer.log" 2>&1 &
    LIVE_WRITER=$!
    "$LIVE_BIN" serve --role api --port "$port" >"$out/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER" 2>/dev/null || { cat "$out/server.log" >&2; exit 1; }
        sleep 0.2
    done
    echo "$name: the server never became ready" >&2
    exit 1
}

live_priority() {
    local name pid
    for name in kafka mongo; do
        [ -f ".run/$name.pid" ] || continue
        pid=$(cat ".run/$name.pid")
        [ -d "/proc/$pid/task" ] && renice -n "$1" -p $(ls "/proc/$pid/task") >/dev/null 2>&1 || true
    done
}

live_server_down() {
    live_priority 0
    [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    [ -n "$LIVE_WRITER" ] && kill -TERM "$LIVE_WRITER" 2>/dev/null && wait "$LIVE_WRITER" 2>/dev/null || true
    [ "$LIVE_STARTED_BACKENDS" = 1 ] && bash scripts/backends.sh down || true
}
