#!/usr/bin/env bash
# `make bench`, second part: the CPU-only reference. The throwaway PostgreSQL runs with
# fsync = off, so these figures measure CPU, never the durable commit a 200 promises (that is
# bench/durable.sh, the first part). Lakehook against the machine's own limits, side by side:
#   - issues upserts, cicd_tasks with finishes, a mixed workload, /livez — wrk against Lakehook
#   - pgbench running the same issues statement and parameters, same PostgreSQL, clients = Lakehook's pool size
#   - nginx with one worker answering /livez's static JSON
#   - the issues comparison again with PostgreSQL on cores of its own (how it is deployed): its
#     processes pinned to the first half of the cores, wrk, pgbench and Lakehook to the rest
# Prints one table (requests/s, p50, p99, CPU s per 1,000 requests, peak RSS, ratios).
# Environment: BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 16), LAKEHOOK_DB_POOL_SIZE.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${BENCH_SECONDS:-10}"
connections="${BENCH_CONNECTIONS:-16}"
pool="${LAKEHOOK_DB_POOL_SIZE:-$(( $(nproc) * 2 > 4 ? $(nproc) * 2 : 4 ))}"
out="$(mktemp -d /tmp/lakehook-bench.XXXXXX)"
# The throwaway PostgreSQL outlives the bench (make test uses it): whatever happens, it gets all
# the cores back.
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; unpin_postgres' EXIT

for tool in wrk pgbench nginx; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
        echo "bench: $tool is missing; install it: sudo apt-get install wrk nginx postgresql-contrib" >&2; exit 1; }
done
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

source bench/lib.sh
postmaster=""
# pin_postgres CPUS: the postmaster and every process it has started (all their threads); the
# backends it starts later inherit its affinity.
pin_postgres() {
    local pid
    for pid in "$postmaster" $(pgrep -P "$postmaster"); do taskset -a -cp "$1" "$pid" >/dev/null 2>&1 || true; done
}
unpin_postgres() { [ -z "$postmaster" ] || pin_postgres "0-$(( $(nproc) - 1 ))"; }
start_lakehook "$pool" "$out"

ticks_per_second="$(getconf CLK_TCK)"
postmaster="$(postmaster_pid)"
# The load generators run under $pin (empty: anywhere; the split-cores runs set it to taskset).
pin=()

# run NAME PID URL SCRIPT [extra wrk args...]: one wrk run; appends a line to $out/results.
run() {
    local name="$1" pid="$2" url="$3" script="$4"; shift 4
    cat "bench/$script" bench/report.lua > "$out/$name.lua"
    local before; before="$(cpu_ticks "$pid")"
    local pg_before; pg_before="$(pg_ticks "$postmaster")"
    local machine_before; machine_before="$(machine_ticks)"
    "${pin[@]}" wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$out/$name.lua" "$@" "$url" > "$out/$name.wrk" 2>&1
    local after; after="$(cpu_ticks "$pid")"
    local pg_after; pg_after="$(pg_ticks "$postmaster")"
    local machine_after; machine_after="$(machine_ticks)"
    local line; line="$(grep '^RESULT' "$out/$name.wrk")"
    echo "$name $line cpu_s=$(python3 -c "print(($after - $before) / $ticks_per_second)") pg_cpu_s=$(python3 -c "print(($pg_after - $pg_before) / $ticks_per_second)") machine_cpu_s=$(python3 -c "print(($machine_after - $machine_before) / $ticks_per_second)") peak_rss_kib=$(peak_rss_kib "$pid") rss_kib=$(rss_kib "$pid")" >> "$out/results"
    echo "bench: $name done" >&2
}

# pgbench_round N: baseline 1, pgbench on the same statement with the same parameters, clients =
# pool size, with the session setting Lakehook's pipelined connections use (generic plans).
# Appends "pgbench-N ..." to the results.
pgbench_round() {
    local round="$1"
    local machine_before; machine_before="$(machine_ticks)"
    local TIMEFORMAT="pgbench_cpu %U %S"
    { time PGOPTIONS="-c plan_cache_mode=force_generic_plan" "${pin[@]}" pgbench -h 127.0.0.1 -p "$port" -U postgres \
        -n -M prepared -c "$pool" -j 2 -T "$seconds" --report-per-command -r "${pgbench_defines[@]}" -f "$out/issues.pgbench" \
        lakehook_bench > "$out/pgbench-$round.txt" 2>&1 ; } 2> "$out/pgbench-$round.time"
    local machine_after; machine_after="$(machine_ticks)"
    local tps; tps="$(awk '/^tps = / {print $3; exit}' "$out/pgbench-$round.txt")"
    local latency; latency="$(awk '/^latency average = / {print $4; exit}' "$out/pgbench-$round.txt")"
    local client; client="$(awk '/^pgbench_cpu/ {print $2 + $3}' "$out/pgbench-$round.time")"
    echo "pgbench-$round tps=$tps avg_ms=$latency machine_cpu_s=$(python3 -c "print(($machine_after - $machine_before) / $ticks_per_second)") client_cpu_s=$client seconds=$seconds" >> "$out/results"
    echo "bench: pgbench-$round done" >&2
}

