# Sourced by bench-live.sh and validate.sh: the release server on the real backends as a
# deployment runs it, an API process (the request path) and the writer (outbox relay, Kafka →
# MongoDB consumer, sweeper, scheduler) apart, the writer, Kafka and MongoDB in Linux's idle
# scheduling class (SCHED_IDLE: they run on whatever CPU the request path leaves). On two shared
# cores that is what separate deployments give the request path; the outbox and Kafka buffer what the
# writer has not written yet, and it catches up when the load stops (bench-live measures how long
# that takes and that every acknowledged order reaches MongoDB). The
# backends are the benchmark's own, started empty under .run/bench-backends on ports of their own
# (FLASHDEAL_BENCH_REDIS_PORT 16479, FLASHDEAL_BENCH_KAFKA_PORT 19192, FLASHDEAL_BENCH_MONGO_PORT
# 27217), so neither a developer's backends nor what earlier runs left in them weigh on the numbers.
# Their Redis keeps its append-only file (every write is logged, as in production) but rewrites it
# only past 4 GB: a rewrite forks Redis and copies the data set, and on this machine that ran on the
# cores being measured (a 1.2-s rewrite in the middle of the 2k level, 60 MB into the run).
# `live_server_up NAME PORT OUT` starts them, the writer on PORT+1 and the API on PORT, waits
# until the API is ready, and stops everything when the calling script exits;
# `bash scripts/live-server.sh restart NAME PORT OUT` starts it all again on empty backends, from
# another process (what `make validate` runs before each k6 run). Sets SERVER (the
# API's pid; FLASHDEAL_LIVE_BIN runs another build, for A/B runs). k6 (Go) runs with GOGC=400 unless told otherwise: at Go's default its garbage
# collector is about a tenth of its CPU, taken from the cores the server needs.
export GOGC=${GOGC:-400}
# FLASHDEAL_PIN=split puts the API on core 0 and the load generator on core 1 (taskset), so neither
# takes the other's CPU (the writer, Redis and the backends stay unpinned); unset, every process
# shares every core, as on a developer's box. `live_placement` says which, for the reports.
API_PIN=(); LOAD_PIN=()
if [ "${FLASHDEAL_PIN:-}" = split ]; then API_PIN=(taskset -c 0); LOAD_PIN=(taskset -c 1); fi
live_placement() {
    if [ "${FLASHDEAL_PIN:-}" = split ]; then echo "split: the API on core 0, the load generator on core 1 (taskset); the writer, Redis and the backends unpinned"
    else echo "shared: every process on every core"; fi
}
. scripts/run-identity.sh

live_backends() {
    FLASHDEAL_RUN_DIR=.run/bench-backends FLASHDEAL_REDIS_ARGS="--auto-aof-rewrite-min-size 4gb" FLASHDEAL_REDIS_PORT=${FLASHDEAL_BENCH_REDIS_PORT:-16479} \
        FLASHDEAL_KAFKA_PORT=${FLASHDEAL_BENCH_KAFKA_PORT:-19192} FLASHDEAL_MONGO_PORT=${FLASHDEAL_BENCH_MONGO_PORT:-27217} \
        bash scripts/backends.sh "$@"
}

live_server_up() {
    local name=$1 port=$2 out=$3
    LIVE_BIN=${FLASHDEAL_LIVE_BIN:-.build/release/flashdeal}
    LIVE_PORT=$port LIVE_OUT=$out
    [ -x "$LIVE_BIN" ] || { echo "$name: $LIVE_BIN is missing: run 'swift build -c release --product flashdeal'" >&2; exit 1; }
    SERVER=""
    LIVE_WRITER=""
    trap live_server_down EXIT
    : >"$out/server.log"
    : >"$out/writer.log"
    live_start "$name"
}

# Starts the backends empty, then the writer and the API, and waits until the API is ready; their
# pids in $LIVE_OUT/{api,writer}.pid, for `live_restart` in another process.
live_start() {
    local name=$1 port=$LIVE_PORT out=$LIVE_OUT
    live_backends down >/dev/null
    live_backends up --fresh
    set -a; . .run/bench-backends/backends.env; set +a
    # Retryable writes off against the development SecantusDB (libmongoc makes every write retryable
    # by default): it scans every retryable write it has recorded on each new one, so the writer's
    # catch-up slowed threefold behind one sale's backlog (docs/validation.md, the writer tier). The
    # writer needs no retries of MongoDB's: it re-drives a failed batch, idempotently. Against
    # MongoDB, whose records are per session and expire, leave the default.
    FLASHDEAL_MONGO_URI="$FLASHDEAL_MONGO_URI?retryWrites=false"
    # The asynchronous tier (Kafka, MongoDB) in the writer's class, every thread of it: the
    # request path (the API, Redis, and k6 in the clients' place) comes first on the shared cores.
    live_idle
    chrt --idle 0 "$LIVE_BIN" serve --role writer --port $((port + 1)) >>"$out/writer.log" 2>&1 &
    LIVE_WRITER=$!
    echo "$LIVE_WRITER" >"$out/writer.pid"
    live_api_start || { echo "$name: the server never became ready" >&2; exit 1; }
}

