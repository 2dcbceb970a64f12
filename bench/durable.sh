#!/usr/bin/env bash
# `make bench`, first part: durable commits. A 200 from Lakehook promises a flushed commit, so
# this runs a PostgreSQL of its own with fsync = on and synchronous_commit = on, on two disks:
#   local  this machine's disk as it is
#   slow   every fsync/fdatasync of PostgreSQL made to wait BENCH_FLUSH_US (default 1000 µs, a
#          cloud block volume) by bench/slowflush.c, LD_PRELOAD'ed into the server
# and once more with fsync = off, labelled a CPU-only reference. On each: the issues upsert
# through Lakehook (wrk, bench/issues.lua) and the very same statement through pgbench, with 16
# and 64 connections (clients), taking turns; on the slow disk also issues at half the best
# rate (p99). Prints one table with the targets of docs/PERFORMANCE.md.
# Environment: BENCH_SECONDS (8), BENCH_FLUSH_US (1000), BENCH_ROUNDS (2), BENCH_PGPORT (54341),
# BENCH_DISKS ("local slow nofsync"),
# and any LAKEHOOK_* variable, passed to `lakehook serve` (e.g. LAKEHOOK_DB_PIPELINE=off).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${BENCH_SECONDS:-8}"
rounds="${BENCH_ROUNDS:-2}"
export BENCH_FLUSH_US="${BENCH_FLUSH_US:-1000}"
port="${BENCH_PGPORT:-54341}"
out="$(mktemp -d /tmp/lakehook-durable.XXXXXX)"
state=/tmp/lakehook-bench-postgres
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as_postgres=(); [ "$(id -u)" = 0 ] && as_postgres=(runuser -u postgres --)
lakehook_pid=""
stop_all() {
    [ -z "$lakehook_pid" ] || { kill "$lakehook_pid" 2>/dev/null || true; wait "$lakehook_pid" 2>/dev/null || true; }
    lakehook_pid=""
    [ ! -f "$state/data/postmaster.pid" ] || "${as_postgres[@]}" "$pgbin/pg_ctl" -D "$state/data" -m fast -w stop >/dev/null 2>&1 || true
}
trap stop_all EXIT

for tool in wrk pgbench cc; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing; install it: sudo apt-get install wrk postgresql-contrib gcc" >&2; exit 1; }
done
source bench/lib.sh
release_binary
cc -shared -fPIC -O2 -o "$out/slowflush.so" bench/slowflush.c -ldl
chmod 755 "$out" "$out/slowflush.so"

mkdir -p "$state"; [ "$(id -u)" = 0 ] && chown postgres "$state"
[ -f "$state/data/PG_VERSION" ] || "${as_postgres[@]}" "$pgbin/initdb" -D "$state/data" -U postgres --auth=trust >/dev/null

# start_disk DISK: PostgreSQL for that disk, a fresh database, a connection, lakehook serve.
start_disk() {
    local disk="$1" fsync=on preload=""
    [ "$disk" = nofsync ] && fsync=off
    [ "$disk" = slow ] && preload="$out/slowflush.so"
    "${as_postgres[@]}" env LD_PRELOAD="$preload" BENCH_FLUSH_US="$BENCH_FLUSH_US" "$pgbin/pg_ctl" -D "$state/data" \
        -l "$state/postgres-$disk.log" -w -o "-p $port -k $state -c listen_addresses=127.0.0.1 -c max_connections=200 \
        -c fsync=$fsync -c synchronous_commit=on -c shared_buffers=256MB" start >/dev/null
    fresh_bench_database "$port"
    LAKEHOOK_LISTEN="127.0.0.1:4111" "$bin" serve 2>"$out/lakehook-$disk.log" &
    lakehook_pid=$!
    wait_ready 4111 || { echo "bench: lakehook did not become ready; see $out/lakehook-$disk.log" >&2; exit 1; }
    python3 bench/pgbench_issues.py Sources/Webhooks/Ingest/IssueUpsert.swift "$LAKEHOOK_CONNECTION" > "$out/issues.pgbench"
    mapfile -t defines < <(python3 bench/pgbench_issues.py --defines "$LAKEHOOK_CONNECTION")
}

