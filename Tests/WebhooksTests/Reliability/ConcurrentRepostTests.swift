import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// Issue 13, finding 1: concurrent re-posts of one issue or deployment must end with the rows of
/// exactly one of the requests. The upserts replaced children (board links, the incident and its
/// assignees, deployment commits) with DELETEs that ran in the statement's snapshot, taken before
/// the upsert waited for the other writer's row lock, so they missed the children that writer had
/// just committed: an issue titled `a` linked to both boards, a BUG with a phantom incident, a
/// deployment with both commit sets.
///
/// The deployed shape: two `lakehook serve` instances with 4 event loops each on one database,
/// 16 writers per round (8 to each instance) posting 16 different versions of one key at once. In
/// every other round the test holds the key's row lock for 100 ms while they arrive, as a slow
/// writer would: without it, the race needs two statements to start within a fraction of a
/// millisecond, and the old statements failed only 1–3 rounds of 30 here.
@Suite("Concurrent re-posts of one key, on two instances with four event loops each")
struct ConcurrentRepostTests {
    static let writers = 16
    static let rounds = 30

    /// Two instances, 4 loops each (pipelined on), and a connection of their own.
    static func instances() throws -> (LakehookProcess, LakehookProcess, DevLakeConnection, String) {
        let store = DevLakeConnectionStore(pool: LakehookDatabase.pool)
        let (connection, key) = try store.create(name: "repost-\(UUID().uuidString.prefix(13))")
        let environment = ["LAKEHOOK_EVENT_LOOPS": "4", "LAKEHOOK_LOG_LEVEL": "warn"]
        let a = try LakehookProcess(databaseURL: TestDatabase.config().conninfo, environment: environment)
        let b = try LakehookProcess(databaseURL: TestDatabase.config().conninfo, environment: environment)
        return (a, b, connection, key.plaintext)
    }

