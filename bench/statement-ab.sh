#!/usr/bin/env bash
# The issues upsert of an older revision against this tree's, on pgbench, alternated, on a
# throwaway PostgreSQL of its own (port 54340, data in /tmp/lakehook-statement-ab).
#   bench/statement-ab.sh REV            e.g. bench/statement-ab.sh HEAD~1
# Environment: FSYNC (on; off only as a labelled CPU reference), CLIENTS ("4 16"), SECONDS_EACH (8).
# Needs a built lakehook (make release, or swift build) to migrate the database.
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:?usage: bench/statement-ab.sh REV}"
bin="$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1 | xargs dirname)"
state=/tmp/lakehook-statement-ab; data="$state/data"; port=54340
lakehook=.build/release/lakehook; [ -x "$lakehook" ] || lakehook=.build/debug/lakehook
as_postgres=(); [ "$(id -u)" = 0 ] && as_postgres=(runuser -u postgres --)
mkdir -p "$state"; [ "$(id -u)" = 0 ] && chown postgres "$state"
[ -f "$data/PG_VERSION" ] || "${as_postgres[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust >/dev/null
"${as_postgres[@]}" "$bin/pg_ctl" -D "$data" -l "$state/log" -w -o "-p $port -k $state -c listen_addresses=127.0.0.1 -c fsync=${FSYNC:-on} -c max_connections=100" start >/dev/null
trap '"${as_postgres[@]}" "$bin/pg_ctl" -D "$data" -w stop >/dev/null' EXIT
psql -h 127.0.0.1 -p $port -U postgres -qc "DROP DATABASE IF EXISTS ab" -c "CREATE DATABASE ab" 2>/dev/null
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/ab"
"$lakehook" migrate >/dev/null
conn="$("$lakehook" connections create bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
git show "$rev:Sources/Webhooks/Ingest/IssueUpsert.swift" > "$state/old.swift"
python3 bench/pgbench_issues.py "$state/old.swift" "$conn" > "$state/old.pgbench"
python3 bench/pgbench_issues.py Sources/Webhooks/Ingest/IssueUpsert.swift "$conn" > "$state/new.pgbench"
mapfile -t defines < <(python3 bench/pgbench_issues.py --defines "$conn")
for clients in ${CLIENTS:-4 16}; do
    for round in 1 2; do
        for side in old new; do
            tps="$(PGOPTIONS="-c plan_cache_mode=force_generic_plan" pgbench -h 127.0.0.1 -p $port -U postgres -n \
                -M prepared -c "$clients" -j 2 -T "${SECONDS_EACH:-8}" "${defines[@]}" -f "$state/$side.pgbench" ab 2>&1 \
                | awk '/^tps = / {print $3}')"
            echo "fsync=${FSYNC:-on} clients=$clients round=$round $side ($([ $side = old ] && echo "$rev" || echo tree)) tps=$tps"
        done
    done
done
