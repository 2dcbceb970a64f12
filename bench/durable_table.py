#!/usr/bin/env python3
"""Prints bench/durable.sh's results: per disk, Lakehook's issues rate against pgbench running
the same statement with as many clients, and the targets of docs/PERFORMANCE.md."""
import sys

path, seconds, flush_us = sys.argv[1:4]
rows = {}
for line in open(path):
    disk, name, *fields = line.split()
    rows[(disk, name)] = dict(f.split("=", 1) for f in fields if "=" in f)


def num(values, key):
    try:
        return float(values.get(key, "nan"))
    except ValueError:
        return float("nan")


def best(disk, prefix, key):
    """The best run of `prefix` on `disk` (the runs take turns; this machine's rates drift)."""
    values = [v for (d, n), v in rows.items() if d == disk and n.startswith(prefix)]
    return max(values, key=lambda v: num(v, key)) if values else {}


def verdict(ok):
    return "ok" if ok else "MISSED"


labels = {"local": "local disk, fsync on", "slow": f"slow disk ({flush_us} µs per flush), fsync on",
          "nofsync": "fsync off — CPU-only reference, not a promise Lakehook makes"}
print(f"\nDurable commits: {seconds} s per run, issues through Lakehook (wrk -t2) against pgbench on the same statement")
print(f"{'disk':<10}{'clients':>8}{'issues req/s':>14}{'p99 ms':>9}{'pgbench tps':>13}{'ratio':>8}{'Lakehook µs/req':>17}")
ratios = {}
for disk in ("local", "slow", "nofsync"):
    for clients in (16, 64):
        issues = best(disk, f"issues-c{clients}-", "rps")
        pgbench = best(disk, f"pgbench-c{clients}-", "tps")
        if not issues or not pgbench:
            continue
        rate, tps = num(issues, "rps"), num(pgbench, "tps")
        cpu_us = num(issues, "cpu_s") / num(issues, "requests") * 1e6
        ratios[(disk, clients)] = rate / tps
        print(f"{disk:<10}{clients:>8}{rate:>14.0f}{num(issues, 'p99_ms'):>9.2f}{tps:>13.0f}{rate / tps:>8.2f}{cpu_us:>17.0f}")
print("  " + "; ".join(f"{disk}: {label}" for disk, label in labels.items()))

print("\nreference: pgbench, the same statement 8 to a transaction with a savepoint each, 16 clients")
for disk in ("local", "slow", "nofsync"):
    sp8 = rows.get((disk, "pgbench-sp8-c16"))
    if sp8:
        print(f"  {disk:<9} {num(sp8, 'tps') * 8:8.0f} statements/s ({num(sp8, 'tps'):.0f} transactions/s)")

half = rows.get(("slow", "issues-half"), {})
peak = max((num(v, "peak_rss_kib") for v in rows.values() if "peak_rss_kib" in v), default=float("nan")) / 1024
cpu = [num(v, "cpu_s") / num(v, "requests") * 1e6 for (d, n), v in rows.items() if d != "nofsync" and n.startswith("issues-c")]
print("\ntargets")
for disk, clients in ((d, c) for d in ("slow", "local") for c in (16, 64)):
    if (disk, clients) in ratios:
        r = ratios[(disk, clients)]
        print(f"  {disk} disk, {clients} clients: issues ÷ pgbench {r:5.2f} (target ≥ 0.80)  {verdict(r >= 0.8)}")
print(f"  p99 at half the best rate, slow disk: {num(half, 'p99_ms'):.2f} ms at {num(half, 'rps'):.0f} req/s"
      f" (target ≤ 10 ms)  {verdict(num(half, 'p99_ms') <= 10)}")
print(f"  Lakehook CPU per issues request: {min(cpu) if cpu else float('nan'):.0f} µs at best (aim ≤ 60)")
print(f"  peak RSS: {peak:.1f} MiB (target ≤ 64)  {verdict(peak <= 64)}")
