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
# The hostile-client tests hold over 2,000 sockets at once: the soft descriptor limit (often
# 1,024) goes up to the hard one, as `lakehook serve` raises its own.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
# Tests that measure memory read this: a sanitizer's own memory (ASan's quarantine of freed
# blocks, TSan's shadow) makes their bounds meaningless there.
for argument in "$@"; do
    case "$argument" in --sanitize=*) export LAKEHOOK_TEST_SANITIZER="${argument#--sanitize=}" ;; esac
done
# A test that cannot run here is skipped with its reason, and the reasons are repeated at the
# end of the run, where they are seen (Swift Testing's "Test … skipped: …", and the lines a test
# prints as "lakehook-test: skipped …" for a check it cannot make in this build).
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
swift test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
skipped="$(grep -E '^➜ Test .* skipped|^Test Case .* skipped|^lakehook-test: skipped' "$log" || true)"
if [ -n "$skipped" ]; then
    echo
    echo "Skipped in this run, with the reasons:"
    echo "$skipped" | sed 's/^/  /'
fi
exit "$status"
