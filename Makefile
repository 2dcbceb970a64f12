# The verbs a person types. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps run test build release bench check fuzz db-stop clean

help:
	@echo "make run      start Lakehook on 127.0.0.1:4000 (with a throwaway PostgreSQL unless DATABASE_URL is set)"
	@echo "make test     run the whole test suite against a real PostgreSQL"
	@echo "make release  build the release binary (.build/release/lakehook)"
	@echo "make bench    durable commits (fsync on, a local and a slow disk) against pgbench, then the CPU-only reference against pgbench and nginx, then DORA at scale (about 9 minutes)"
	@echo "make check    the test suite under AddressSanitizer, then ThreadSanitizer"
	@echo "make fuzz     run the fuzz targets for FUZZ_SECONDS each (default 60)"
	@echo "make db-stop  stop the throwaway PostgreSQL"

deps:
	@scripts/deps.sh

run: deps
	@scripts/run.sh

test:
	@scripts/deps.sh --test
	@scripts/test.sh

build: deps
	swift build

release: deps
	swift build -c release --static-swift-stdlib --product lakehook

bench:
	@scripts/deps.sh --bench
	@bench/durable.sh
	@bench/run.sh
	@bench/dora.sh

# Each sanitizer builds into its own folder so the normal build stays as it is.
check: deps
	@LSAN_OPTIONS=suppressions=$(CURDIR)/lsan.supp ASAN_OPTIONS=suppressions=$(CURDIR)/asan.supp scripts/test.sh --sanitize=address --scratch-path .build-asan
	@scripts/test.sh --sanitize=thread --scratch-path .build-tsan

fuzz: deps
	@fuzz/run.sh

db-stop:
	@scripts/dev-postgres.sh stop

clean: db-stop
	rm -rf .build .lakehook
