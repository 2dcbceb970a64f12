import Foundation
import Postgres

/// The tier-4 database: the standard `PG*` variables (`make test` points them at the throwaway
/// server under .lakehook/), defaulting to the local test server (127.0.0.1:5432, user postgres,
/// database postgres) so the suite runs as is. `DATABASE_URL` is not read: it names the
/// developer's own database.
public enum TestDatabase {
    public static func config(
        statementTimeout: Duration? = .seconds(15),
        connectTimeoutSeconds: Int = 5
    ) -> PostgresConfig {
        let environment = ProcessInfo.processInfo.environment
        func setting(_ name: String, _ fallback: String) -> String {
            guard let value = environment[name], !value.isEmpty else { return fallback }
            return value
        }
        let pairs = [
            ("host", setting("PGHOST", "127.0.0.1")),
            ("port", setting("PGPORT", "5432")),
            ("user", setting("PGUSER", "postgres")),
            ("dbname", setting("PGDATABASE", "postgres")),
        ]
        // PGPASSWORD, PGSSLMODE and the rest are read by libpq itself.
        let conninfo = pairs.map { "\($0.0)=\(quoted($0.1))" }.joined(separator: " ")
        return PostgresConfig(
            conninfo: conninfo,
            applicationName: "lakehook-tests",
            connectTimeoutSeconds: connectTimeoutSeconds,
            statementTimeout: statementTimeout
        )
    }

    public static func connect() throws -> PostgresConnection {
        try PostgresConnection(config: config())
    }

    /// A pool of 8 for the tests' own reads and writes, shared by the whole test process.
    public static let pool = PostgresPool(config: config(), size: 8)

    /// A table name no other test (or other user of the server) will pick.
    public static func uniqueName(_ prefix: String) -> String {
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        return "lakehook_test_\(prefix)_\(suffix)"
    }

    /// Terminates the backend `pid` from another connection and waits until it has exited
    /// (PostgreSQL 14+ `pg_terminate_backend(pid, timeout)`), then a moment more: the backend
    /// leaves the process table a few instructions before its socket closes.
    public static func terminate(pid: Int32) throws {
        let admin = try connect()
        let result = try admin.query("SELECT pg_terminate_backend($1::int, 5000) AS done", [String(pid)])
        precondition(result.rows.first?["done"] == "t", "backend \(pid) did not terminate")
        Thread.sleep(forTimeInterval: 0.05)
    }

    /// Creates an empty database of a test's own, `lakehook_<label>_<8 hex>`, and returns its
    /// name; `dropDatabase` removes it.
    public static func createDatabase(_ label: String) throws -> String {
        let name = "lakehook_\(label)_\(UUID().uuidString.prefix(8).lowercased())"
        try pool.withConnection { db in try db.execute(script: "CREATE DATABASE \(name)") }
        return name
    }

    public static func dropDatabase(_ name: String) {
        _ = try? pool.withConnection { db in try db.execute(script: "DROP DATABASE \(name) WITH (FORCE)") }
    }

    /// The test server's conninfo with another database.
    public static func conninfo(database name: String) -> String {
        config().conninfo + " dbname=\(name)"
    }

    private static func quoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}

/// The reads a test makes on a pool: every row, the first value, a count.
public protocol DatabaseReads {
    static var pool: PostgresPool { get }
}

extension DatabaseReads {
    public static func rows(_ sql: String, _ binds: [String?] = []) throws -> [PostgresRow] {
        try pool.withConnection { db in try db.query(sql, binds).rows }
    }

    public static func value(_ sql: String, _ binds: [String?] = []) throws -> String? {
        try rows(sql, binds).first?[0]
    }

    public static func count(_ sql: String, _ binds: [String?] = []) throws -> Int {
        Int(try value(sql, binds) ?? "0") ?? 0
    }
}

extension TestDatabase: DatabaseReads {}
