# Flash Deal: `make test` is the one command CI runs (.ci/run); it installs what it needs.
SWIFT ?= swift
.DEFAULT_GOAL := help

.PHONY: help bootstrap build test check-k8s simulate serve browser bench bench-live chaos fairness loadtest validate backends-up backends-down backends-status clean

help:
	@echo "make simulate         the main job: simulate experiments/flash-spike.json (bootstraps first)"
	@echo "make serve            the shop on in-memory adapters with a demo catalogue: storefront on :8080/, console on :8080/admin"
	@echo "make browser          the storefront's browser tests (Chromium), screenshots copied to docs/design/screens"
	@echo "make test             bootstrap if needed, start the backends, build, run every test, stop the backends"
	@echo "make bench            release build; the engine against SimPy, the 100k-rps spike, the request path's JSON"
	@echo "make bench-live       release server on the real backends under k6: ceiling, then 500/1k/2k rps, two mixes"
	@echo "make chaos            fault drills under a k6 buyer journey, each audited; rewrites docs/chaos-report.md"
	@echo "make fairness         bots against humans, with and without a waiting room: predicted and measured; rewrites docs/fairness.md"
	@echo "make loadtest         k6 against the release server on the real backends, then predicted vs measured"
	@echo "make validate         calibrate under load, both mixes at 500/1k/2k/3k rps and their saturation points, predicted vs measured: docs/validation.md"
	@echo "make check-k8s        render, validate and policy-check k8s/ and lint the Dockerfile (part of make test)"
	@echo "make build            debug build of everything"
	@echo "make bootstrap        install Debian packages and .venv (scripts/bootstrap.sh)"
	@echo "make backends-up      start Redis, tansu and SecantusDB on loopback (scripts/backends.sh)"
	@echo "make backends-down    stop them"

# Re-run the bootstrap when it changes or has never completed here.
.venv/.bootstrapped: scripts/bootstrap.sh
	bash scripts/bootstrap.sh
	@touch $@

bootstrap: .venv/.bootstrapped

simulate: bootstrap
	$(SWIFT) run flashdeal simulate --scenario experiments/flash-spike.json

serve: bootstrap
	$(SWIFT) run flashdeal serve

browser: bootstrap
	$(SWIFT) build --product flashdeal
	bash scripts/browser.sh --update-screens

build: bootstrap
	$(SWIFT) build

test: bootstrap
	bash scripts/test.sh

check-k8s: bootstrap
	$(SWIFT) build --product flashdeal
	.venv/k8s/bin/python scripts/check-k8s.py .build/debug/flashdeal

bench: bootstrap
	FLASHDEAL_BENCH=1 FLASHDEAL_SKIP_APT=1 bash scripts/bootstrap.sh
	$(SWIFT) build -c release --product simbench
	.build/release/simbench

bench-live: bootstrap
	$(SWIFT) build -c release --product flashdeal
	bash scripts/bench-live.sh

chaos: bootstrap
	$(SWIFT) build -c release --product flashdeal
	bash scripts/chaos.sh

fairness: bootstrap
	$(SWIFT) build -c release --product flashdeal
	bash scripts/fairness.sh

loadtest: bootstrap
	$(SWIFT) build -c release --product flashdeal
	bash scripts/loadtest.sh

validate: bootstrap
	$(SWIFT) build -c release --product flashdeal
	bash scripts/validate.sh

backends-up: bootstrap
	bash scripts/backends.sh up

backends-down:
	bash scripts/backends.sh down

backends-status:
	bash scripts/backends.sh status

clean:
	rm -rf .build .run
