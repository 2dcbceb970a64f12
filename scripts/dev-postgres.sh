#!/usr/bin/env bash
# A throwaway PostgreSQL for `make run` and `make test`, kept under .lakehook/ in the project.
#   scripts/dev-postgres.sh start   start it (idempotent); prints the environment to use it
#   scripts/dev-postgres.sh stop    stop it
# PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
port="${LAKEHOOK_DEV_PGPORT:-54329}"
state="$root/.lakehook/postgres"

bindir=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$candidate/initdb" ] && bindir="$candidate" && break
done
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then bindir="$(dirname "$(command -v initdb)")"; fi
[ -n "$bindir" ] || { echo "dev-postgres: no PostgreSQL server found; install it: sudo apt-get install postgresql" >&2; exit 1; }

as_owner=()
if [ "$(id -u)" = 0 ]; then
    as_owner=(runuser -u postgres --)
    # The postgres user must be able to reach the data folder; if the project folder is closed to it, keep the data in /tmp.
    if ! runuser -u postgres -- test -x "$root" 2>/dev/null; then
        state="/tmp/lakehook-postgres-$(echo "$root" | md5sum | cut -c1-8)"
    fi
fi
data="$state/data"
run="$state/run"

running() { [ -f "$data/PG_VERSION" ] && "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }
# Something accepts connections on the port (bash's /dev/tcp connects, then closes at once).
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start() {
    if ! running && port_taken; then
        echo "dev-postgres: 127.0.0.1:$port is taken by another program (another clone's throwaway PostgreSQL?" \
            "ss -ltnp 'sport = :$port' names it), so the project's throwaway PostgreSQL cannot start on it." \
            "Stop that program, or pick another port: LAKEHOOK_DEV_PGPORT=$((port + 1)) make run (or make test)" >&2
        exit 1
    fi
    mkdir -p "$state" "$run"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$state" "$run"; fi
    if [ ! -f "$data/PG_VERSION" ]; then
        "${as_owner[@]}" "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 \
            || { cat "$state/initdb.log" >&2; exit 1; }
    fi
    if ! running; then
        "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$state/postgres.log" -w -t 60 \
            -o "-p $port -k $run -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" \
            start >/dev/null || { tail -20 "$state/postgres.log" >&2; exit 1; }
    fi
    for db in lakehook lakehook_test; do
        "${as_owner[@]}" "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
            || "${as_owner[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
    done
    echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$port/lakehook"
}

stop() {
    if [ -f "$data/PG_VERSION" ]; then "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true; fi
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
