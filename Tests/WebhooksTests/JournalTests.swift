import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// Issue 16: every ingest request that passed authentication is kept in `webhook_events`; an
/// accepted one by the statement that writes its rows (so exactly when they are committed), a
/// refused one on its own; an unauthenticated one not at all.
@Suite("Event journal")
struct JournalTests {
    let server = TestServer.shared

    static let deployment = #"{"id":"d1","startedDate":"2026-01-01T10:00:00Z","finishedDate":"2026-01-01T10:05:00Z","deploymentCommits":[{"repoUrl":"https://example.com/shop","commitSha":"abc"}]}"#

    /// The journal rows of a connection, oldest first.
    static func events(_ connection: DevLakeConnection) throws -> [PostgresRow] {
        try LakehookDatabase.rows("""
            SELECT route, params::text, request_id, client_address, user_agent, content_type, body::text, body_text,
                status, message, causes::text, duration_us, idempotency_key, outcome, received_at
            FROM webhook_events WHERE connection_id = $1 ORDER BY received_at, id
            """, [String(connection.id)])
    }

    @Test("an accepted request is journaled once, with what the client sent and the answer's request id")
    func acceptedRequest() throws {
        let (connection, key) = try server.newConnection("journal-accepted")
        let before = Date()
        let reply = try server.request(
            "POST", "/api/rest/plugins/webhook/connections/\(connection.id)/deployments", body: Self.deployment, key: key,
            headers: [("User-Agent", "circleci-orb/1.2"), ("Content-Type", "application/json")])
        #expect(reply.status == 200, "\(reply.text)")
        let events = try Self.events(connection)
        try #require(events.count == 1)
        let event = events[0]
        #expect(event["route"] == "deployments")
        #expect(event["params"] == "{}")
        #expect(event["request_id"] == reply.header("X-Request-ID"))
        #expect(event["client_address"] == "127.0.0.1")
        #expect(event["user_agent"] == "circleci-orb/1.2")
        #expect(event["content_type"] == "application/json")
        #expect(event["status"] == "200")
        #expect(event["outcome"] == "applied")
        #expect(event["body_text"] == nil)
        let stored = try JSONParser.parse(Array((event["body"] ?? "").utf8))
        #expect(stored == (try JSONParser.parse(Array(Self.deployment.utf8))))
        #expect(Int(event["duration_us"] ?? "-1")! >= 0)
        let received = try LakehookDatabase.value("SELECT extract(epoch FROM $1::timestamptz)", [event["received_at"]])
        #expect(abs(Double(received!)! - before.timeIntervalSince1970) < 5)
    }

    @Test("a route with path parameters keeps them; a finish (several statements, on the pool) is journaled in its transaction")
    func pathParametersAndFinish() throws {
        let (connection, key) = try server.newConnection("journal-finish")
        let task = #"{"pipeline_name":"build 7","name":"unit","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2026-01-01T10:00:00Z","finished_date":"2026-01-01T10:01:00Z","repo_id":"shop"}"#
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/cicd_tasks", task, key: key).status == 200)
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/cicd_pipeline/build%207/finish", key: key).status == 200)
        let events = try Self.events(connection)
        #expect(events.map { $0["route"] } == ["cicd_tasks", "cicd_pipeline/:pipelineName/finish"])
        #expect(events.last?["params"] == #"{"pipelineName": "build 7"}"#)
        #expect(events.last?["body"] == nil && events.last?["body_text"] == nil)
        #expect(events.map { $0["outcome"] } == ["applied", "applied"])
    }