# wrk_run DISK NAME CONNECTIONS [delay ms]
wrk_run() {
    local disk="$1" name="$2" connections="$3" delay="${4:-0}"
    cat bench/issues.lua bench/report.lua > "$out/issues-run.lua"
    local before; before="$(cpu_ticks "$lakehook_pid")"
    LAKEHOOK_DELAY_MS="$delay" wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$out/issues-run.lua" \
        "http://127.0.0.1:4111" > "$out/$disk-$name.wrk" 2>&1
    local after; after="$(cpu_ticks "$lakehook_pid")"
    echo "$disk $name $(grep '^RESULT' "$out/$disk-$name.wrk" | cut -d' ' -f2-) cpu_s=$(python3 -c "print(($after - $before) / $(getconf CLK_TCK))") peak_rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$lakehook_pid/status")" >> "$out/results"
    echo "bench: $disk $name done" >&2
}

# pgbench_run DISK NAME CLIENTS
pgbench_run() {
    local disk="$1" name="$2" clients="$3"
    PGOPTIONS="-c plan_cache_mode=force_generic_plan" pgbench -h 127.0.0.1 -p "$port" -U postgres -n -M prepared \
        -c "$clients" -j 2 -T "$seconds" "${defines[@]}" -f "$out/issues.pgbench" lakehook_bench > "$out/$disk-$name.txt" 2>&1
    echo "$disk $name tps=$(awk '/^tps = / {print $3; exit}' "$out/$disk-$name.txt")" >> "$out/results"
    echo "bench: $disk $name done" >&2
}

# savepoint_batch_run DISK CLIENTS: pgbench, 8 statements per transaction, a savepoint each.
savepoint_batch_run() {
    local disk="$1" clients="$2" script="$out/issues-sp8.pgbench"
    python3 - "$out/issues.pgbench" > "$script" <<'PY'
import re, sys
setter, statement = [line for line in open(sys.argv[1]) if line.strip()][:2]
print("BEGIN;")
for i in range(8):
    print(setter.strip().replace(r"\set n ", f"\\set n{i} "))
    print("SAVEPOINT s;")
    print(re.sub(r":n\b", f":n{i}", statement.strip()))
    print("RELEASE SAVEPOINT s;")
print("COMMIT;")
PY
    PGOPTIONS="-c plan_cache_mode=force_generic_plan" pgbench -h 127.0.0.1 -p "$port" -U postgres -n -M prepared \
        --max-tries=10 -c "$clients" -j 2 -T "$seconds" "${defines[@]}" -f "$script" lakehook_bench > "$out/$disk-sp8.txt" 2>&1
    echo "$disk pgbench-sp8-c$clients tps=$(awk '/^tps = / {print $3; exit}' "$out/$disk-sp8.txt")" >> "$out/results"
    echo "bench: $disk savepoint batches done" >&2
}

: > "$out/results"
for disk in ${BENCH_DISKS:-local slow nofsync}; do
    start_disk "$disk"
    # Warm-up, not recorded: a fresh database's tables and indexes, and Lakehook's pipelined
    # connections and prepared statements (else the first measured run pays for them, and the
    # pgbench run after it does not).
    cat bench/issues.lua bench/report.lua > "$out/issues-run.lua"
    wrk -t2 -c16 -d3s -s "$out/issues-run.lua" "http://127.0.0.1:4111" > /dev/null 2>&1 || true
    for round in $(seq "$rounds"); do
        for connections in 16 64; do
            wrk_run "$disk" "issues-c$connections-r$round" "$connections"
            pgbench_run "$disk" "pgbench-c$connections-r$round" "$connections"
        done
    done
    # A reference, not a target: the same statement 8 to a transaction, each under its own
    # savepoint (the "one transaction per batch" option; docs/PERFORMANCE.md).
    savepoint_batch_run "$disk" 16
    if [ "$disk" = slow ]; then
        best="$(awk '$1 == "slow" && $2 ~ /^issues-c16-/ { for (i = 3; i <= NF; i++) if ($i ~ /^rps=/) { sub("rps=", "", $i); if ($i > max) max = $i } } END { print max }' "$out/results")"
        # Half the best rate at 16 connections: each connection waits between its requests
        # (wrk's delay is whole milliseconds, rounded down).
        delay="$(python3 -c "import math; print(max(1, math.floor(16 / ($best / 2) * 1000)))")"
        wrk_run slow issues-half 16 "$delay"
    fi
    stop_all
done
python3 bench/durable_table.py "$out/results" "$seconds" "$BENCH_FLUSH_US"
echo "(raw output in $out)"
