# Shared by bench/run.sh and bench/soak.sh: a release build, a fresh database on the throwaway
# PostgreSQL, a connection, and `lakehook serve` on $lakehook_port. Sets bin, port, psql_,
# LAKEHOOK_CONNECTION, LAKEHOOK_KEY, lakehook_pid.

start_lakehook() {
    local pool="$1" out="$2"
    release_binary
    local database_env
    database_env="$(scripts/dev-postgres.sh start)"
    eval "$database_env"
    port="${LAKEHOOK_DEV_PGPORT:-54329}"
    fresh_bench_database "$port"

    lakehook_port=4101
    # Default settings (log level info: one JSON line per request), the log kept in a file.
    LAKEHOOK_LISTEN="127.0.0.1:$lakehook_port" LAKEHOOK_DB_POOL_SIZE="$pool" "$bin" serve 2>"$out/lakehook.log" &
    lakehook_pid=$!
    wait_ready "$lakehook_port" && return 0
    echo "bench: lakehook did not become ready; see $out/lakehook.log" >&2
    return 1
}

# release_binary: the release build, as the container image builds it; sets bin.
# BENCH_BIN: a binary built already (e.g. another revision's, for an A/B), used as it is.
release_binary() {
    if [ -n "${BENCH_BIN:-}" ]; then bin="$BENCH_BIN"; echo "bench: $bin" >&2; return; fi
    echo "bench: release build" >&2
    swift build -c release --static-swift-stdlib --product lakehook >/dev/null
    bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/lakehook"
}

# fresh_bench_database PORT: database lakehook_bench made anew on the PostgreSQL at PORT,
# migrated, with one connection; exports DATABASE_URL, LAKEHOOK_CONNECTION, LAKEHOOK_KEY.
fresh_bench_database() {
    local pgport="$1" created
    psql -h 127.0.0.1 -p "$pgport" -U postgres -v ON_ERROR_STOP=1 -qAt -d postgres \
        -c "DROP DATABASE IF EXISTS lakehook_bench WITH (FORCE)" -c "CREATE DATABASE lakehook_bench" >/dev/null 2>&1
    export DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/lakehook_bench"
    "$bin" migrate >/dev/null
    created="$("$bin" connections create bench --json)"
    export LAKEHOOK_CONNECTION="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$created")"
    export LAKEHOOK_KEY="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["apiKey"])' "$created")"
}

# wait_ready PORT: until lakehook on PORT answers /readyz (10 s at most); false if it never does.
wait_ready() {
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0; sleep 0.1; done
    return 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# CPU ticks of the whole bench PostgreSQL (postmaster and its live children).
postmaster_pid() {
    local checkpointer
    checkpointer="$(psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt \
        -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")"
    ps -o ppid= -p "$checkpointer" | tr -d ' '
}
pg_ticks() {
    local total=0 pid ticks
    for pid in "$1" $(pgrep -P "$1"); do
        ticks="$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)"
        total=$((total + ticks))
    done
    echo "$total"
}
# Busy CPU ticks of the whole machine (all cores).
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
peak_rss_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
open_fds() { ls "/proc/$1/fd" | wc -l; }
