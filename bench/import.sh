#!/usr/bin/env bash
# `lakehook import` throughput with durable commits: a PostgreSQL of its own with fsync = on and
# synchronous_commit = on (as bench/durable.sh), a fresh database with one connection, and
# BENCH_LINES (100,000) deployment lines of the current form (two commits each) imported from a
# file. Prints lines/s of the import (the release binary; its own output in the run folder).
# Not a timed test: the target (docs/JOURNAL.md) is at least 5,000 lines/s on two cores.
# Environment: BENCH_LINES (100000), BENCH_PGPORT (54343), BENCH_ROUNDS (1: each round imports
# the same ids again, into the rows the round before wrote), BENCH_BIN (a binary built already).
set -euo pipefail
cd "$(dirname "$0")/.."
lines="${BENCH_LINES:-100000}"
rounds="${BENCH_ROUNDS:-1}"
port="${BENCH_PGPORT:-54343}"
out="$(mktemp -d /tmp/lakehook-import.XXXXXX)"
state="/tmp/lakehook-import-bench-$port"
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as_postgres=(); [ "$(id -u)" = 0 ] && as_postgres=(runuser -u postgres --)
stop_postgres() {
    [ ! -f "$state/data/postmaster.pid" ] || "${as_postgres[@]}" "$pgbin/pg_ctl" -D "$state/data" -m fast -w stop >/dev/null 2>&1 || true
}
trap stop_postgres EXIT

source bench/lib.sh
release_binary
mkdir -p "$state"; [ "$(id -u)" = 0 ] && chown postgres "$state"
[ -f "$state/data/PG_VERSION" ] || "${as_postgres[@]}" "$pgbin/initdb" -D "$state/data" -U postgres --auth=trust >/dev/null
"${as_postgres[@]}" "$pgbin/pg_ctl" -D "$state/data" -l "$state/postgres.log" -w -o "-p $port -k $state \
    -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c shared_buffers=256MB" start >/dev/null
fresh_bench_database "$port"
psql -h 127.0.0.1 -p "$port" -U postgres -qAt -d lakehook_bench \
    -c "SELECT 'bench: fsync=' || current_setting('fsync') || ' synchronous_commit=' || current_setting('synchronous_commit')" >&2

python3 - "$lines" > "$out/deployments.ndjson" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    minute = i % 1440
    started = f"2026-01-{1 + i // 1440 % 28:02d}T{minute // 60:02d}:{minute % 60:02d}:00Z"
    finished = f"2026-01-{1 + i // 1440 % 28:02d}T{minute // 60:02d}:{minute % 60:02d}:30Z"
    body = {
        "id": f"deploy-{i}", "displayTitle": f"release {i}", "result": "SUCCESS" if i % 10 else "FAILURE",
        "environment": "PRODUCTION", "startedDate": started, "finishedDate": finished,
        "deploymentCommits": [
            {"repoUrl": "https://github.com/example/shop", "commitSha": f"{i:040x}", "refName": "main", "commitMsg": f"change {i}"},
            {"repoUrl": "https://github.com/example/api", "commitSha": f"{i + 1:040x}", "refName": "main"},
        ],
    }
    print(json.dumps({"route": "deployments", "params": {}, "body": body}, separators=(",", ":")))
PY
echo "bench: $lines lines, $(du -h "$out/deployments.ndjson" | cut -f1)" >&2

for round in $(seq "$rounds"); do
    start="$(date +%s.%N)"
    "$bin" import "$out/deployments.ndjson" --connection "$LAKEHOOK_CONNECTION" > "$out/import-$round.out" 2> "$out/import-$round.err" \
        || { echo "bench: import failed; see $out/import-$round.out and .err" >&2; exit 1; }
    end="$(date +%s.%N)"
    python3 -c "import sys; n, s = int(sys.argv[1]), float(sys.argv[3]) - float(sys.argv[2]); print(f'import round {sys.argv[4]}: {n} lines in {s:.2f} s = {n / s:,.0f} lines/s')" \
        "$lines" "$start" "$end" "$round"
    head -1 "$out/import-$round.out" >&2
done
psql -h 127.0.0.1 -p "$port" -U postgres -qAt -d lakehook_bench \
    -c "SELECT 'bench: rows ' || (SELECT count(*) FROM cicd_deployments) || ' deployments, ' || (SELECT count(*) FROM cicd_deployment_commits) || ' commits, ' || (SELECT count(*) FROM webhook_events) || ' journal rows'" >&2
echo "(raw output in $out)"
