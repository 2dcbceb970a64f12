#!/usr/bin/env python3
"""Writes the pgbench script for the issues baseline: the very statement Lakehook sends for an
issues upsert (read from Sources/Webhooks/Ingest/IssueUpsert.swift), with the values of the
benchmark's body. The issue key varies over the same key space as bench/issues.lua."""
import re
import sys

source, connection_id = sys.argv[1], sys.argv[2]
text = open(source).read()
sql = re.search(r'static let sql = """\n(.*?)\n        """', text, re.S).group(1)
c = connection_id
binds = {
    1: f"('webhook:{c}:B-' || :n)", 2: f"'webhook:{c}'", 3: "'bench'", 4: f"'{c}'",
    5: f"'webhook:{c}:BENCH'", 6: "'BENCH'", 7: "('B-' || :n)", 8: "('benchmark issue ' || :n)",
    9: "'TODO'", 10: "'created'", 11: "'2024-01-01 12:00:00+00'", 12: "''", 13: "''", 14: "''",
    15: "'BUG'", 16: "'BUG'", 17: "''", 18: "''", 19: "''", 20: "'3'", 21: "NULL", 22: "NULL",
    23: "'0'", 24: "''", 25: f"'webhook:{c}:u1'", 26: "'bench'", 27: f"'webhook:{c}:u2'", 28: "'bench'",
    29: "'0'", 30: "'0'", 31: "'0'", 32: "'false'",
}
assert max(int(n) for n in re.findall(r"\$(\d+)", sql)) == len(binds), "IssueUpsert's parameters changed"
statement = re.sub(r"\$(\d+)", lambda m: binds[int(m.group(1))], sql)
statement = " ".join(line.strip() for line in statement.splitlines())
print("\\set n random(1, 1000000)")
print(statement + ";")
