#!/usr/bin/env bash
# What `make test` runs: the Prometheus rules' tests, start the backends, build once (debug), check k8s/, run every test suite (the
# Redis ones on a Redis Cluster too), the
# GraphQL fuzzing, the Prometheus drill, two short chaos drills and a short fairness run, and stop the backends again whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
# The alerting and recording rules (deploy/prometheus): promtool checks them, and its unit tests
# prove each alert fires on synthetic series when it should and stays quiet when it should.
promtool check config deploy/prometheus/prometheus.yml
(cd deploy/prometheus/tests && promtool test rules ./*.test.yml)
bash scripts/backends.sh up
trap 'bash scripts/backends.sh cluster-down; bash scripts/backends.sh down' EXIT
set -a; . .run/backends.env; set +a
bash scripts/backends.sh status
swift build --build-tests
# k8s/ and the Dockerfile: rendered, schema-validated, policy-checked, cross-checked against the
# server (its routes, topics and configuration parser) and linted (scripts/check-k8s.py).
.venv/k8s/bin/python scripts/check-k8s.py .build/debug/flashdeal
# The suites that keep whole cores busy for a minute (plan-scaling's simulations, the sharded
# sweep's processes, a Redis Cluster of three servers moving a slot) run after the others, so
# the suites that time the request path under frozen backends do not share the machine with them.
HEAVY='CalibrationTests|PlanScalingTests|ShardedSweepTests|RedisClusterTests'
swift test --skip-build --skip "$HEAVY"
swift test --skip-build --filter 'PlanScalingTests|ShardedSweepTests|RedisClusterTests'
# The contract suites, the money path, the outbox, replay and the 500-buyer sale again, on a Redis
# Cluster of three primaries (scripts/backends.sh cluster-up): each step's keys in its deal's slot.
bash scripts/backends.sh cluster-up
CLUSTER='StockLedgerContractTests|RepositoryContractTests|CheckoutStepsContractTests|RateLimiterContractTests|WaitingRoomStoreContractTests'
CLUSTER+='|MoneyPathTests|OutboxRelayTests|OutboxBackpressureTests|ReplayTests|FlashSaleConcurrencyTests|APIReplicaTests'
(set -a; . .run/redis-cluster.env; set +a; swift test --skip-build --filter "$CLUSTER")
bash scripts/backends.sh cluster-down
# Calibration's load phases measure CPU (the server's, k6's, Redis's, the machine's): they run
# alone, after everything else, as `flashdeal calibrate` needs a quiet machine.
swift test --skip-build --filter CalibrationTests
# Generated GraphQL documents and variables against the server on the backends (scripts/fuzz.sh).
bash scripts/fuzz.sh
# The storefront and the operator console in Debian's Chromium (Playwright): every test against the
# embedded server, one journey against the server on the backends (scripts/browser.sh).
bash scripts/browser.sh --backends
# A real Prometheus with the repository's config and rules scrapes an API and a writer under load;
# MongoDB frozen, the lag alert must go pending; every dashboard query must parse and read only
# exported or recorded series (scripts/prometheus-drill.sh).
bash scripts/prometheus-drill.sh
# Two fault drills, short, on the debug build: the API killed mid-load and the broker frozen, each
# audited (scripts/chaos.sh; `make chaos` runs every drill on the release build).
bash scripts/chaos.sh --short
# Humans and bots at a sale's start, with and without a waiting room, measured and checked
# (scripts/fairness.sh; `make fairness` runs the full scenario on the release build).
bash scripts/fairness.sh --short
