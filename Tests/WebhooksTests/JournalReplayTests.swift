import Foundation
import Testing
@testable import Webhooks

/// Issue 16, "every request kept": `lakehook replay` writes the rows the requests wrote.
@Suite("lakehook replay")
struct JournalReplayTests {
    @Test("replay after purging the domain tables writes every row, every column, as the requests did; a second replay changes nothing")
    func replayReproducesEveryRow() throws {
        let database = try ScratchDatabase("replay")
        defer { database.drop() }
        _ = try JournalHistory.record(on: database)
        let snapshot = try DomainSnapshot.take(database)
        for table in ["boards", "board_issues", "issues", "incidents", "incident_assignees", "cicd_pipelines", "cicd_tasks",
                      "cicd_pipeline_commits", "cicd_deployments", "cicd_deployment_commits", "pull_requests"] {
            #expect(!(snapshot[table] ?? []).isEmpty, "the history writes \(table)")
        }
        let journal = try database.count("SELECT count(*) FROM webhook_events")
        let accepted = try database.count("SELECT count(*) FROM webhook_events WHERE outcome IN ('applied', 'stale')")

        try DomainSnapshot.purge(database)
        #expect(try database.count("SELECT count(*) FROM issues") + database.count("SELECT count(*) FROM cicd_deployment_commits") == 0)

        let first = try database.lakehook(["replay"])
        #expect(first.status == 0, "\(first.out)\(first.err)")
        #expect(first.out.hasPrefix("replay: \(accepted) events applied, 0 refused"), "\(first.out)")
        #expect(!first.err.contains("\r") && !first.err.contains("\u{1B}"), "no terminal: no bar redrawn in place")
        let afterFirst = DomainSnapshot.differences(expected: snapshot, actual: try DomainSnapshot.take(database))
        let replayedAsWritten = afterFirst.isEmpty
        #expect(replayedAsWritten, """
            replay wrote other rows than the requests; columns that differ: \(DomainSnapshot.columns(afterFirst).joined(separator: ", "))
            \(afterFirst.prefix(60).joined(separator: "\n"))
            """)
        #expect(try database.count("SELECT count(*) FROM webhook_events") == journal, "replay writes no journal rows")

        // Again, over the rows the first replay wrote: the finished pipeline refuses its tasks
        // (403, as it would the requests), and every row stays as it was.
        let second = try database.lakehook(["replay"])
        #expect(second.status == 0, "\(second.out)\(second.err)")
        #expect(second.out.contains("2 refused") && second.out.contains("403 pipeline \"P1\" is already finished"), "\(second.out)")
        let afterSecond = DomainSnapshot.differences(expected: snapshot, actual: try DomainSnapshot.take(database))
        let unchanged = afterSecond.isEmpty
        #expect(unchanged, """
            a second replay changed rows; columns that differ: \(DomainSnapshot.columns(afterSecond).joined(separator: ", "))
            \(afterSecond.prefix(60).joined(separator: "\n"))
            """)
        #expect(try database.count("SELECT count(*) FROM webhook_events") == journal)
    }

    @Test("replay --connection, --since and --until choose the events; a refused or duplicate event is never replayed")
    func replayChoosesEvents() throws {
        let database = try ScratchDatabase("replay_select")
        defer { database.drop() }
        let names = try JournalHistory.record(on: database)
        try DomainSnapshot.purge(database)

        let api = try database.lakehook(["replay", "--connection", names[1], "--dry-run"])
        #expect(api.status == 0, "\(api.err)")
        #expect(api.out.hasPrefix("replay --dry-run: 2 events would be applied, 0 refused"), "\(api.out)")
        let future = try database.lakehook(["replay", "--since", "2999-01-01T00:00:00Z"])
        #expect(future.out.hasPrefix("replay: 0 events applied, 0 refused"), "\(future.out)")
        let past = try database.lakehook(["replay", "--until", "1h"])
        #expect(past.out.hasPrefix("replay: 0 events applied, 0 refused"), "\(past.out)")
        let unknown = try database.lakehook(["replay", "--connection", "no-such-connection"])
        #expect(unknown.status == 1 && unknown.err.contains("no connection named \"no-such-connection\""), "\(unknown.err)")

        let recent = try database.lakehook(["replay", "--connection", "1", "--since", "1h"])
        #expect(recent.status == 0 && recent.out.hasPrefix("replay: 17 events applied, 0 refused"), "\(recent.out)\(recent.err)")
        // Pull request 2 once (its duplicate is not replayed); nothing of the refusals (no I-4, no D3).
        #expect(try database.count("SELECT count(*) FROM pull_requests") == 2)
        #expect(try database.count("SELECT count(*) FROM issues WHERE id LIKE 'webhook:1:%'") == 3)
        #expect(try database.count("SELECT count(*) FROM cicd_deployments WHERE id = 'webhook:1:D3'") == 0)
        #expect(try database.count("SELECT count(*) FROM issues WHERE id LIKE 'webhook:2:%'") == 0, "--connection 1 only")
    }

    @Test("replay --dry-run decodes every event and says what it would apply, and writes nothing")
    func replayDryRunWritesNothing() throws {
        let database = try ScratchDatabase("replay_dry")
        defer { database.drop() }
        _ = try JournalHistory.record(on: database)
        try DomainSnapshot.purge(database)
        let journal = try database.count("SELECT count(*) FROM webhook_events")
        let before = try DomainSnapshot.take(database)

        let dry = try database.lakehook(["replay", "--dry-run"])
        #expect(dry.status == 0, "\(dry.err)")
        #expect(dry.out.hasPrefix("replay --dry-run: 19 events would be applied, 0 refused; nothing was written"), "\(dry.out)")
        #expect(dry.out.contains("  deployments: 4\n") && dry.out.contains("  cicd_pipeline/:pipelineName/finish: 1\n"), "\(dry.out)")
        #expect(DomainSnapshot.differences(expected: before, actual: try DomainSnapshot.take(database)).isEmpty)
        #expect(try database.count("SELECT count(*) FROM issues") == 0)
        #expect(try database.count("SELECT count(*) FROM webhook_events") == journal)
    }
}

/// The journal is read a page at a time by keyset; each page must come from the primary key.
@Suite("Reading the journal")
struct JournalReaderTests {
    @Test("a page of the journal is read from the primary key, not by sorting the journal (ordering by the text column did)")
    func pagesUseThePrimaryKey() throws {
        let database = try ScratchDatabase("journal_pages")
        defer { database.drop() }
        try database.pool.withConnection { db in
            try db.execute(script: """
                INSERT INTO webhook_events (received_at, connection_id, route, body, status, outcome)
                SELECT now() - make_interval(secs => n), 1, 'deployments', '{"id": "x"}', 200, 'applied'
                FROM generate_series(1, 20000) AS n;
                ANALYZE webhook_events;
                """)
            let middle = try db.query("SELECT received_at::text, id FROM webhook_events ORDER BY received_at, id OFFSET 10000 LIMIT 1").rows[0]
            for _ in 0..<7 {  // past the custom plans of a prepared statement, to its generic one
                let plan = try db.query("EXPLAIN " + JournalReader.pageSQL, [nil, nil, nil, middle[0], middle[1], "1000"]).rows
                    .compactMap { $0[0] }.joined(separator: "\n")
                let readsTheKey = plan.contains("Index Scan using webhook_events_") && !plan.contains("Sort  (")
                #expect(readsTheKey, "\(plan)")
            }
            let reader = JournalReader()
            var pages = 0, events = 0
            var last = Timestamp(microsecondsSinceEpoch: .min)
            try reader.forEachPage(db) { page in
                pages += 1
                events += page.count
                #expect(page.allSatisfy { $0.receivedAt > last || $0.receivedAt == last })
                last = page.last?.receivedAt ?? last
                return true
            }
            let counted = try reader.count(db)
            #expect(pages == 20 && events == 20000 && counted == 20000)
        }
    }
}
