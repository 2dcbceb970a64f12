#!/usr/bin/env python3
"""Prints bench/run.sh's results as one table with the ratios to the baselines."""
import sys

path, pool, connections, seconds = sys.argv[1:5]
runs, pgbenches, split_pgbenches, pipelined, split = {}, {}, {}, {}, {}
for line in open(path):
    name, *fields = line.split()
    values = dict(f.split("=", 1) for f in fields if "=" in f)
    if name == "pgbench-pipelined":
        pipelined = values
    elif name.startswith("pgbench-split-"):
        split_pgbenches[name] = values
    elif name.startswith("pgbench-"):
        pgbenches[name] = values
    elif name == "split":
        split = values
    else:
        runs[name] = values

def num(values, key):
    return float(values.get(key, "nan"))

print("\nCPU-only reference: PostgreSQL with fsync = off (no durable commit; see the durable table above)")
print(f"Lakehook benchmark: {seconds} s per run, wrk -t2 -c{connections}, database pool {pool}, pgbench -c{pool} -M prepared")
print("issues and pgbench take turns twice; each target compares the best run of each side\n")
print(f"{'workload':<14}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU s/1k':>10}{'peak RSS MiB':>14}{'non-2xx':>9}")
for name, values in runs.items():
    requests = num(values, "requests")
    cpu = num(values, "cpu_s") / requests * 1000 if requests else float("nan")
    print(f"{name:<14}{num(values, 'rps'):>10.0f}{num(values, 'p50_ms'):>9.2f}{num(values, 'p99_ms'):>9.2f}"
          f"{cpu:>10.3f}{num(values, 'peak_rss_kib') / 1024:>14.1f}{int(num(values, 'non2xx')):>9}")
for name, values in {**pgbenches, **split_pgbenches}.items():
    print(f"{name:<14}{num(values, 'tps'):>10.0f}{'':>9}{'':>9}{'':>10}{'':>14}{'':>9}   (avg {values.get('avg_ms', '?')} ms)")
# The best pgbench run is the baseline, as the best issues run is Lakehook's rate.
best_pgbench = max(pgbenches.items(), key=lambda item: num(item[1], "tps"))
pgbench = best_pgbench[1]
pg_tps = num(pgbench, "tps")
pipelined_rate = float(pipelined.get("statements_per_s", "nan"))
print(f"{'pgbench pipe8':<14}{pipelined_rate:>10.0f}   (reference: 8 statements per pipeline and transaction)")

issues = max(num(runs.get("issues-1", {}), "rps"), num(runs.get("issues-2", {}), "rps"))
livez = num(runs.get("livez", {}), "rps")
nginx = num(runs.get("nginx-livez", {}), "rps")
half = runs.get("issues-half", {})
rss1 = num(runs.get("issues-1", {}), "rss_kib") / 1024
rss2 = num(runs.get("issues-2", {}), "rss_kib") / 1024
peak = max(num(v, "peak_rss_kib") for k, v in runs.items() if k != "nginx-livez") / 1024

# Where a request's CPU goes (whole machine, 2 cores shared by the client, Lakehook and PostgreSQL).
best_name = max(("issues-1", "issues-2"), key=lambda name: num(runs.get(name, {}), "rps"))
best = runs.get(best_name, {})
requests = num(best, "requests")
if requests and "machine_cpu_s" in best:
    machine = num(best, "machine_cpu_s") / requests * 1e6
    postgres = num(best, "pg_cpu_s") / requests * 1e6
    lakehook = num(best, "cpu_s") / requests * 1e6
    print(f"\nCPU per issues request ({best_name}): {machine:.0f} µs in all = PostgreSQL {postgres:.0f}"
          f" + Lakehook {lakehook:.0f} + wrk and the rest {machine - postgres - lakehook:.0f}")
    pg_statements = pg_tps * float(pgbench.get("seconds", "nan"))
    pg_machine = num(pgbench, "machine_cpu_s") / pg_statements * 1e6
    pg_client = num(pgbench, "client_cpu_s") / pg_statements * 1e6
    print(f"CPU per pgbench statement ({best_pgbench[0]}): {pg_machine:.0f} µs in all = PostgreSQL and the rest {pg_machine - pg_client:.0f}"
          f" + pgbench {pg_client:.0f}")

def verdict(ok):
    return "ok" if ok else "MISSED"

print("\ntargets")
print(f"  issues ÷ pgbench          {issues / pg_tps:6.2f}   (target ≥ 0.80)  {verdict(issues / pg_tps >= 0.8)}")
print(f"  issues ÷ pgbench pipe8    {issues / pipelined_rate:6.2f}   (reference, no target)")
print(f"  /livez ÷ nginx (1 worker) {livez / nginx:6.2f}   (target ≥ 0.50)  {verdict(livez / nginx >= 0.5)}")
print(f"  p99 at half rate          {num(half, 'p99_ms'):6.2f} ms at {num(half, 'rps'):.0f} req/s (target ≤ 10 ms)  {verdict(num(half, 'p99_ms') <= 10)}")
print(f"  peak RSS                  {peak:6.1f} MiB (target ≤ 64)  {verdict(peak <= 64)}")
print(f"  RSS after run 1 / run 2   {rss1:.1f} / {rss2:.1f} MiB  {verdict(rss2 <= rss1 * 1.05 + 1)}")

# The same comparison with PostgreSQL on cores of its own (bench/run.sh pins it): what each side
# gets out of PostgreSQL when neither the client nor Lakehook takes CPU from it.
split_issues = {k: v for k, v in runs.items() if k.startswith("issues-split-")}
if split and split_issues and split_pgbenches:
    best_split_name = max(split_issues, key=lambda name: num(split_issues[name], "rps"))
    best_split = split_issues[best_split_name]
    split_tps = max(num(v, "tps") for v in split_pgbenches.values())
    cpus = split["postgres_cpus"].split("-")
    postgres_cores = int(cpus[-1]) - int(cpus[0]) + 1
    busy = num(best_split, "pg_cpu_s") / float(seconds) / postgres_cores
    print(f"\nPostgreSQL on cores of its own (cpus {split['postgres_cpus']}; wrk, pgbench and Lakehook on {split['client_cpus']}):")
    print(f"  issues ÷ pgbench          {num(best_split, 'rps') / split_tps:6.2f}   ({num(best_split, 'rps'):.0f} / {split_tps:.0f};"
          f" PostgreSQL busy {busy:.0%} of its cores in {best_split_name})")