    /// Runs one round: every writer posts its own body at the same moment; every answer must be 200.
    /// With `lockedRow`, the test itself holds that row's lock (as a slow writer would) while the
    /// requests arrive, for 100 ms: less than the pipeline's 250 ms lock timeout, and long enough for
    /// every request's statement to start (and take its snapshot) before the first one can commit.
    static func round(
        _ instances: [LakehookProcess], path: String, key: String, bodies: [String],
        lockedRow: (table: String, id: String)? = nil
    ) throws {
        // The slow writer takes the row lock first, on a connection of its own (the shared test
        // pool may be busy with other suites for seconds, while these clients sit connected and
        // silent under the server's header timeout).
        let holder = try lockedRow.map { lockedRow in
            let holder = try PostgresConnection(config: TestDatabase.config())
            try holder.execute(script: "BEGIN")
            _ = try holder.query("SELECT 1 FROM \(lockedRow.table) WHERE id = $1 FOR UPDATE", [lockedRow.id])
            return holder
        }
        let gate = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        let failures = Shared<[String]>([])
        let connected = Shared(0)
        for (writer, body) in bodies.enumerated() {
            group.enter()
            Thread {
                defer { group.leave() }
                do {
                    // Connected and ready before the gate opens, so the 16 requests arrive together.
                    let client = try TestClient(port: instances[writer % instances.count].port, timeoutSeconds: 15)
                    let bytes = Array(body.utf8)
                    let head = "POST \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(bytes.count)\r\n"
                        + "Authorization: Bearer \(key)\r\n\r\n"
                    connected.withLock { $0 += 1 }
                    gate.wait()
                    try client.send(Array(head.utf8) + bytes)
                    let reply = try client.receive()
                    if reply.status != 200 { failures.withLock { $0.append("writer \(writer): \(reply.status) \(reply.text)") } }
                } catch {
                    connected.withLock { $0 += 1 }
                    failures.withLock { $0.append("writer \(writer): \(error)") }
                }
            }.start()
        }
        try waitUntil(timeout: 30) { connected.withLock { $0 } >= bodies.count }
        for _ in bodies { gate.signal() }
        if let holder {
            usleep(100_000)
            try holder.execute(script: "COMMIT")
        }
        group.wait()
        let seen = failures.withLock { $0 }
        if !seen.isEmpty {
            // What the servers said of it: their warnings (refusals, database trouble) so far.
            let said = instances.map { $0.log.split(separator: "\n").filter { !$0.contains(#""msg":"migrated""#) }.suffix(20) }
            throw TestFailure("round failed: \(seen)\nthe instances' warnings:\n\(said.map { $0.joined(separator: "\n") }.joined(separator: "\n--\n"))")
        }
    }

    @Test("16 concurrent re-posts of one issue, incidents and plain issues mixed, always leave exactly one request's issue, links, incident and assignees")
    func issueRepostsLeaveOneRequestsRows() throws {
        let (a, b, connection, key) = try Self.instances()
        let path = "/api/plugins/webhook/\(connection.id)/issues"
        let id = connection.rowId("Z1")
        var mismatches: [String] = []
        for round in 0..<Self.rounds {
            // Writer w: an incident when w is even (with assignee u<w>), a bug otherwise; board b<w>.
            let bodies = (0..<Self.writers).map { w in
                #"{"issue_key":"Z1","title":"r\#(round)-w\#(w)","type":"\#(w % 2 == 0 ? "INCIDENT" : "BUG")","status":"TODO","original_status":"open","created_date":"2024-01-01T00:00:00Z","board_key":"b\#(w)","assignee_id":"u\#(w)","assignee_name":"U\#(w)"}"#
            }
            try Self.round([a, b], path: path, key: key, bodies: bodies, lockedRow: round % 2 == 0 ? ("issues", id) : nil)

            let title = try LakehookDatabase.value("SELECT title FROM issues WHERE id = $1", [id]) ?? ""
            guard let w = Int(title.split(separator: "-w").last ?? ""), title.hasPrefix("r\(round)-") else {
                mismatches.append("round \(round): title \(title)")
                continue
            }
            let type = try LakehookDatabase.value("SELECT type FROM issues WHERE id = $1", [id])
            let boards = Set(try LakehookDatabase.rows("SELECT board_id FROM board_issues WHERE issue_id = $1", [id]).compactMap { $0[0] })
            let incident = try LakehookDatabase.value("SELECT title FROM incidents WHERE id = $1", [id])
            let assignees = Set(try LakehookDatabase.rows(
                "SELECT assignee_id FROM incident_assignees WHERE incident_id = $1", [id]).compactMap { $0[0] })
            let isIncident = w % 2 == 0
            let expected = (
                type: isIncident ? "INCIDENT" : "BUG",
                boards: Set([connection.scopeId, connection.rowId("b\(w)")]),
                incident: isIncident ? title : nil,
                assignees: isIncident ? Set([connection.rowId("u\(w)")]) : Set<String>())
            if type != expected.type || boards != expected.boards || incident != expected.incident || assignees != expected.assignees {
                mismatches.append("round \(round): writer \(w)'s title, but type \(type ?? "nil"), boards \(boards.sorted()), incident \(incident ?? "none"), assignees \(assignees.sorted())")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(Self.rounds) rounds left rows of several requests:\n\(mismatches.joined(separator: "\n"))")
    }

    @Test("16 concurrent re-posts of one deployment with different commit sets always leave exactly one request's deployment and commits")
    func deploymentRepostsLeaveOneRequestsCommits() throws {
        let (a, b, connection, key) = try Self.instances()
        let path = "/api/plugins/webhook/\(connection.id)/deployments"
        let id = connection.rowId("D1")
        var mismatches: [String] = []
        for round in 0..<Self.rounds {
            // Writer w: the shared commit s0 (named after the writer) and a commit of its own, v<w>.
            let bodies = (0..<Self.writers).map { w in
                #"{"id":"D1","name":"r\#(round)-w\#(w)","result":"\#(w % 2 == 0 ? "SUCCESS" : "FAILURE")","startedDate":"2024-01-01T00:00:00Z","finishedDate":"2024-01-01T00:10:00Z","deploymentCommits":[{"repoUrl":"https://example.com/r","commitSha":"s0","name":"r\#(round)-w\#(w)"},{"repoUrl":"https://example.com/r","commitSha":"v\#(w)"}]}"#
            }
            try Self.round([a, b], path: path, key: key, bodies: bodies, lockedRow: round % 2 == 0 ? ("cicd_deployments", id) : nil)

            let name = try LakehookDatabase.value("SELECT name FROM cicd_deployments WHERE id = $1", [id]) ?? ""
            guard let w = Int(name.split(separator: "-w").last ?? ""), name.hasPrefix("r\(round)-") else {
                mismatches.append("round \(round): name \(name)")
                continue
            }
            let commits = try LakehookDatabase.rows(
                "SELECT commit_sha, name, result FROM cicd_deployment_commits WHERE cicd_deployment_id = $1", [id])
            let shas = Set(commits.compactMap { $0[0] })
            let shared = commits.first { $0[0] == "s0" }
            let result = w % 2 == 0 ? "SUCCESS" : "FAILURE"
            if shas != ["s0", "v\(w)"] || shared?[1] != name || commits.contains(where: { $0[2] != result }) {
                mismatches.append("round \(round): writer \(w)'s deployment, but commits \(commits.map { "\($0[0] ?? "")/\($0[1] ?? "")/\($0[2] ?? "")" })")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(Self.rounds) rounds left rows of several requests:\n\(mismatches.joined(separator: "\n"))")
    }
}
