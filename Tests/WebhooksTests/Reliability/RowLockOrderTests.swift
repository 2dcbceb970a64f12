import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// Issue 13, finding 1, made deterministic: one writer holds a key's row (its upsert done, not
/// committed) while a second writer's statement for the same key starts and waits for the lock.
/// The second must then replace what the first committed. The old single statements deleted stale
/// children in the snapshot they took before waiting, so the first writer's children survived.
@Suite("A write that waited for a key's row lock replaces what the lock holder committed")
struct RowLockOrderTests {
    static func decode<T>(_ body: String, _ decode: (JSONObject) -> Result<T, WebhookError>) throws -> T {
        guard case .object(let object) = try JSONParser.parse(Array(body.utf8)) else { throw TestFailure("not an object") }
        return try decode(object).get()
    }

    /// Runs `first` in a transaction left open until `second`, on another connection, is waiting
    /// for a lock; then commits, and waits for `second`.
    static func race(
        first: @escaping (PostgresConnection) throws -> Void, second: @escaping @Sendable (PostgresConnection) throws -> Void
    ) throws {
        let holder = try PostgresConnection(config: TestDatabase.config())
        let waiter = try PostgresConnection(config: TestDatabase.config())
        let waiterPid = try #require(try waiter.query("SELECT pg_backend_pid()").rows.first?[0])
        let done = DispatchSemaphore(value: 0)
        let outcome = Shared<(any Error)?>(nil)
        try holder.transaction { db in
            try first(db)
            Thread {
                do { try second(waiter) } catch { outcome.withLock { $0 = error } }
                done.signal()
            }.start()
            try waitUntil(timeout: 10) {
                try LakehookDatabase.value("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", [waiterPid]) == "Lock"
            }
        }
        #expect(done.wait(timeout: .now() + 10) == .success, "the waiting writer did not finish")
        if let error = outcome.withLock({ $0 }) { throw error }
    }

    @Test("an incident linked to board b1, then a bug on board b2 that waited for it: one link to b2, no incident rows")
    func issueWaitingForTheLockReplacesTheChildren() throws {
        let (connection, _) = try DevLakeConnectionStore(pool: LakehookDatabase.pool).create(name: "lock-\(UUID().uuidString.prefix(13))")
        let incident = try Self.decode(#"{"issue_key":"Z1","title":"a","type":"INCIDENT","status":"TODO","original_status":"open","created_date":"2024-01-01T00:00:00Z","board_key":"b1","assignee_id":"u1"}"#) {
            IssueUpsert.decode($0, for: connection)
        }
        let bug = try Self.decode(#"{"issue_key":"Z1","title":"b","type":"BUG","status":"TODO","original_status":"open","created_date":"2024-01-01T00:00:00Z","board_key":"b2"}"#) {
            IssueUpsert.decode($0, for: connection)
        }
        // The issue exists before, so the first writer updates (and locks) an existing row.
        _ = try LakehookDatabase.pool.withConnection { db in try bug.write(db, for: connection) }

        try Self.race(first: { db in _ = try db.query(incident.sql, incident.binds(for: connection)) },
                      second: { db in _ = try bug.write(db, for: connection) })

        let id = connection.rowId("Z1")
        #expect(try LakehookDatabase.value("SELECT title || ' ' || type FROM issues WHERE id = $1", [id]) == "b BUG")
        let boards = try LakehookDatabase.rows("SELECT board_id FROM board_issues WHERE issue_id = $1 ORDER BY 1", [id]).compactMap { $0[0] }
        #expect(boards == [connection.scopeId, connection.rowId("b2")])
        #expect(try LakehookDatabase.count("SELECT count(*) FROM incidents WHERE id = $1", [id]) == 0)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM incident_assignees WHERE incident_id = $1", [id]) == 0)
    }

    @Test("a deployment with commit aaa, then one with commit bbb that waited for it: only bbb")
    func deploymentWaitingForTheLockReplacesTheCommits() throws {
        let (connection, _) = try DevLakeConnectionStore(pool: LakehookDatabase.pool).create(name: "lock-\(UUID().uuidString.prefix(13))")
        func deployment(_ sha: String) throws -> DeploymentUpsert {
            try Self.decode(#"{"id":"D1","startedDate":"2024-01-01T00:00:00Z","finishedDate":"2024-01-01T00:10:00Z","deploymentCommits":[{"repoUrl":"https://example.com/r","commitSha":"\#(sha)"}]}"#) {
                DeploymentUpsert.decode($0, for: connection)
            }
        }
        let first = try deployment("aaa"), second = try deployment("bbb")
        _ = try LakehookDatabase.pool.withConnection { db in try second.write(db, for: connection) }

        try Self.race(first: { db in _ = try db.query(DeploymentUpsert.sql, first.binds(for: connection)) },
                      second: { db in _ = try second.write(db, for: connection) })

        let shas = try LakehookDatabase.rows(
            "SELECT commit_sha FROM cicd_deployment_commits WHERE cicd_deployment_id = $1", [connection.rowId("D1")]).compactMap { $0[0] }
        #expect(shas == ["bbb"])
    }

    @Test("a close that waited for an upsert making the issue an incident closes the new incident row too")
    func closeWaitingForTheLockClosesTheNewIncident() throws {
        let (connection, _) = try DevLakeConnectionStore(pool: LakehookDatabase.pool).create(name: "lock-\(UUID().uuidString.prefix(13))")
        let bug = try Self.decode(#"{"issue_key":"Z1","title":"a","type":"BUG","status":"TODO","original_status":"open","created_date":"2024-01-01T00:00:00Z"}"#) {
            IssueUpsert.decode($0, for: connection)
        }
        let incident = try Self.decode(#"{"issue_key":"Z1","title":"a","type":"INCIDENT","status":"TODO","original_status":"open","created_date":"2024-01-01T00:00:00Z"}"#) {
            IssueUpsert.decode($0, for: connection)
        }
        _ = try LakehookDatabase.pool.withConnection { db in try bug.write(db, for: connection) }

        try Self.race(first: { db in _ = try db.query(incident.sql, incident.binds(for: connection)) },
                      second: { db in _ = try IssueClose(issueKey: "Z1").write(db, for: connection) })

        let id = connection.rowId("Z1")
        #expect(try LakehookDatabase.value("SELECT status FROM issues WHERE id = $1", [id]) == "DONE")
        #expect(try LakehookDatabase.value("SELECT status FROM incidents WHERE id = $1", [id]) == "DONE")
    }
}
