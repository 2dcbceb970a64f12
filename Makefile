# The verbs a person types. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps run test build release db-stop clean

help:
	@echo "make run      start Lakehook on 127.0.0.1:4000 (with a throwaway PostgreSQL unless DATABASE_URL is set)"
	@echo "make test     run the whole test suite against a real PostgreSQL"
	@echo "make release  build the release binary (.build/release/lakehook)"
	@echo "make db-stop  stop the throwaway PostgreSQL"

deps:
	@scripts/deps.sh

run: deps
	@scripts/run.sh

test: deps
	@scripts/test.sh

build: deps
	swift build

release: deps
	swift build -c release --static-swift-stdlib --product lakehook

db-stop:
	@scripts/dev-postgres.sh stop

clean: db-stop
	rm -rf .build .lakehook
