import Foundation
import Postgres
@testable import Webhooks

/// The real PostgreSQL the tests run against, from the standard PG* variables
/// (`make test` points them at the throwaway server under .lakehook/).
enum TestDatabase {
    static let config: PostgresConfig = {
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = nil
        env["PGHOST"] = env["PGHOST"] ?? "127.0.0.1"
        env["PGPORT"] = env["PGPORT"] ?? "5432"
        env["PGUSER"] = env["PGUSER"] ?? "postgres"
        env["PGDATABASE"] = env["PGDATABASE"] ?? "postgres"
        let conninfo = ["host": env["PGHOST"]!, "port": env["PGPORT"]!, "user": env["PGUSER"]!, "dbname": env["PGDATABASE"]!]
            .sorted(by: { $0.key < $1.key })
            .map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return PostgresConfig(conninfo: conninfo)
    }()

    /// A pool for the tests' own reads, with the schema migrated once per test process.
    static let pool: PostgresPool = {
        let pool = PostgresPool(config: config, size: 8)
        do {
            try pool.withConnection { db in
                _ = try Migrator.migrate(db)
                // As `lakehook serve` does at start: the journal's days around today exist (a
                // test database migrated days ago has only the days around then).
                _ = try db.query("SELECT lakehook_journal_maintain(0)", [])
            }
        } catch {
            fatalError("cannot migrate the test database (\(config.conninfo)): \(error)")
        }
        return pool
    }()

    static func rows(_ sql: String, _ binds: [String?] = []) throws -> [PostgresRow] {
        try pool.withConnection { db in try db.query(sql, binds).rows }
    }

    static func value(_ sql: String, _ binds: [String?] = []) throws -> String? {
        try rows(sql, binds).first?[0]
    }

    static func count(_ sql: String, _ binds: [String?] = []) throws -> Int {
        Int(try value(sql, binds) ?? "0") ?? 0
    }

    /// How many rows every table of a connection holds; "nothing written" compares two of these.
    static func footprint(of connection: DevLakeConnection) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in DevLakeConnectionStore.domainTables {
            counts[table] = try count(
                "SELECT count(*) FROM \(table) WHERE _raw_data_table = 'webhook' AND _raw_data_params = $1",
                [connection.rawDataParams])
        }
        return counts
    }
}
