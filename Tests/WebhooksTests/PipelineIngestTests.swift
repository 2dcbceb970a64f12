import Foundation
import HTTP
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// A Lakehook built like `TestServer` but with what these tests vary: the pipeline on or off,
/// the event loops (one by default, so every request meets the same pipeline), the database,
/// and an `application_name` of its own, so its backends can be found in `pg_stat_activity`.
/// The key cache lives a minute: a key that fell out of it would be looked up on the pool.
final class PipelineServer: Sendable {
    let service: WebhookService
    let server: HTTPServer
    let applicationName: String
    var port: Int { server.port }

    init(pipeline: Bool, eventLoops: Int = 1, poolSize: Int = 4, conninfo: String = TestDatabase.config().conninfo) throws {
        _ = LakehookDatabase.pool  // migrates the test database once
        applicationName = "lakehook-pipeline-test-\(UUID().uuidString.prefix(8).lowercased())"
        let config = PostgresConfig(conninfo: conninfo, applicationName: applicationName)
        service = WebhookService(
            pool: PostgresPool(config: config, size: poolSize), log: RequestLog(level: .error),
            cacheTTL: .seconds(60), pipeline: pipeline)
        server = HTTPServer(
            host: "127.0.0.1", port: 0, limits: ServerLimits(), eventLoops: eventLoops,
            asyncHandler: service.asyncHandler(), errorResponse: WebhookService.errorResponse)
        try server.start()
    }

    func stop() {
        server.shutdown(deadline: .seconds(2))
        service.pool.close()
    }

    func newConnection(_ label: String) throws -> (connection: DevLakeConnection, key: String) {
        let (connection, key) = try service.store.create(name: "\(label)-\(UUID().uuidString.prefix(13))")
        return (connection, key.plaintext)
    }

    /// One request on a fresh TCP connection.
    func request(_ method: String, _ path: String, body: String? = nil, key: String? = nil) throws -> Reply {
        let client = try TestClient(port: port, timeoutSeconds: 10)
        try client.send(Self.requestBytes(method, path, body: body, key: key))
        return try client.receive()
    }

    func post(_ path: String, _ body: String? = nil, key: String) throws -> Reply {
        try request("POST", path, body: body, key: key)
    }

