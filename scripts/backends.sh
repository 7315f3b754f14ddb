#!/usr/bin/env bash
# Starts, stops and reports the development backends on loopback, each on a non-default port
# with its data under FLASHDEAL_RUN_DIR (default .run/, git-ignored):
#   Redis (AOF on)          FLASHDEAL_REDIS_PORT  (default 16379)
#   tansu (Kafka protocol)  FLASHDEAL_KAFKA_PORT  (default 19092)
#   SecantusDB (MongoDB)    FLASHDEAL_MONGO_PORT  (default 27117)
# FLASHDEAL_REDIS_ARGS adds options to redis-server's command line.
# `cluster-up` / `cluster-down`: a Redis Cluster of three primaries (AOF on, no replicas) on
# FLASHDEAL_REDIS_CLUSTER_PORT and the two ports after it (default 17001-17003), created with
# `redis-cli --cluster create`; its URL in redis-cluster.env (point FLASHDEAL_REDIS_URL at it).
# `up` waits until each answers a real request (PING, a Kafka metadata request, a Mongo ping)
# and writes the URLs to backends.env in the run directory; `down` stops only the processes it started, by the
# PID files it wrote, never by name. `up --fresh` first deletes the data a previous run left (the
# benchmarks start from empty stores: a Redis holding a million keys of past runs reloads its AOF
# for seconds and rewrites it during the run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUN=${FLASHDEAL_RUN_DIR:-$ROOT/.run}
case $RUN in /*) ;; *) RUN=$ROOT/$RUN ;; esac
REDIS_PORT=${FLASHDEAL_REDIS_PORT:-16379}
KAFKA_PORT=${FLASHDEAL_KAFKA_PORT:-19092}
MONGO_PORT=${FLASHDEAL_MONGO_PORT:-27117}
CLUSTER_PORT=${FLASHDEAL_REDIS_CLUSTER_PORT:-17001}
PY=$ROOT/.venv/bin/python

say() { printf 'backends: %s\n' "$*"; }
fail() { printf 'backends: ERROR: %s\n' "$*" >&2; exit 1; }

# Alive: the PID file names a process that is not a zombie (a killed backend whose parent is gone
# may stay one where nothing reaps orphans, and `kill -0` still finds it).
pid_alive() {
    [ -f "$RUN/$1.pid" ] || return 1
    local pid; pid=$(cat "$RUN/$1.pid")
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

probe_redis() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
probe_kafka() {
    "$PY" - "$KAFKA_PORT" <<'PY' 2>/dev/null
import sys
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": f"127.0.0.1:{sys.argv[1]}"}).list_topics(timeout=2)
sys.exit(0 if md.brokers else 1)
PY
}
probe_mongo() {
    "$PY" - "$MONGO_PORT" <<'PY' 2>/dev/null
import sys
from pymongo import MongoClient
MongoClient(f"mongodb://127.0.0.1:{sys.argv[1]}", serverSelectionTimeoutMS=2000).admin.command("ping")
PY
}

# wait_for NAME PROBE SECONDS
wait_for() {
    local name=$1 probe=$2 limit=$3 waited=0
    until $probe; do
        pid_alive "$name" || fail "$name exited during start-up; see $RUN/$name.log"
        [ "$waited" -ge "$limit" ] && fail "$name did not answer within ${limit}s; see $RUN/$name.log"
        sleep 1; waited=$((waited + 1))
    done
}

start() {  # start NAME COMMAND...
    local name=$1; shift
    if pid_alive "$name"; then say "$name already running (pid $(cat "$RUN/$name.pid"))"; return 0; fi
    "$@" >"$RUN/$name.log" 2>&1 &
    echo $! >"$RUN/$name.pid"
}

up() {
    [ -x "$PY" ] || fail ".venv is missing: run scripts/bootstrap.sh first"
    command -v redis-server >/dev/null || fail "redis-server is not installed: run scripts/bootstrap.sh first"
    [ -x .venv/flashdeal/tansu ] || fail "tansu is missing: run scripts/bootstrap.sh first"
    if [ "${1:-}" = --fresh ]; then
        for name in redis kafka mongo; do pid_alive "$name" && fail "$name is running from $RUN: stop it before up --fresh"; done
        rm -rf "$RUN/redis" "$RUN/mongo"
    fi
    mkdir -p "$RUN/redis" "$RUN/mongo"
    start redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$RUN/redis" --appendonly yes \
        --save "" --daemonize no ${FLASHDEAL_REDIS_ARGS:-}
    start kafka .venv/flashdeal/tansu broker --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
        --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" --storage-engine memory://tansu/
    start mongo "$PY" -m secantus --host 127.0.0.1 --port "$MONGO_PORT" --storage-path "$RUN/mongo" --log-level WARNING
    wait_for redis probe_redis 20
    wait_for kafka probe_kafka 30
    wait_for mongo probe_mongo 60
    cat >"$RUN/backends.env" <<ENV
FLASHDEAL_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
FLASHDEAL_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
FLASHDEAL_MONGO_URI=mongodb://127.0.0.1:$MONGO_PORT/flashdeal
FLASHDEAL_TANSU=$PWD/.venv/flashdeal/tansu
FLASHDEAL_K6=$PWD/.venv/flashdeal/k6
FLASHDEAL_PYTHON=$PY
ENV
    say "up"
    sed 's/^/  /' "$RUN/backends.env"
}

# stop NAME: TERM the process of NAME's PID file and wait until it is gone (KILL after 15 s), so
# an `up` right after never finds its port still taken; then the PID file goes.
stop() {
    [ -f "$RUN/$1.pid" ] || return 0
    local pid; pid=$(cat "$RUN/$1.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        say "stopped $1 (pid $pid)"
    fi
    rm -f "$RUN/$1.pid"
}

down() {
    for name in mongo kafka redis; do stop "$name"; done
    rm -f "$RUN/backends.env"
}

cluster_up() {
    command -v redis-server >/dev/null || fail "redis-server is not installed: run scripts/bootstrap.sh first"
    local ports=("$CLUSTER_PORT" $((CLUSTER_PORT + 1)) $((CLUSTER_PORT + 2))) port
    for port in "${ports[@]}"; do
        mkdir -p "$RUN/redis-cluster/$port"
        start "redis-cluster-$port" redis-server --bind 127.0.0.1 --port "$port" --dir "$RUN/redis-cluster/$port" \
            --cluster-enabled yes --cluster-config-file nodes.conf --appendonly yes --save "" --daemonize no
    done
    for port in "${ports[@]}"; do
        REDIS_PORT=$port wait_for "redis-cluster-$port" probe_redis 20
    done
    if ! redis-cli -p "$CLUSTER_PORT" cluster info | grep -q 'cluster_state:ok'; then
        redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >"$RUN/redis-cluster/create.log" 2>&1 \
            || fail "redis-cli --cluster create failed; see $RUN/redis-cluster/create.log"
        local waited=0
        until redis-cli -p "$CLUSTER_PORT" cluster info | grep -q 'cluster_state:ok'; do
            [ "$waited" -ge 20 ] && fail "the cluster is not ok after 20 s"
            sleep 1; waited=$((waited + 1))
        done
    fi
    echo "FLASHDEAL_REDIS_URL=redis://127.0.0.1:$CLUSTER_PORT" >"$RUN/redis-cluster.env"
    say "Redis Cluster up on ${ports[*]}: $(cat "$RUN/redis-cluster.env")"
}

cluster_down() {
    local port
    for port in "$CLUSTER_PORT" $((CLUSTER_PORT + 1)) $((CLUSTER_PORT + 2)); do stop "redis-cluster-$port"; done
    rm -rf "$RUN/redis-cluster" "$RUN/redis-cluster.env"
}

status() {
    local code=0
    for name in redis kafka mongo; do
        local probe=probe_$name
        if pid_alive "$name" && $probe; then say "$name: up (pid $(cat "$RUN/$name.pid"))"
        elif pid_alive "$name"; then say "$name: running but not answering"; code=1
        else say "$name: down"; code=1; fi
    done
    [ -f "$RUN/backends.env" ] && sed 's/^/  /' "$RUN/backends.env"
    return $code
}

mkdir -p "$RUN"
case "${1:-}" in
    up) up "${2:-}" ;;
    down) down ;;
    status) status ;;
    cluster-up) cluster_up ;;
    cluster-down) cluster_down ;;
    *) echo "usage: $0 up [--fresh]|down|status|cluster-up|cluster-down" >&2; exit 2 ;;
esac
