#!/usr/bin/env bash
# DORA at scale: dora_report on project `perf` of 100,000 production deployments (bench/dora.sql,
# loaded into a fresh database on the development PostgreSQL), timed as a BI tool runs it (psql),
# and the /dora page's 12 weekly reports as a browser gets them. Prints the figures of
# docs/DORA.md, "Performance". A figure, not a test: the target is a default-window report in
# well under a second on two cores. Environment: BENCH_BIN (a binary built already), BENCH_RUNS (5).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
runs="${BENCH_RUNS:-5}"
release_binary
eval "$(scripts/dev-postgres.sh start)"
port="${LAKEHOOK_DEV_PGPORT:-54329}"
fresh_bench_database "$port"
psql_bench() { psql -h 127.0.0.1 -p "$port" -U postgres -d lakehook_bench -v ON_ERROR_STOP=1 -qAt "$@"; }

started=$(date +%s.%N)
psql_bench -f bench/dora.sql >/dev/null
echo "DORA at scale: data set loaded in $(python3 -c "print(f'{$(date +%s.%N) - $started:.1f}')") s"
psql_bench -c "SELECT 'deployments of perf: ' || count(*) FROM dora_deployments WHERE project_name = 'perf'"

# The milliseconds psql's \timing reports for one statement.
timed() { psql_bench -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }
times=()
for _ in $(seq "$runs"); do times+=("$(timed "SELECT * FROM dora_report('perf')")"); done
echo "  dora_report('perf') (the last 30 days), $runs runs: ${times[*]} ms"
for window in "7 days" "90 days" "365 days" "730 days"; do
    echo "  the last $window: $(timed "SELECT * FROM dora_report('perf', now() - interval '$window', now())") ms"
done

# The page: the server with an admin token, one GET of /dora?project=perf (12 weekly reports).
page_port=4102
LAKEHOOK_LISTEN="127.0.0.1:$page_port" LAKEHOOK_ADMIN_TOKEN=bench-admin-token-0123456789 "$bin" serve 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_ready "$page_port"
page="$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'Authorization: Bearer bench-admin-token-0123456789' \
    "http://127.0.0.1:$page_port/dora?project=perf")"
echo "  the /dora page (12 weekly reports, rendered): HTTP ${page% *} in $(python3 -c "print(round(${page#* } * 1000))") ms"