    static func requestBytes(_ method: String, _ path: String, body: String? = nil, key: String? = nil) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let key { head += "Authorization: Bearer \(key)\r\n" }
        let bodyBytes = Array((body ?? "").utf8)
        if body != nil { head += "Content-Length: \(bodyBytes.count)\r\n" }
        return Array((head + "\r\n").utf8) + bodyBytes
    }

    /// `lakehook_db_writes_total{via=...}` as `GET /metrics` shows it.
    func writes() throws -> (pipeline: Int, pool: Int) {
        let text = try request("GET", "/metrics").text
        return (
            Int(RequestObservabilityTests.sample(text, #"lakehook_db_writes_total{via="pipeline"}"#)),
            Int(RequestObservabilityTests.sample(text, #"lakehook_db_writes_total{via="pool"}"#)))
    }

    /// `lakehook_db_pool_fallbacks_total{reason=...}` as `GET /metrics` shows it.
    func fallbacks(_ reason: PipelineState.PoolReason) throws -> Int {
        let text = try request("GET", "/metrics").text
        return Int(RequestObservabilityTests.sample(text, "lakehook_db_pool_fallbacks_total{reason=\"\(reason.rawValue)\"}"))
    }

    /// Posts issues until one goes through the loop's pipeline: the first cached write finds it
    /// unconnected, falls back to the pool and has it connect in the background.
    func warmPipeline(base: String, key: String, deadline seconds: Double = 5) throws {
        let start = try writes().pipeline
        let end = Date().addingTimeInterval(seconds)
        var n = 0
        while try writes().pipeline == start {
            guard Date() < end else { throw TestFailure("the pipeline took no write within \(seconds) s") }
            let reply = try post("\(base)/issues", RoutesTests.issue("WARM-\(n)"), key: key)
            guard reply.status == 200 else { throw TestFailure("warm-up answered \(reply.status): \(reply.text)") }
            n += 1
            Thread.sleep(forTimeInterval: 0.01)
        }
    }
}

/// The backends of a server's own pool and pipelines, told apart: the pool has one connection
/// (size 1), found with `pg_backend_pid()` through it; every other backend with the server's
/// `application_name` is a pipelined connection.
private func backends(of server: PipelineServer) throws -> (pool: String, pipelined: [String]) {
    let pool = try #require(try server.service.pool.withConnection { db in
        try db.query("SELECT pg_backend_pid()::text").rows.first?[0]
    })
    let pipelined = try LakehookDatabase.rows(
        "SELECT pid::text FROM pg_stat_activity WHERE application_name = $1 AND pid::text <> $2 ORDER BY pid",
        [server.applicationName, pool]
    ).compactMap { $0[0] }
    return (pool, pipelined)
}

/// Replaces what differs between two connections or two moments (the connection id in row ids;
/// the close's resolution date and lead time, the finish's date and duration, all counted from
/// now) so answers can be compared.
private func normalized(_ reply: Reply, connection: DevLakeConnection) -> String {
    reply.text
        .replacingOccurrences(of: connection.scopeId, with: "webhook:ID")
        .replacing(/"resolutionDate":"[^"]*"/, with: #""resolutionDate":"<now>""#)
        .replacing(/"leadTimeMinutes":[0-9]+/, with: #""leadTimeMinutes":<n>"#)
        .replacing(/"finishedDate":"[^"]*"/, with: #""finishedDate":"<now>""#)
        .replacing(/"durationSec":[0-9.]+/, with: #""durationSec":<n>"#)
}

@Suite("Ingest through the event loop's database pipeline", .serialized)
struct PipelineIngestTests {
    static let task = #"{"pipeline_name":"P-1","name":"NAME","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-01T00:00:00Z","repo_id":"r","commit_sha":"015e3d3b480e417aede5a1293bd61de9b0fd051d"}"#
    static let pullRequest = #"{"pullRequestKey":7,"displayTitle":"t","createdDate":"2024-05-01T09:00:00Z","mergedDate":"2024-05-02T10:00:00Z","mergeCommitSha":"015e3d3b480e417aede5a1293bd61de9b0fd051d"}"#

    @Test("issues written through the pipeline are in the table when their 200 arrives")
    func writesThroughThePipelineAreVisible() throws {
        let own = try PipelineServer(pipeline: true)
        defer { own.stop() }
        let (connection, key) = try own.newConnection("pipeline-visible")
        let base = "/api/plugins/webhook/\(connection.id)"
        try own.warmPipeline(base: base, key: key)
        let before = try own.writes()
        for n in 0..<20 {
            let reply = try own.post("\(base)/issues", RoutesTests.issue("VIS-\(n)"), key: key)
            #expect(reply.status == 200, "\(reply.text)")
            // Read right after the answer, on another connection: the statement was committed.
            #expect(try LakehookDatabase.value(
                "SELECT title FROM issues WHERE id = $1", [connection.rowId("VIS-\(n)")]) == "t", "VIS-\(n)")
        }
        let after = try own.writes()
        #expect(after.pipeline - before.pipeline == 20)
        #expect(after.pool == before.pool)
    }

    /// The same sequence against two servers; each warmed so its connection's key is cached
    /// (only cached keys are counted in `lakehook_db_writes_total`).
    @Test("every single-statement route answers the same through the pipeline as through the pool")
    func pipelineAnswersLikeThePool() throws {
        func run(pipeline: Bool) throws -> (answers: [String], pipelined: Int, pooled: Int) {
            let own = try PipelineServer(pipeline: pipeline)
            defer { own.stop() }
            let (connection, key) = try own.newConnection("pipeline-same")
            let base = "/api/plugins/webhook/\(connection.id)"
            if pipeline {
                try own.warmPipeline(base: base, key: key)
            } else {
                #expect(try own.post("\(base)/issues", RoutesTests.issue("WARM"), key: key).status == 200)
            }
            let before = try own.writes()
            let sequence: [(path: String, body: String?)] = [
                ("/issues", RoutesTests.issue("EQ-1", extra: #","board_key":"B""#)),
                ("/issues", RoutesTests.issue("EQ-2", type: "INCIDENT", extra: #","assignee_id":"a1","assignee_name":"Ann""#)),
                ("/issue/EQ-1/close", nil),
                ("/issue/B/EQ-2/close", nil),
                ("/issue/NOPE/close", nil),
                ("/cicd_tasks", Self.task.replacingOccurrences(of: "NAME", with: "build")),
                ("/cicd_pipeline/P-1/finish", nil),
                ("/cicd_tasks", Self.task.replacingOccurrences(of: "NAME", with: "late")),
                ("/deployments", CurrentAPITests.deployment(commits: [(repo: "https://git/r", sha: "abc", result: nil)])),
                ("/pull_requests", Self.pullRequest),
            ]
            var answers: [String] = []
            for step in sequence {
                let reply = try own.post(base + step.path, step.body, key: key)
                answers.append("\(step.path) \(reply.status) \(normalized(reply, connection: connection))")
            }
            let after = try own.writes()
            return (answers, after.pipeline - before.pipeline, after.pool - before.pool)
        }
        let piped = try run(pipeline: true)
        let pooled = try run(pipeline: false)
        #expect(piped.answers == pooled.answers)
        let statuses = pooled.answers.map { $0.split(separator: " ")[1] }
        #expect(statuses == ["200", "200", "200", "200", "404", "200", "200", "403", "200", "200"])
        // Nine single statements; the finish is a transaction and takes the pool either way.
        #expect(piped.pipelined == 9 && piped.pooled == 1)
        #expect(pooled.pipelined == 0 && pooled.pooled == 10)
    }

    /// No valid payload fails in the database (every decoder checks the column widths, ranges and
    /// NULs the schema would refuse), so the failure comes from a CHECK constraint added to a
    /// database of the test's own: a real server error on a statement that passed decoding.
    @Test("a statement failing inside the pipeline fails only its own request")
    func failureStaysWithItsRequest() throws {
        let name = try TestDatabase.createDatabase("pipeline")
        defer { TestDatabase.dropDatabase(name) }
        let conninfo = TestDatabase.conninfo(database: name)
        let admin = try PostgresConnection(config: PostgresConfig(conninfo: conninfo))
        _ = try Migrator.migrate(admin)
        try admin.execute(script: "ALTER TABLE issues ADD CONSTRAINT refuses_poison CHECK (title IS DISTINCT FROM 'poison')")

        let own = try PipelineServer(pipeline: true, conninfo: conninfo)
        defer { own.stop() }
        let (connection, key) = try own.newConnection("pipeline-failure")
        let base = "/api/plugins/webhook/\(connection.id)"
        try own.warmPipeline(base: base, key: key)
        let before = try own.writes()

        // All sent before any is read, so the loop takes them in the same turns and sends
        // their statements together.
        let keys = (0..<25).map { $0 % 5 == 2 ? "BAD-\($0)" : "OK-\($0)" }
        let clients = try keys.map { _ in try TestClient(port: own.port, timeoutSeconds: 10) }
        for (issueKey, client) in zip(keys, clients) {
            let body = RoutesTests.issue(issueKey).replacingOccurrences(
                of: #""title":"t""#, with: issueKey.hasPrefix("BAD") ? #""title":"poison""# : #""title":"t""#)
            try client.send(PipelineServer.requestBytes("POST", "\(base)/issues", body: body, key: key))
        }
        let statuses = try clients.map { try $0.receive().status }
        for (issueKey, status) in zip(keys, statuses) {
            #expect(status == (issueKey.hasPrefix("BAD") ? 500 : 200), "\(issueKey)")
        }
        #expect(try own.writes().pipeline - before.pipeline == 25)
        let stored = Set(try admin.query(
            "SELECT issue_key FROM issues WHERE _raw_data_params = $1 AND issue_key NOT LIKE 'WARM-%'",
            [connection.rawDataParams]).rows.compactMap { $0[0] })
        #expect(stored == Set(keys.filter { $0.hasPrefix("OK") }))

        // The pipeline carries on.
        #expect(try own.post("\(base)/issues", RoutesTests.issue("AFTER"), key: key).status == 200)
        #expect(try own.writes().pipeline - before.pipeline == 26)
    }

    @Test("a broken pipelined connection answers 200 or 503, never loses a 200, and is replaced")
    func brokenPipelineRecovers() throws {
        let own = try PipelineServer(pipeline: true, poolSize: 1)
        defer { own.stop() }
        let (connection, key) = try own.newConnection("pipeline-break")
        let base = "/api/plugins/webhook/\(connection.id)"
        try own.warmPipeline(base: base, key: key)
        let (poolBackend, pipelined) = try backends(of: own)
        try #require(pipelined.count == 1, "pipelined backends: \(pipelined)")

        let stop = Shared(false)
        let outcomes = Shared<[(key: String, status: Int?, error: String?)]>([])
        let posting = DispatchGroup()
        posting.enter()
        Thread {
            defer { posting.leave() }
            var n = 0
            while !stop.withLock({ $0 }) {
                let issueKey = "BRK-\(n)"
                n += 1
                do {
                    let reply = try own.post("\(base)/issues", RoutesTests.issue(issueKey), key: key)
                    outcomes.withLock { $0.append((issueKey, reply.status, nil)) }
                } catch {
                    outcomes.withLock { $0.append((issueKey, nil, "\(error)")) }
                }
            }
        }.start()
        defer {
            stop.withLock { $0 = true }
            posting.wait()
        }

        // Posting is under way (answers come back) before the pipeline's backend is killed.
        try? waitUntil(interval: 0.01) { outcomes.withLock { $0.count } >= 3 }
        let killed = try LakehookDatabase.value("SELECT pg_terminate_backend($1::int, 5000)::text", [pipelined[0]])
        #expect(killed == "true")
        let atKill = try own.writes().pipeline
        // Back through the pipeline (it waits 1 s before reconnecting); a generous ceiling.
        try? waitUntil(interval: 0.05) { try own.writes().pipeline >= atKill + 5 }
        stop.withLock { $0 = true }
        posting.wait()
        #expect(try own.writes().pipeline >= atKill + 5, "no pipelined writes after the kill")

        let seen = outcomes.withLock { $0 }
        #expect(seen.count > 10)
        #expect(seen.filter { $0.error != nil }.map { "\($0.key): \($0.error!)" } == [])
        #expect(seen.filter { $0.status != nil && $0.status != 200 && $0.status != 503 }.map { "\($0.key): \($0.status!)" } == [])
        let answered200 = seen.filter { $0.status == 200 }.map(\.key)
        let stored = Set(try LakehookDatabase.rows(
            "SELECT issue_key FROM issues WHERE _raw_data_params = $1 AND issue_key LIKE 'BRK-%'",
            [connection.rawDataParams]).compactMap { $0[0] })
        #expect(Set(answered200).subtracting(stored) == [], "answered 200 but not stored")

        // A new pipelined connection took over; the pool's was left alone.
        let now = try backends(of: own)
        #expect(now.pool == poolBackend)
        #expect(now.pipelined.count == 1 && now.pipelined != pipelined, "\(now.pipelined)")
        let before = try own.writes()
        for n in 0..<5 {
            #expect(try own.post("\(base)/issues", RoutesTests.issue("AFTER-\(n)"), key: key).status == 200)
        }
        let after = try own.writes()
        #expect(after.pipeline - before.pipeline == 5 && after.pool == before.pool)
    }

    @Test("a statement waiting on a lock leaves the pipeline after its lock timeout, finishes on the pool, and holds no one up")
    func lockWaitMovesToThePool() throws {
        let own = try PipelineServer(pipeline: true)
        defer { own.stop() }
        let (connection, key) = try own.newConnection("pipeline-lock")
        let base = "/api/plugins/webhook/\(connection.id)"
        try own.warmPipeline(base: base, key: key)
        #expect(try own.post("\(base)/issues", RoutesTests.issue("LOCKED"), key: key).status == 200)
        let before = try own.writes()
        let lockFallbacks = try own.fallbacks(.lockTimeout)

        // Someone's open transaction holds the issue's row.
        let holder = try PostgresConnection(config: TestDatabase.config())
        try holder.execute(script: "BEGIN")
        try holder.query("SELECT 1 FROM issues WHERE id = $1 FOR UPDATE", [connection.rowId("LOCKED")])

        let locked = Shared<Reply?>(nil)
        let waiter = Thread {
            let reply = try? own.post("\(base)/issues", RoutesTests.issue("LOCKED").replacingOccurrences(
                of: #""title":"t""#, with: #""title":"second""#), key: key)
            locked.withLock { $0 = reply }
        }
        waiter.start()
        // Its statement is in the pipeline, waiting on the row lock.
        let waiting = (try? waitUntil {
            try LakehookDatabase.value(
                "SELECT count(*)::text FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                [own.applicationName]) != "0"
        }) != nil
        #expect(waiting, "the second write never waited on the lock")
        // Behind it in the pipeline, another issue is answered while the lock is still held.
        #expect(try own.post("\(base)/issues", RoutesTests.issue("FREE"), key: key).status == 200)
        // The locked statement left the pipeline after its lock timeout and waits on the pool.
        try? waitUntil { try own.fallbacks(.lockTimeout) != lockFallbacks }
        #expect(try own.fallbacks(.lockTimeout) - lockFallbacks == 1)
        #expect(locked.withLock { $0 } == nil)  // still waiting, now on the pool

        try holder.execute(script: "COMMIT")
        try? waitUntil { locked.withLock { $0 } != nil }
        #expect(locked.withLock { $0 }?.status == 200)
        #expect(try LakehookDatabase.rows("SELECT title FROM issues WHERE id = $1", [connection.rowId("LOCKED")])
            .first?[0] == "second")
        let after = try own.writes()
        #expect(after.pipeline - before.pipeline == 2)  // the locked one and FREE
        #expect(after.pool - before.pool == 1)  // the locked one, again
        #expect(try own.fallbacks(.lockTimeout) - lockFallbacks == 1)
    }

    @Test("LAKEHOOK_DB_PIPELINE: on when unset, off when off, a named problem when neither")
    func configuration() throws {
        #expect(try Configuration.fromEnvironment([:]).databasePipeline == true)
        #expect(try Configuration.fromEnvironment(["LAKEHOOK_DB_PIPELINE": "off"]).databasePipeline == false)
        #expect(try Configuration.fromEnvironment(["LAKEHOOK_DB_PIPELINE": "on"]).databasePipeline == true)
        let error = #expect(throws: ConfigurationError.self) {
            try Configuration.fromEnvironment(["LAKEHOOK_DB_PIPELINE": "bogus"])
        }
        #expect(error?.description.contains("LAKEHOOK_DB_PIPELINE") == true)
        #expect(error?.problems.count == 1)
    }

    @Test("LAKEHOOK_EVENT_LOOPS: half the cores by default (at least one), a whole number from 1 otherwise")
    func eventLoops() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        #expect(try Configuration.fromEnvironment([:]).eventLoops == max(1, cores / 2))
        #expect(try Configuration.fromEnvironment(["LAKEHOOK_EVENT_LOOPS": "3"]).eventLoops == 3)
        for bad in ["0", "two", "-1"] {
            let error = #expect(throws: ConfigurationError.self) {
                try Configuration.fromEnvironment(["LAKEHOOK_EVENT_LOOPS": bad])
            }
            #expect(error?.description.contains("LAKEHOOK_EVENT_LOOPS") == true)
        }
    }
}
