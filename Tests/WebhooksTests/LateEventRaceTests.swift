import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// Issue 16: the late check is atomic with the write. One writer holds a row with a newer post
/// (written, not committed) while a late post of the same row starts, finds nothing newer in its
/// snapshot, and waits for the lock; once the newer post commits, the late one must find itself
/// late — answer `applied: false`, journal `stale` — and have written nothing, not even what it
/// wrote before it reached the lock (a board, a pipeline commit).
@Suite("A late post that waited for a newer one's row lock is late, and writes nothing")
struct LateEventRaceTests {
    static func decode<T>(_ body: String, _ decode: (JSONObject) -> Result<T, WebhookError>) throws -> T {
        try RowLockOrderTests.decode(body, decode)
    }

    static func connection() throws -> DevLakeConnection {
        try DevLakeConnectionStore(pool: LakehookDatabase.pool).create(name: "late-race-\(UUID().uuidString.prefix(13))").0
    }

    /// Commits `committed`, then has `newer` hold its row uncommitted while `late` runs with a
    /// journal row and waits for it; returns what `late` answered and its journal outcome.
    static func race(
        _ connection: DevLakeConnection, route: String, committed: any SingleStatementOperation,
        newer: any SingleStatementOperation, late: any SingleStatementOperation
    ) throws -> (result: WriteResult, outcome: [String]) {
        _ = try LakehookDatabase.pool.withConnection { db in try committed.write(db, for: connection) }
        let requestId = "late-race-\(UUID().uuidString)"
        let entry = JournalEntry(
            receivedAt: .now(), connectionId: connection.id, route: route, params: [:], requestId: requestId,
            clientAddress: "", userAgent: "", contentType: "", body: Array("{}".utf8), idempotencyKey: nil, started: .now)
        let answered = Shared<WriteResult?>(nil)
        try RowLockOrderTests.race(
            first: { db in _ = try db.query(newer.sql, newer.binds(for: connection)) },
            second: { db in
                let result = try late.write(db, for: connection, journal: entry)
                answered.withLock { $0 = result }
            })
        let result = try #require(answered.withLock { $0 })
        let outcome = try LakehookDatabase.rows("SELECT outcome FROM webhook_events WHERE request_id = $1", [requestId]).compactMap { $0[0] }
        return (result, outcome)
    }

    static func expectLate(_ raced: (result: WriteResult, outcome: [String]), sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(raced.result.stale != nil, sourceLocation: sourceLocation)
        #expect(raced.result.data.objectValue?["applied"] == .bool(false), sourceLocation: sourceLocation)
        #expect(raced.result.rows.values.allSatisfy { $0 == 0 }, "\(raced.result.rows)", sourceLocation: sourceLocation)
        #expect(raced.outcome == ["stale"], sourceLocation: sourceLocation)
    }

    @Test("an issue: the late post's new board is not kept, and the newer post's issue stands")
    func issue() throws {
        let connection = try Self.connection()
        func issue(_ title: String, updated: String, board: String) throws -> IssueUpsert {
            try Self.decode(#"{"issue_key":"R1","title":"\#(title)","status":"TODO","original_status":"open","created_date":"2024-01-01T00:00:00Z","updated_date":"\#(updated)","board_key":"\#(board)"}"#) {
                IssueUpsert.decode($0, for: connection)
            }
        }
        let raced = try Self.race(
            connection, route: "issues", committed: issue("first", updated: "2024-01-01T10:00:00Z", board: "b1"),
            newer: issue("newer", updated: "2024-01-01T11:00:00Z", board: "b1"),
            late: issue("late", updated: "2024-01-01T10:30:00Z", board: "racer"))
        Self.expectLate(raced)
        #expect(raced.result.stale?.contains("2024-01-01T11:00:00Z") == true)
        #expect(try LakehookDatabase.value("SELECT title FROM issues WHERE id = $1", [connection.rowId("R1")]) == "newer")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM boards WHERE id = $1", [connection.rowId("racer")]) == 0)
    }

    @Test("a task: the late IN_PROGRESS post's pipeline commit is not kept, and the task stays DONE")
    func task() throws {
        let connection = try Self.connection()
        func task(_ status: String, sha: String) throws -> TaskUpsert {
            try Self.decode(#"{"pipeline_name":"p","name":"t","result":"\#(status == "DONE" ? "SUCCESS" : "IN_PROGRESS")","status":"\#(status)","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-01T10:00:00Z","repo_id":"r","commit_sha":"\#(sha)"}"#) {
                TaskUpsert.decode($0, for: connection)
            }
        }
        let raced = try Self.race(
            connection, route: "cicd_tasks", committed: task("IN_PROGRESS", sha: "c0"), newer: task("DONE", sha: "c0"),
            late: task("IN_PROGRESS", sha: "racer"))
        Self.expectLate(raced)
        let pipeline = connection.rowId("p")
        #expect(try LakehookDatabase.value("SELECT status FROM cicd_tasks WHERE pipeline_id = $1", [pipeline]) == "DONE")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_pipeline_commits WHERE pipeline_id = $1 AND commit_sha = 'racer'", [pipeline]) == 0)
    }

    @Test("a deployment: the newer post's commit set stands")
    func deployment() throws {
        let connection = try Self.connection()
        func deployment(finished: String, sha: String) throws -> DeploymentUpsert {
            try Self.decode(#"{"id":"D1","startedDate":"2024-01-01T10:00:00Z","finishedDate":"\#(finished)","deploymentCommits":[{"repoUrl":"u","commitSha":"\#(sha)"}]}"#) {
                DeploymentUpsert.decode($0, for: connection)
            }
        }
        let raced = try Self.race(
            connection, route: "deployments", committed: deployment(finished: "2024-01-01T10:00:00Z", sha: "a"),
            newer: deployment(finished: "2024-01-01T10:20:00Z", sha: "b"), late: deployment(finished: "2024-01-01T10:10:00Z", sha: "c"))
        Self.expectLate(raced)
        #expect(raced.result.stale?.contains("2024-01-01T10:20:00Z") == true)
        #expect(try LakehookDatabase.rows(
            "SELECT commit_sha FROM cicd_deployment_commits WHERE cicd_deployment_id = $1", [connection.rowId("D1")]).compactMap { $0[0] } == ["b"])
    }

    @Test("a pull request: the late OPEN post names the status the newer post committed")
    func pullRequest() throws {
        let connection = try Self.connection()
        func pullRequest(_ fields: String) throws -> PullRequestUpsert {
            try Self.decode(#"{"pullRequestKey":1,"displayTitle":"t","createdDate":"2024-01-01T10:00:00Z",\#(fields)}"#) {
                PullRequestUpsert.decode($0, for: connection)
            }
        }
        let raced = try Self.race(
            connection, route: "pull_requests", committed: pullRequest(#""status":"OPEN""#),
            newer: pullRequest(#""status":"MERGED","mergedDate":"2024-01-02T00:00:00Z""#), late: pullRequest(#""status":"OPEN""#))
        Self.expectLate(raced)
        #expect(raced.result.stale?.contains("MERGED at 2024-01-02T00:00:00Z") == true, "\(raced.result.stale ?? "")")
        #expect(try LakehookDatabase.value("SELECT status FROM pull_requests WHERE id = $1", [connection.rowId("1")]) == "MERGED")
    }
}
