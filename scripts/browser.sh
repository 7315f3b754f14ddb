#!/usr/bin/env bash
# The storefront's and the operator console's browser tests (Tests/Browser): Debian's Chromium,
# headless, driven by Playwright (PyPI) against `flashdeal serve` from the debug build. Every test
# runs against the embedded server; with --backends, one journey runs against the backends too
# (source .run/backends.env first; make test does). Screenshots and the servers' logs go to
# FLASHDEAL_BROWSER_ARTIFACTS (.build/browser); --update-screens copies the screenshots to
# docs/design/screens, which the design documents show.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLASHDEAL_BROWSER_ARTIFACTS=${FLASHDEAL_BROWSER_ARTIFACTS:-$PWD/.build/browser}
backends=0 update=0
for arg in "$@"; do
    case $arg in
    --backends) backends=1 ;;
    --update-screens) update=1 ;;
    *) echo "browser.sh: unknown argument $arg (expected --backends, --update-screens)" >&2; exit 2 ;;
    esac
done
[ -x "${FLASHDEAL_CHROMIUM:-/usr/bin/chromium}" ] || { echo "browser.sh: chromium is not installed: run scripts/bootstrap.sh" >&2; exit 1; }
[ -x .build/debug/flashdeal ] || { echo "browser.sh: .build/debug/flashdeal is missing: swift build first" >&2; exit 1; }
rm -rf "$FLASHDEAL_BROWSER_ARTIFACTS"
.venv/bin/python -m pytest -q -p no:cacheprovider Tests/Browser
if [ "$backends" = 1 ]; then
    : "${FLASHDEAL_REDIS_URL:?--backends needs the backends: source .run/backends.env}"
    FLASHDEAL_BROWSER_BACKENDS=1 .venv/bin/python -m pytest -q -p no:cacheprovider Tests/Browser
fi
if [ "$update" = 1 ]; then
    mkdir -p docs/design/screens
    cp "$FLASHDEAL_BROWSER_ARTIFACTS"/*.png docs/design/screens/
    echo "browser.sh: screenshots copied to docs/design/screens"
fi
