import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// A database of a test's own, migrated: replay and import tests purge and compare whole
/// tables, which the shared test database (other tests' rows, in parallel) cannot allow.
final class ScratchDatabase: Sendable {
    let name: String
    let conninfo: String
    let pool: PostgresPool

    init(_ label: String) throws {
        _ = LakehookDatabase.pool
        let name = try TestDatabase.createDatabase(label)
        self.name = name
        conninfo = TestDatabase.conninfo(database: name)
        pool = PostgresPool(config: PostgresConfig(conninfo: conninfo), size: 2)
        try pool.withConnection { db in _ = try Migrator.migrate(db) }
    }

    func drop() {
        pool.close()
        TestDatabase.dropDatabase(name)
    }

    func rows(_ sql: String, _ binds: [String?] = []) throws -> [PostgresRow] {
        try pool.withConnection { db in try db.query(sql, binds).rows }
    }

    func count(_ sql: String, _ binds: [String?] = []) throws -> Int {
        Int(try rows(sql, binds).first?[0] ?? "0") ?? 0
    }

    /// Runs the `lakehook` binary against this database.
    func lakehook(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        try CommandLineBinaryTests.lakehook(arguments, environment: environment.merging(["DATABASE_URL": conninfo]) { first, _ in first })
    }
}

/// Every domain table an ingest write touches (sql/migrations/0001_domain_tables.sql), with its
/// primary key: taken whole (every column, ordered by the key) and compared row by row.
enum DomainSnapshot {
    static let tables: [(name: String, key: [String])] = [
        ("boards", ["id"]), ("board_issues", ["board_id", "issue_id"]), ("issues", ["id"]), ("incidents", ["id"]),
        ("incident_assignees", ["incident_id", "assignee_id"]), ("cicd_pipelines", ["id"]), ("cicd_tasks", ["id"]),
        ("cicd_pipeline_commits", ["pipeline_id", "commit_sha"]), ("cicd_deployments", ["id"]),
        ("cicd_deployment_commits", ["id", "commit_sha"]), ("pull_requests", ["id"]),
    ]

    /// A connection's own board (`webhook:<id>`, written when the connection is created, named
    /// after it) is the connection's row, not the history's: a replay keeps it, a purge leaves it.
    static let connectionBoard = "t.id IN (SELECT 'webhook:' || id FROM webhook_connections)"

    /// Table → rows (primary key → every column as JSON), in key order. `excludingConnectionBoards`:
    /// without the connections' own boards (another instance created its connections at another time).
    static func take(_ database: ScratchDatabase, excludingConnectionBoards: Bool = false) throws -> [String: [(key: String, row: JSONObject)]] {
        var snapshot: [String: [(key: String, row: JSONObject)]] = [:]
        for (table, key) in tables {
            let skip = excludingConnectionBoards && table == "boards" ? "WHERE NOT (\(connectionBoard))" : ""
            let rows = try database.rows(
                "SELECT concat_ws('|', \(key.map { "t.\($0)" }.joined(separator: ", "))) AS key, to_jsonb(t)::text AS row FROM \(table) t \(skip) ORDER BY \(key.map { "t.\($0)" }.joined(separator: ", "))")
            snapshot[table] = try rows.map { row in
                guard case .object(let object) = try JSONParser.parse(Array((row["row"] ?? "").utf8)) else { throw TestFailure("not an object") }
                return (row["key"] ?? "", object)
            }
        }
        return snapshot
    }

    /// Every difference between two snapshots, one line each: a row missing or extra, or a
    /// column with another value (`issues webhook:1:I-1 updated_at: "…" ≠ "…"`). Empty: equal.
    static func differences(
        expected: [String: [(key: String, row: JSONObject)]], actual: [String: [(key: String, row: JSONObject)]]
    ) -> [String] {
        var lines: [String] = []
        for (table, _) in tables {
            let before = Dictionary((expected[table] ?? []).map { ($0.key, $0.row) }, uniquingKeysWith: { first, _ in first })
            let after = Dictionary((actual[table] ?? []).map { ($0.key, $0.row) }, uniquingKeysWith: { first, _ in first })
            for key in before.keys.sorted() where after[key] == nil { lines.append("\(table) \(key): missing") }
            for key in after.keys.sorted() where before[key] == nil { lines.append("\(table) \(key): not in the snapshot") }
            for key in before.keys.sorted() {
                guard let old = before[key], let new = after[key] else { continue }
                for (column, value) in old.members where new[column] != value {
                    lines.append("\(table) \(key) \(column): \((value).serialized()) ≠ \((new[column] ?? .null).serialized())")
                }
            }
        }
        return lines
    }

    /// The columns that differ, as `table.column` (for a short failure message).
    static func columns(_ differences: [String]) -> [String] {
        Array(Set(differences.compactMap { line -> String? in
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count == 3, let colon = parts[2].firstIndex(of: ":") else { return nil }
            return "\(parts[0]).\(parts[2][..<colon])"
        })).sorted()
    }

    /// Deletes the domain rows (the connections' own boards stay, with the connections and the journal).
    static func purge(_ database: ScratchDatabase) throws {
        try database.pool.withConnection { db in
            for (table, _) in tables {
                try db.query("DELETE FROM \(table) t" + (table == "boards" ? " WHERE NOT (\(connectionBoard))" : ""))
            }
        }
    }
}

/// Sends requests as a client would: the real server over loopback.
extension PipelineServer {
    /// A POST with extra headers (`Idempotency-Key`).
    func post(_ path: String, _ body: String?, key: String, headers: [(String, String)]) throws -> Reply {
        let client = try TestClient(port: port, timeoutSeconds: 10)
        var bytes = Self.requestBytes("POST", path, body: body, key: key)
        let head = headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        if let end = bytes.firstIndex(of: UInt8(ascii: "\n")) { bytes.insert(contentsOf: Array(head.utf8), at: end + 1) }
        try client.send(bytes)
        return try client.receive()
    }
}
