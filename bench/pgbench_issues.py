#!/usr/bin/env python3
"""The pgbench side of the issues baseline: the very statement Lakehook sends for the benchmark's
issues upsert (`IssueUpsert.issueSQL`, an issue that is not an incident, read from
Sources/Webhooks/Ingest/IssueUpsert.swift with its `\\(Self.name)` fragments put in), with the
parameters Lakehook binds for the benchmark's body. The issue key varies over the same key space
as bench/issues.lua.

With the journal on (Lakehook's default, LAKEHOOK_JOURNAL), Lakehook sends that statement with
the journal's insert around it (`IngestStatement.journaled`, whose text `compose` makes, read from
Sources/Webhooks/Journal/IngestStatement.swift, with JournalEntry.columns): so does pgbench, the
body as the jsonb of the request bench/issues.lua sends. LAKEHOOK_JOURNAL=off leaves it out.

    pgbench_issues.py SOURCE CONNECTION_ID [N]   the pgbench script, on standard output
    pgbench_issues.py --defines CONNECTION_ID     its -D arguments, one per line

With `-M prepared`, pgbench sends each :variable as a text parameter of the prepared statement,
as Lakehook does with its 31 parameters. Two kinds of value cannot be pgbench variables and stay
literals in the statement: the empty strings (-D refuses an empty value) and the NULLs.

With N, the script sends N such statements in one libpq pipeline (\\startpipeline ...
\\endpipeline): PostgreSQL's rate when a client does not wait for each answer. pgbench 15 can
only sync at the end of a pipeline, so those N statements share one transaction, where Lakehook
syncs (commits) after each."""
import os
import re
import sys


def parameters(c):
    """$n → what pgbench puts there: a variable (its value in `defines`), or a literal."""
    key = ":n::text"  # random(1, 1000000), set per statement
    return {
        1: f"(:p1 || {key})", 2: ":p2", 3: ":p3", 4: ":p4", 5: ":p5", 6: ":p6",
        7: f"('B-' || {key})", 8: f"('benchmark issue ' || {key})",
        9: ":p9", 10: ":p10", 11: ":p11", 12: "''", 13: "''", 14: "''",
        15: ":p15", 16: ":p16", 17: "''", 18: "''", 19: "''", 20: ":p20", 21: "NULL", 22: "NULL",
        23: ":p23", 24: "''", 25: ":p25", 26: ":p26", 27: ":p27", 28: ":p28",
        29: ":p29", 30: ":p30", 31: ":p31", 32: "now()",  # the request's arrival
    }


def defines(c):
    """The variables' values, as IssueUpsert.binds writes them for bench/issues.lua's body."""
    return {
        "p1": f"webhook:{c}:B-", "p2": f"webhook:{c}", "p3": "bench", "p4": c,
        "p5": f"webhook:{c}:BENCH", "p6": "BENCH", "p9": "TODO", "p10": "created",
        "p11": "2024-01-01 12:00:00+00", "p15": "BUG", "p16": "BUG", "p20": "3.0", "p23": "0",
        "p25": f"webhook:{c}:u1", "p26": "bench", "p27": f"webhook:{c}:u2", "p28": "bench",
        "p29": "0", "p30": "0", "p31": "0",
    }


if sys.argv[1] == "--defines":
    for name, value in defines(sys.argv[2]).items():
        print(f"-D{name}={value}")
    sys.exit(0)

source, connection_id = sys.argv[1], sys.argv[2]
pipeline = int(sys.argv[3]) if len(sys.argv) > 3 else 0
text = open(source).read()


def literal(name):
    """A `static let NAME = \"\"\"...\"\"\"` of the source, its `\\(Self.other)` and
    `\\(SQLText.iso8601("column"))` fragments put in."""
    body = re.search(r'static let %s = """\n(.*?)\n        """' % name, text, re.S).group(1)
    # SQLText.iso8601 renders a column with to_char(... 'HH24:MI:SS' ...), whose `:MI` pgbench
    # would take for a variable: the column (a NULL unless the post is late) is cast to text here.
    body = re.sub(r'\\\(SQLText\.iso8601\("(\w+)"\)\)', lambda m: "%s::text AS %s" % (m.group(1), m.group(1)), body)
    return re.sub(r"\\\(Self\.(\w+)\)", lambda m: literal(m.group(1)).strip(), body)


sql = literal("issueSQL")
binds = parameters(connection_id)
assert max(int(n) for n in re.findall(r"\$(\d+)", sql)) == len(binds), "IssueUpsert's parameters changed"

# The body bench/issues.lua sends, as the jsonb the journal keeps.
BODY = ("""('{"board_key":"BENCH","issue_key":"B-' || :n::text || '","title":"benchmark issue ' || :n::text || '","type":"BUG","""
        """"status":"TODO","original_status":"created","story_point":3,"created_date":"2024-01-01T12:00:00+00:00","""
        """"lead_time_minutes":0,"creator_id":"u1","creator_name":"bench","assignee_id":"u2","assignee_name":"bench"}')::jsonb""")


def journaled(sql, first):
    """IngestStatement.journaled(parameterCount:) around `sql`, its journal parameters from `first`."""
    source = open(os.path.join(os.path.dirname(source_path), "..", "Journal", "IngestStatement.swift")).read()
    entry = open(os.path.join(os.path.dirname(source_path), "..", "Journal", "JournalEntry.swift")).read()
    template = re.search(r'func compose\(parameterCount: Int\) -> String \{\n        """\n(.*?)\n        """', source, re.S).group(1)
    columns = re.search(r'static let columns = """\n(.*?)\n        """', entry, re.S).group(1)
    values = ["now()", connection_id, "'issues'", "'{}'", "('bench-' || :n::text)", "'127.0.0.1'", "''",
              "'application/json'", BODY, "NULL", "NULL", "0"]
    assert len(values) == int(re.search(r"static let columnCount = (\d+)", entry).group(1)), "JournalEntry's columns changed"
    text = template.replace("\\(ctes.map { $0 + \",\" } ?? \"\")", "").replace("\\(body)", sql)
    text = text.replace("\\(JournalEntry.columns)", " ".join(columns.split()))
    text = text.replace("\\(JournalEntry.placeholders(from: parameterCount + 1))", ", ".join(values))
    stale = re.search(r'private static let stale = "(.*)"', open(source_path).read()).group(1)
    text = text.replace("\\(stale)", stale).replace("\\(accepted)", "true")
    assert "\\(" not in text, "IngestStatement.journaled changed: " + text
    return text


source_path = source
if os.environ.get("LAKEHOOK_JOURNAL", "on").lower() not in ("off", "false", "0", "no"):
    sql = journaled(sql, len(binds) + 1)
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
