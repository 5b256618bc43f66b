# QuickSell cache gateway: the two commands are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ENV := source scripts/env.sh &&
SWIFT_BUILD_FLAGS ?=
DEMO_USERS ?= 1000

.PHONY: help deps services stop status build migrate seed run test bench bench-short soak fuzz clean-services

help:
	@echo "make run    install what is missing, start Redis and PostgreSQL, migrate, seed demo data, run the gateway"
	@echo "make test   start the services, run the whole test suite, stop what it started"
	@echo "make bench  the benchmark suite of issue 10: six targets vs their baselines and the hit path over TLS, one table (about 18 min, see BENCHMARKS.md)"
	@echo "make bench-short  every benchmark target once, briefly (catches crashes; not a speed verdict; part of make test)"
	@echo "make soak   the load tool's workload with writes for SOAK_MINUTES (default 30) under repeating faults; fails on a stale read, a crash or RSS growth over 10%"
	@echo "make fuzz   nightly-style fuzzing: 1,000,000 mutated inputs through both RESP decoders (about 3 min)"
	@echo "make services | stop | status | build | migrate | seed"

deps:
	@scripts/install-deps.sh

services: deps
	@scripts/services.sh start

stop:
	@scripts/services.sh stop

status:
	@scripts/services.sh status

build: deps
	swift build $(SWIFT_BUILD_FLAGS)

migrate: services build
	@$(ENV) swift run $(SWIFT_BUILD_FLAGS) quicksell-cache migrate --postgres-url "$$QUICKSELL_POSTGRES_URL"

seed: migrate
	@$(ENV) swift run $(SWIFT_BUILD_FLAGS) quicksell-loadtest seed --postgres-url "$$QUICKSELL_POSTGRES_URL" --users $(DEMO_USERS) --if-empty

run: seed
	@scripts/run-gateway.sh

test: deps
	@scripts/with-services.sh scripts/run-tests.sh

# BENCH_MODE=short, BENCH_ROUNDS, BENCH_USERS, … tune it (loadtest/bench.sh lists them).
bench: deps
	@scripts/with-services.sh loadtest/bench.sh

bench-short: deps
	@BENCH_MODE=short scripts/with-services.sh loadtest/bench.sh

# SOAK_MINUTES (30), SOAK_CONFIG (release when built, else debug), SOAK_MODE=short, … tune it
# (loadtest/soak.sh lists them). It runs on private Redis and PostgreSQL servers of its own.
soak: deps
	@loadtest/soak.sh

# FUZZ_INPUTS, FUZZ_SECONDS (default 1800) and FUZZ_SEED tune the run; a failure prints its input.
FUZZ_INPUTS ?= 1000000
FUZZ_SECONDS ?= 1800
fuzz: deps
	QUICKSELL_FUZZ_INPUTS=$(FUZZ_INPUTS) QUICKSELL_FUZZ_SECONDS=$(FUZZ_SECONDS) $(if $(FUZZ_SEED),QUICKSELL_FUZZ_SEED=$(FUZZ_SEED)) \
		swift test --filter RESPTests.FuzzTests

clean-services: stop
	rm -rf .services
