import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// API.md §4: a task's id is `webhook:<conn>:<pipeline_name>:<name>`, and names may hold `:`,
/// so two tasks of different pipelines can arrive with one id. The second must not take the
/// first's row (it overwrote it and left it attached to the first pipeline) — 409, nothing written.
@Suite("Task ids shared by two pipelines")
struct TaskIdCollisionTests {
    let server = TestServer.shared

    static func task(pipeline: String, name: String, result: String = "SUCCESS") -> String {
        #"{"pipeline_name":"\#(pipeline)","name":"\#(name)","result":"\#(result)","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-01T00:00:00Z","repo_id":"r","commit_sha":"abc"}"#
    }

    static func decoded(_ body: String, for connection: DevLakeConnection) throws -> TaskUpsert {
        guard case .object(let object) = try JSONParser.parse(Array(body.utf8)) else { throw TestFailure("not an object") }
        return try TaskUpsert.decode(object, for: connection).get()
    }

    /// The first task's row as it must stay: its pipeline and its result.
    static func firstTask(_ connection: DevLakeConnection) throws -> String? {
        try LakehookDatabase.value(
            "SELECT pipeline_id || ' ' || result FROM cicd_tasks WHERE id = $1", [connection.rowId("a:b:c")])
    }

    @Test("a:b + c, then a + b:c: the second answered 200 and overwrote the first; now 409 naming pipeline a:b, nothing written")
    func secondTaskWithTheSameIdIsRefused() throws {
        let (connection, key) = try server.newConnection("task-id")
        let path = "/api/plugins/webhook/\(connection.id)/cicd_tasks"
        #expect(try server.post(path, Self.task(pipeline: "a:b", name: "c"), key: key).status == 200)
        let before = try LakehookDatabase.footprint(of: connection)

        // Twice: the first request of a key runs on the pool, later ones on the loop's pipeline.
        for _ in 0..<2 {
            let reply = try server.post(path, Self.task(pipeline: "a", name: "b:c", result: "FAILURE"), key: key)
            #expect(reply.status == 409, "\(reply.text)")
            #expect(reply.json?["code"] == .number("409") && reply.json?["success"] == .bool(false))
            guard case .string(let message)? = reply.json?["message"] else {
                Issue.record("no message: \(reply.text)")
                continue
            }
            #expect(message.contains(#"pipeline "a:b""#) && message.contains(#"task "c""#), "\(message)")
        }
        #expect(try LakehookDatabase.footprint(of: connection) == before)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_pipelines WHERE id = $1", [connection.rowId("a")]) == 0)
        #expect(try Self.firstTask(connection) == "\(connection.rowId("a:b")) SUCCESS")

        // Re-posting the first task itself still replaces it.
        #expect(try server.post(path, Self.task(pipeline: "a:b", name: "c", result: "FAILURE"), key: key).status == 200)
        #expect(try Self.firstTask(connection) == "\(connection.rowId("a:b")) FAILURE")
    }

    @Test("the collision is refused on a blocking connection too, and a finished pipeline's task still answers 403")
    func blockingWriteAndFinishedPipeline() throws {
        let (connection, key) = try server.newConnection("task-id-blocking")
        let first = try Self.decoded(Self.task(pipeline: "a:b", name: "c"), for: connection)
        let second = try Self.decoded(Self.task(pipeline: "a", name: "b:c"), for: connection)
        _ = try LakehookDatabase.pool.withConnection { db in try first.write(db, for: connection) }
        let refusal = #expect(throws: WebhookError.self) {
            try LakehookDatabase.pool.withConnection { db in try second.write(db, for: connection) }
        }
        #expect(refusal?.status == 409, "\(String(describing: refusal))")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_pipelines WHERE id = $1", [connection.rowId("a")]) == 0)

        let base = "/api/plugins/webhook/\(connection.id)"
        #expect(try server.post("\(base)/cicd_pipeline/a:b/finish", key: key).status == 200)
        #expect(try server.post("\(base)/cicd_tasks", Self.task(pipeline: "a:b", name: "d"), key: key).status == 403)
    }

    /// The first task (`a:b` + `c`) is written but not committed when the second (`a` + `b:c`,
    /// the same id) arrives, so the second's snapshot cannot see it: its insert waits on the
    /// first's and then meets the row. `write` runs the second on a pool connection; the
    /// outcome, after the first commits.
    static func race(
        _ connection: DevLakeConnection,
        write: @escaping @Sendable (PostgresPool, TaskUpsert) throws -> WriteResult
    ) throws -> Result<WriteResult, any Error>? {
        let first = try decoded(task(pipeline: "a:b", name: "c"), for: connection)
        let second = try decoded(task(pipeline: "a", name: "b:c", result: "FAILURE"), for: connection)
        let holder = try PostgresConnection(config: TestDatabase.config())
        try holder.execute(script: "BEGIN")
        _ = try holder.query(first.sql, first.binds(for: connection))
        let outcome = Shared<Result<WriteResult, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            let result = Result { try write(LakehookDatabase.pool, second) }
            outcome.withLock { $0 = result }
            done.signal()
        }.start()
        // The second statement is now waiting on the first's uncommitted task row.
        Thread.sleep(forTimeInterval: 0.5)
        #expect(outcome.withLock { $0 } == nil, "the second write did not wait for the first")
        try holder.execute(script: "COMMIT")
        #expect(done.wait(timeout: .now() + 10) == .success)
        return outcome.withLock { $0 }
    }

    @Test("the second task racing the first's commit neither takes its row nor leaves its own pipeline behind")
    func secondTaskRacingTheFirst() throws {
        let (connection, _) = try server.newConnection("task-id-race")
        let outcome = try Self.race(connection) { pool, second in
            try pool.withConnection { db in try second.write(db, for: connection) }
        }
        switch outcome {
        case .failure(let error as WebhookError):
            #expect(error.status == 409 && error.message.contains(#"pipeline "a:b""#), "\(error)")
        case let other:
            Issue.record("expected a 409, got \(String(describing: other))")
        }
        #expect(try Self.firstTask(connection) == "\(connection.rowId("a:b")) SUCCESS")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_pipelines WHERE id = $1", [connection.rowId("a")]) == 0)
    }
}

extension TaskIdCollisionTests {
    /// A keyed request, a dry run and an import batch write inside a transaction: the collision
    /// aborts the statement, and the rerun must not find the transaction aborted (25P02).
    @Test("the same race inside a transaction (a keyed request, a dry run) reruns from a savepoint and answers the 409")
    func secondTaskRacingTheFirstInsideATransaction() throws {
        let (connection, _) = try server.newConnection("task-id-race-tx")
        let outcome = try Self.race(connection) { pool, second in
            try pool.transaction { db in try second.write(db, for: connection) }
        }
        switch outcome {
        case .failure(let error as WebhookError):
            #expect(error.status == 409, "\(error)")
        case let other:
            Issue.record("expected a 409, got \(String(describing: other))")
        }
    }

    @Test("the OpenAPI document lists the 409 on every task route")
    func documented() throws {
        for (path, item) in try OpenAPIDocumentTests.paths() where path.hasSuffix("/cicd_tasks") {
            let responses = (item["post"] as? [String: Any])?["responses"] as? [String: Any]
            #expect(responses?["409"] != nil, "\(path)")
        }
    }
}