    @Test("a refusal after authentication is journaled with its status, message and causes; an unauthenticated request is not")
    func refusals() throws {
        let (connection, key) = try server.newConnection("journal-refused")
        let invalid = #"{"id":"d1","startedDate":"yesterday"}"#
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/deployments", invalid, key: key)
        #expect(reply.status == 400)
        let malformed = try server.post("/api/plugins/webhook/\(connection.id)/issues", "{not json", key: key)
        #expect(malformed.status == 400)
        let unknownIssue = try server.post("/api/plugins/webhook/\(connection.id)/issue/NOPE-1/close", key: key)
        #expect(unknownIssue.status == 404)
        let counted = { () -> Int in
            let text = self.server.service.metrics.render(pool: self.server.service.pool.statistics)
            let line = text.split(separator: "\n").first { $0.hasPrefix("lakehook_ingest_unauthenticated_total ") }
            return Int(line?.split(separator: " ").last ?? "") ?? -1
        }
        let unauthenticatedBefore = counted()
        let unauthenticated = try server.post("/api/plugins/webhook/\(connection.id)/deployments", Self.deployment, key: "wrong")
        #expect(unauthenticated.status == 403)
        let noKey = try server.post("/api/plugins/webhook/\(connection.id)/deployments", Self.deployment, key: nil)
        #expect(noKey.status == 401)
        #expect(counted() - unauthenticatedBefore >= 2, "unauthenticated requests are counted")
        let events = try Self.events(connection)
        try #require(events.count == 3, "\(events.map { $0["route"] })")
        #expect(events.map { $0["outcome"] } == ["refused", "refused", "refused"])
        #expect(events.map { $0["status"] } == ["400", "400", "404"])
        let causes = try JSONParser.parse(Array((events[0]["causes"] ?? "").utf8))
        guard case .array(let items) = causes else { Issue.record("causes: \(causes)"); return }
        #expect(items.map { if case .string(let s) = $0 { s } else { "" } } == reply.causes)
        #expect(events[0]["message"] == reply.json?["message"].flatMap { if case .string(let s) = $0 { s } else { nil } })
        #expect(events[1]["body"] == nil && events[1]["body_text"] == "{not json")
        #expect(events[2]["params"] == #"{"issueKey": "NOPE-1"}"#)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_deployments WHERE id = $1", [connection.rowId("d1")]) == 0)
    }

    @Test("a task refused by its statement (the pipeline is finished: 403) leaves one refused row and no applied one")
    func statementRefusal() throws {
        let (connection, key) = try server.newConnection("journal-403")
        let task = #"{"pipeline_name":"p","name":"a","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2026-01-01T10:00:00Z","repo_id":"shop"}"#
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/cicd_tasks", task, key: key).status == 200)
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/cicd_pipeline/p/finish", key: key).status == 200)
        let late = try server.post("/api/plugins/webhook/\(connection.id)/cicd_tasks", task.replacingOccurrences(of: "\"a\"", with: "\"b\""), key: key)
        #expect(late.status == 403)
        let events = try Self.events(connection)
        #expect(events.map { "\($0["status"]!) \($0["outcome"]!)" } == ["200 applied", "200 applied", "403 refused"])
    }

    @Test("a statement that waited past the pipeline's lock timeout and ran again on the pool is journaled once")
    func lockTimeoutFallbackJournalsOnce() throws {
        let (connection, key) = try server.newConnection("journal-lock")
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/deployments", Self.deployment, key: key).status == 200)
        let locked = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        Thread {
            try? LakehookDatabase.pool.transaction { db in
                _ = try db.query("SELECT 1 FROM cicd_deployments WHERE id = $1 FOR UPDATE", [connection.rowId("d1")])
                locked.signal()
                _ = release.wait(timeout: .now() + 10)
            }
        }.start()
        locked.wait()
        Thread { usleep(600_000); release.signal() }.start()  // past the pipeline's 250 ms lock timeout
        let started = Date()
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/deployments", Self.deployment, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(Date().timeIntervalSince(started) > 0.4, "the request did not wait for the lock")
        try waitUntil(timeout: 10) { try Self.events(connection).count == 2 }
        let events = try Self.events(connection)
        #expect(events.map { $0["outcome"] } == ["applied", "applied"])
    }