# Starts the API (with extra environment: `live_api_start VAR=value ...`), records its pid in
# SERVER and $LIVE_OUT/api.pid, and waits until it is ready; returns 1, with the end of its log,
# when it exits or is not ready within 20 s.
live_api_start() {
    local port=$LIVE_PORT out=$LIVE_OUT
    "${API_PIN[@]}" env "$@" "$LIVE_BIN" serve --role api --port "$port" >>"$out/server.log" 2>&1 &
    SERVER=$!
    echo "$SERVER" >"$out/api.pid"
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER" 2>/dev/null || break
        sleep 0.2
    done
    tail -20 "$out/server.log" >&2
    return 1
}

# `bash scripts/live-server.sh restart NAME PORT OUT`, from any process (`flashdeal loadtest
# --before-run`): stops the API and writer that $OUT's pid files name, then starts everything
# afresh as live_server_up did, on backends started empty. The script that ran live_server_up
# stops what its pid files name when it exits.
live_restart() {
    local name=$1
    LIVE_BIN=${FLASHDEAL_LIVE_BIN:-.build/release/flashdeal}
    LIVE_PORT=$2 LIVE_OUT=$3
    # Not pinned like the process that asked (with FLASHDEAL_PIN=split, the load generator's core).
    taskset -a -p -c "0-$(($(nproc) - 1))" $$ >/dev/null
    live_stop_pids api writer
    live_start "$name"
}

# Stops the processes $LIVE_OUT's pid files name (`live_stop_pids api writer`), waiting until each
# is gone.
live_stop_pids() {
    local role pid
    for role in "$@"; do
        [ -f "$LIVE_OUT/$role.pid" ] || continue
        pid=$(cat "$LIVE_OUT/$role.pid")
        rm -f "$LIVE_OUT/$role.pid"
        live_stop "$pid" 15
    done
}

# `live_stop PID SECONDS`: SIGTERM, then SIGKILL if it is not gone within SECONDS. A server drains
# for its shutdown timeout (25 s by default) and then crashes on purpose (ServiceLifecycle); the
# crash's backtrace, in the writer's idle scheduling class on a busy box, once held bench-live's
# clean-up for minutes.
live_stop() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 $(($2 * 10))); do
        kill -0 "$pid" 2>/dev/null || return 0
        [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" = Z ] && return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

live_idle() {
    local name pid
    for name in kafka mongo; do
        [ -f ".run/bench-backends/$name.pid" ] || continue
        pid=$(cat ".run/bench-backends/$name.pid")
        [ -d "/proc/$pid/task" ] && chrt --idle --all-tasks -p 0 "$pid" >/dev/null 2>&1 || true
    done
}

# Restarts the API process with extra environment (`live_api_restart VAR=value ...`), e.g. to
# require a replica's acknowledgement; waits until it is ready again.
live_api_restart() {
    # The API api.pid names: this script's, or the one a `live_restart` started since.
    live_stop_pids api
    wait "$SERVER" 2>/dev/null || true
    live_api_start "$@" || { echo "the API never became ready again" >&2; return 1; }
}

live_server_down() {
    # Past the shutdown timeout and the second cancelled services get, a server is killed.
    [ -n "$SERVER" ] && live_stop "$SERVER" 40 && wait "$SERVER" 2>/dev/null || true
    [ -n "$LIVE_WRITER" ] && live_stop "$LIVE_WRITER" 40 && wait "$LIVE_WRITER" 2>/dev/null || true
    # What a `live_restart` in another process started, if one did.
    [ -n "${LIVE_OUT:-}" ] && live_stop_pids api writer
    live_backends down >/dev/null || true
}

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ "${1:-}" = restart ]; then
    [ $# -eq 4 ] || { echo "usage: bash scripts/live-server.sh restart NAME PORT OUT" >&2; exit 2; }
    set -euo pipefail
    cd "$(dirname "$0")/.."
    live_restart "$2" "$3" "$4"
fi
