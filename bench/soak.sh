#!/usr/bin/env bash
# Resource bounds: 200,000 mixed requests against one release `lakehook serve`; its resident
# memory after 20,000 and after 200,000, and its open file descriptors before and after.
#   bench/soak.sh            (SOAK_REQUESTS, default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
total="${SOAK_REQUESTS:-200000}"
pool="${LAKEHOOK_DB_POOL_SIZE:-$(( $(nproc) * 2 > 4 ? $(nproc) * 2 : 4 ))}"
out="$(mktemp -d /tmp/lakehook-soak.XXXXXX)"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT
source bench/lib.sh
start_lakehook "$pool" "$out"

cat bench/mixed.lua bench/report.lua > "$out/mixed.lua"
fds_before="$(open_fds "$lakehook_pid")"
rss_start="$(rss_kib "$lakehook_pid")"
done_requests=0
rss_20k=""
while [ "$done_requests" -lt "$total" ]; do
    wrk -t2 -c16 -d3s -s "$out/mixed.lua" "http://127.0.0.1:$lakehook_port" > "$out/chunk.wrk" 2>&1
    n="$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' "$out/chunk.wrk")"
    bad="$(sed -n 's/.* non2xx=\([0-9]*\).*/\1/p' "$out/chunk.wrk")"
    done_requests=$((done_requests + n))
    [ "$bad" = 0 ] || echo "soak: $bad non-2xx answers in a chunk" >&2
    if [ -z "$rss_20k" ] && [ "$done_requests" -ge 20000 ]; then
        rss_20k="$(rss_kib "$lakehook_pid")"; rss_20k_at=$done_requests
        sleep 1; fds_warm="$(open_fds "$lakehook_pid")"  # the pool has opened its connections by now
    fi
done
sleep 1  # let wrk's connections close
fds_after="$(open_fds "$lakehook_pid")"
rss_end="$(rss_kib "$lakehook_pid")"
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
echo "requests                     $done_requests (mixed workload, wrk -t2 -c16)"
echo "RSS at start                 $(mib "$rss_start")"
echo "RSS after $rss_20k_at requests   $(mib "$rss_20k")"
echo "RSS after $done_requests requests  $(mib "$rss_end")"
echo "peak RSS                     $(mib "$(peak_rss_kib "$lakehook_pid")")"
echo "open fds: idle at start $fds_before, idle after $rss_20k_at requests $fds_warm, idle at the end $fds_after"
echo "(the pool opens its connections lazily: the first load adds up to pool size - 1 database sockets)"
kill -TERM "$lakehook_pid"; wait "$lakehook_pid" || true
