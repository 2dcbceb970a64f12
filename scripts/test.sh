#!/usr/bin/env bash
# `make test`: the whole suite against a real PostgreSQL — the throwaway one under .lakehook/
# unless PGHOST (or TEST_DATABASE_URL) says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PGHOST:-}" ]; then
    scripts/dev-postgres.sh start >/dev/null
    export PGHOST=127.0.0.1 PGPORT="${LAKEHOOK_DEV_PGPORT:-54329}" PGUSER=postgres PGDATABASE=lakehook_test
fi
unset DATABASE_URL
exec swift test "$@"
