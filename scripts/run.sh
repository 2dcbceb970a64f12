#!/usr/bin/env bash
# `make run`: a throwaway PostgreSQL under .lakehook/ when DATABASE_URL is unset, migrations, a
# first connection ("demo", with a fresh key each run), the curl lines to try, a GitHub source
# connection ("demo-github", with a fresh secret each run) and a signed curl to try, how to use the
# CLI meanwhile, then the server.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DATABASE_URL:-}" ] && [ -z "${PGHOST:-}" ]; then
    # Not `eval "$(...)"`: eval of nothing succeeds, and a failed start must stop here.
    database_env="$(scripts/dev-postgres.sh start)"
    eval "$database_env"
    dev_database=1
    echo "lakehook: using the local PostgreSQL at $DATABASE_URL (data in .lakehook/; stop it with: make db-stop)"
fi
swift build --product lakehook
bin="$(swift build --show-bin-path)/lakehook"

"$bin" migrate
if "$bin" connections list --json | grep -q '"name":"demo"'; then
    "$bin" connections rotate-key demo
else
    "$bin" connections create demo
fi
# A GitHub source connection beside it, with a signed sample to post (issue 17).
scripts/demo-github.sh "$bin" demo-github
echo
echo "The command line, in another shell (it needs the same database):"
if [ -n "${dev_database:-}" ]; then
    echo "  export DATABASE_URL='$DATABASE_URL'"
else
    echo "  (with the DATABASE_URL or PG* variables set here)"
fi
echo "  $bin connections list"
echo "  $bin dora --project demo"
echo
echo "lakehook: serving on ${LAKEHOOK_LISTEN:-127.0.0.1:4000} (Ctrl-C stops it; another port: LAKEHOOK_LISTEN=127.0.0.1:4001 make run)"
exec "$bin" serve