: > "$out/results"
python3 bench/pgbench_issues.py Sources/Webhooks/Ingest/IssueUpsert.swift "$LAKEHOOK_CONNECTION" > "$out/issues.pgbench"
mapfile -t pgbench_defines < <(python3 bench/pgbench_issues.py --defines "$LAKEHOOK_CONNECTION")
# Lakehook and pgbench take turns on the same database, twice; the ratio compares the best of
# each (this machine's rates drift by ±15 % from one 10 s run to the next).
for round in 1 2; do
    run "issues-$round" "$lakehook_pid" "http://127.0.0.1:$lakehook_port" issues.lua
    pgbench_round "$round"
done
run tasks "$lakehook_pid" "http://127.0.0.1:$lakehook_port" tasks.lua
run mixed "$lakehook_pid" "http://127.0.0.1:$lakehook_port" mixed.lua
run livez "$lakehook_pid" "http://127.0.0.1:$lakehook_port" livez.lua

# Issues at half of the maximum rate: each connection waits between its requests.
max_rps="$(awk '$1 ~ /^issues-[12]$/ { for (i = 2; i <= NF; i++) if ($i ~ /^rps=/) { sub("rps=", "", $i); if ($i > max) max = $i } } END { print max }' "$out/results")"
# wrk's delay is whole milliseconds: rounded down, the rate lands just below half the maximum
# once each request's own latency is added (rounding to nearest could land near a third).
export LAKEHOOK_DELAY_MS="$(python3 -c "import math; print(max(1, math.floor($connections / ($max_rps / 2) * 1000)))")"
run issues-half "$lakehook_pid" "http://127.0.0.1:$lakehook_port" issues.lua
unset LAKEHOOK_DELAY_MS


# Reference (not a target): the same statement, 8 per libpq pipeline — what PostgreSQL does
# when its client does not wait for each answer, as Lakehook's per-loop pipelines do.
python3 bench/pgbench_issues.py Sources/Webhooks/Ingest/IssueUpsert.swift "$LAKEHOOK_CONNECTION" 8 > "$out/issues-pipelined.pgbench"
PGOPTIONS="-c plan_cache_mode=force_generic_plan" pgbench -h 127.0.0.1 -p "$port" -U postgres -n -M prepared \
    -c "$pool" -j 2 -T "$seconds" "${pgbench_defines[@]}" -f "$out/issues-pipelined.pgbench" lakehook_bench > "$out/pgbench-pipelined.txt" 2>&1
pg_pipelined_tps="$(awk '/^tps = / {print $3; exit}' "$out/pgbench-pipelined.txt")"
echo "pgbench-pipelined statements_per_s=$(python3 -c "print($pg_pipelined_tps * 8)")" >> "$out/results"
echo "bench: pgbench (pipelined) done" >&2

# Baseline 2: nginx, one worker, static /livez.
nginx_port=4102
sed "s/__PORT__/$nginx_port/" bench/nginx-baseline.conf > "$out/nginx.conf"
mkdir -p "$out/nginx"
"$NGINX" -p "$out/nginx" -c "$out/nginx.conf" -g "pid $out/nginx.pid;" &
nginx_master=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$nginx_port/livez" >/dev/null && break; sleep 0.1; done
nginx_worker="$(pgrep -P "$nginx_master" | head -1)"
run nginx-livez "$nginx_worker" "http://127.0.0.1:$nginx_port" livez.lua
kill "$nginx_master"

# The issues comparison once more with PostgreSQL on cores of its own: its processes on the first
# half of the cores, Lakehook, wrk and pgbench on the others. On two cores the client, Lakehook
# and PostgreSQL otherwise share both, and pgbench's own client costs a fifth of what wrk and
# Lakehook cost (docs/PERFORMANCE.md).
cores="$(nproc)"
if [ "$cores" -ge 2 ]; then
    postgres_cpus="0-$(( cores / 2 - 1 ))"
    client_cpus="$(( cores / 2 ))-$(( cores - 1 ))"
    pin_postgres "$postgres_cpus"
    taskset -a -cp "$client_cpus" "$lakehook_pid" >/dev/null
    pin=(taskset -c "$client_cpus")
    for round in 1 2; do
        run "issues-split-$round" "$lakehook_pid" "http://127.0.0.1:$lakehook_port" issues.lua
        pgbench_round "split-$round"
    done
    pin=()
    unpin_postgres
    echo "split postgres_cpus=$postgres_cpus client_cpus=$client_cpus" >> "$out/results"
fi

kill -TERM "$lakehook_pid"; wait "$lakehook_pid" || true
python3 bench/table.py "$out/results" "$pool" "$connections" "$seconds"
echo "(raw output in $out)"