    @Test("a body PostgreSQL's jsonb refuses (\\u0000, a lone surrogate) is kept as text, and the request still succeeds")
    func bodiesJsonbRefuses() throws {
        let (connection, key) = try server.newConnection("journal-text")
        let withNul = #"{"id":"d2","name":"a\u0000b","startedDate":"2026-01-01T10:00:00Z","finishedDate":"2026-01-01T10:05:00Z","deploymentCommits":[{"repoUrl":"https://example.com/shop","commitSha":"abc"}]}"#
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/deployments", withNul, key: key)
        let events = try Self.events(connection)
        try #require(events.count == 1)
        #expect(events[0]["body"] == nil)
        #expect(events[0]["body_text"] == withNul)
        #expect(events[0]["status"] == String(reply.status))
    }

    @Test("jsonbTakes: what PostgreSQL's jsonb input refuses is found, strings are not mistaken for numbers")
    func jsonbTakes() {
        func takes(_ text: String) -> Bool { JournalBody.jsonbTakes(Array(text.utf8)) }
        #expect(takes(#"{"sha":"4d3e12345abc","n":1e300,"t":true}"#))
        #expect(takes(#"{"s":"\\u0000 is text here"}"#))
        #expect(!takes(#"{"s":"a\u0000b"}"#))
        #expect(!takes(#"{"s":"\uD800"}"#))
        #expect(!takes(#"{"s":"\udfff"}"#))
        #expect(!takes(#"{"n":1e100000}"#))
        #expect(!takes(#"{"n":1E-99999}"#))
        #expect(takes(#"{"n":1e0009999}"#))
        #expect(JournalBody(Array(#"{"a":1}"#.utf8)).json == #"{"a":1}"#)
        #expect(JournalBody(Array("not json \0".utf8)).text == "not json \u{FFFD}")
        #expect(JournalBody([]).json == nil && JournalBody([]).text == nil)
    }

    @Test("LAKEHOOK_JOURNAL=off journals nothing, and writes as before")
    func journalOff() throws {
        let quiet = try TestServer(journal: false)
        defer { quiet.stop() }
        let (connection, key) = try quiet.newConnection("journal-off")
        #expect(try quiet.post("/api/plugins/webhook/\(connection.id)/deployments", Self.deployment, key: key).status == 200)
        #expect(try quiet.post("/api/plugins/webhook/\(connection.id)/deployments", "{}", key: key).status == 400)
        #expect(try Self.events(connection).isEmpty)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_deployments WHERE id = $1", [connection.rowId("d1")]) == 1)
    }

    @Test("LAKEHOOK_JOURNAL and LAKEHOOK_JOURNAL_DAYS: on and 30 by default; off, a number of days, a named problem otherwise")
    func configuration() throws {
        let defaults = try Configuration.fromEnvironment([:])
        #expect(defaults.journal && defaults.journalDays == 30)
        let set = try Configuration.fromEnvironment(["LAKEHOOK_JOURNAL": "off", "LAKEHOOK_JOURNAL_DAYS": "0"])
        #expect(!set.journal && set.journalDays == 0)
        for (name, value) in [("LAKEHOOK_JOURNAL", "sometimes"), ("LAKEHOOK_JOURNAL_DAYS", "-1"), ("LAKEHOOK_JOURNAL_DAYS", "week")] {
            let error = #expect(throws: ConfigurationError.self) { try Configuration.fromEnvironment([name: value]) }
            #expect(error?.description.contains(name) == true)
        }
    }

