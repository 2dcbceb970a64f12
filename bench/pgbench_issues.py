#!/usr/bin/env python3
"""Writes the pgbench script for the issues baseline: the very statement Lakehook sends for an
issues upsert (read from Sources/Webhooks/Ingest/IssueUpsert.swift), with the values of the
benchmark's body. The issue key varies over the same key space as bench/issues.lua.

With a third argument N, the script sends N such statements in one libpq pipeline
(\\startpipeline ... \\endpipeline): PostgreSQL's rate when a client does not wait for each
answer. pgbench 15 can only sync at the end of a pipeline, so those N statements share one
transaction, where Lakehook syncs (commits) after each."""
import re
import sys

source, connection_id = sys.argv[1], sys.argv[2]
pipeline = int(sys.argv[3]) if len(sys.argv) > 3 else 0
text = open(source).read()
sql = re.search(r'static let sql = """\n(.*?)\n        """', text, re.S).group(1)
c = connection_id


def lit(text):
    """A string literal. pgbench reads `:name` as a variable even inside quotes, so colons are
    spelled chr(58)."""
    return "(" + " || chr(58) || ".join(f"'{part}'" for part in text.split(":")) + ")" if ":" in text else f"'{text}'"


key = "(:n)::text"
binds = {
    1: f"({lit(f'webhook:{c}:B-')} || {key})", 2: lit(f"webhook:{c}"), 3: lit("bench"), 4: lit(c),
    5: lit(f"webhook:{c}:BENCH"), 6: lit("BENCH"), 7: f"('B-' || {key})", 8: f"('benchmark issue ' || {key})",
    9: lit("TODO"), 10: lit("created"), 11: lit("2024-01-01 12:00:00+00"), 12: "''", 13: "''", 14: "''",
    15: lit("BUG"), 16: lit("BUG"), 17: "''", 18: "''", 19: "''", 20: lit("3"), 21: "NULL", 22: "NULL",
    23: lit("0"), 24: "''", 25: lit(f"webhook:{c}:u1"), 26: lit("bench"), 27: lit(f"webhook:{c}:u2"), 28: lit("bench"),
    29: lit("0"), 30: lit("0"), 31: lit("0"), 32: lit("false"),
}
assert max(int(n) for n in re.findall(r"\$(\d+)", sql)) == len(binds), "IssueUpsert's parameters changed"
statement = re.sub(r"\$(\d+)", lambda m: binds[int(m.group(1))], sql)
statement = " ".join(line.strip() for line in statement.splitlines())
if pipeline:
    print("\\startpipeline")
    for _ in range(pipeline):
        print("\\set n random(1, 1000000)")
        print(statement + ";")
    print("\\endpipeline")
else:
    print("\\set n random(1, 1000000)")
    print(statement + ";")