    @Test("?dryRun=true answers what would be written, and writes and journals nothing")
    func dryRun() throws {
        let (connection, key) = try server.newConnection("journal-dry")
        let before = try LakehookDatabase.footprint(of: connection)
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/deployments?dryRun=true", Self.deployment, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.data?["dryRun"] == .bool(true))
        guard case .object(let would)? = reply.data?["wouldWrite"] else { Issue.record("\(reply.text)"); return }
        #expect(would["id"] == .string(connection.rowId("d1")))
        guard case .object(let rows)? = reply.data?["rows"] else { Issue.record("\(reply.text)"); return }
        #expect(rows["cicd_deployments"] == .number("1") && rows["cicd_deployment_commits"] == .number("1"))
        #expect(try LakehookDatabase.footprint(of: connection) == before)
        #expect(try Self.events(connection).isEmpty)
        // The answer is one the OpenAPI document describes.
        let script = """
            import json, sys
            from jsonschema import Draft202012Validator
            document = json.load(open(sys.argv[1]))
            pointer = "#/components/responses/UpsertDeploymentDone/content/application~1json/schema"
            print(json.dumps([e.message for e in Draft202012Validator({**document, "$ref": pointer}).iter_errors(json.load(sys.stdin))]))
            """
        let run = try PythonTools.run(PythonTools.tool("python"), ["-c", script, PythonTools.document.path], input: reply.text, timeout: 60)
        #expect(run.output.split(separator: "\n").last.map(String.init) == "[]", "\(run.output)")
        // A dry run refuses what the write would refuse.
        let refused = try server.post("/api/plugins/webhook/\(connection.id)/deployments?dryRun=true", "{}", key: key)
        #expect(refused.status == 400)
        #expect(try Self.events(connection).isEmpty)
    }

    @Test("maintenance creates the coming days' partitions and drops whole days older than the retention")
    func retention() throws {
        let old = try #require(try LakehookDatabase.value("SELECT to_char((now() AT TIME ZONE 'UTC')::date - 40, 'YYYYMMDD')"))
        let table = "webhook_events_\(old)"
        try LakehookDatabase.pool.withConnection { db in
            _ = try db.query("DROP TABLE IF EXISTS \(table)", [])
            _ = try db.query("""
                CREATE TABLE \(table) PARTITION OF webhook_events FOR VALUES
                FROM (((now() AT TIME ZONE 'UTC')::date - 40)::timestamp AT TIME ZONE 'UTC')
                TO (((now() AT TIME ZONE 'UTC')::date - 39)::timestamp AT TIME ZONE 'UTC')
                """, [])
            _ = try db.query("""
                INSERT INTO webhook_events (received_at, connection_id, route, status, outcome)
                VALUES (((now() AT TIME ZONE 'UTC')::date - 40)::timestamp AT TIME ZONE 'UTC' + interval '1 hour', -1, 'deployments', 200, 'applied')
                """, [])
        }
        #expect(try LakehookDatabase.value("SELECT lakehook_journal_maintain(0)") == "0")
        #expect(try LakehookDatabase.value("SELECT to_regclass($1)::text", [table]) == table)
        let dropped = try #require(Int(try LakehookDatabase.value("SELECT lakehook_journal_maintain(30)") ?? ""))
        #expect(dropped >= 1)
        #expect(try LakehookDatabase.value("SELECT to_regclass($1)::text", [table]) == nil)
        for offset in 0...3 {
            let day = try #require(try LakehookDatabase.value("SELECT to_char((now() AT TIME ZONE 'UTC')::date + $1::int, 'YYYYMMDD')", [String(offset)]))
            #expect(try LakehookDatabase.value("SELECT to_regclass($1)::text", ["webhook_events_\(day)"]) != nil, "day +\(offset)")
        }
        // A row that arrives now lands in today's partition, not the default one.
        let partition = try LakehookDatabase.value("""
            WITH row AS (
                INSERT INTO webhook_events (received_at, connection_id, route, status, outcome)
                VALUES (now(), -1, 'deployments', 200, 'applied') RETURNING tableoid
            ) SELECT tableoid::regclass::text FROM row
            """)
        let today = try LakehookDatabase.value("SELECT to_char((now() AT TIME ZONE 'UTC')::date, 'YYYYMMDD')")
        #expect(partition == "webhook_events_\(today ?? "")")
    }
}
