import Foundation
import Postgres
import TestSupport
@testable import Webhooks

/// The test database (TestSupport's `TestDatabase`) with Lakehook's schema: its shared pool,
/// migrated once per test process on first use, and the reads on it.
enum LakehookDatabase: DatabaseReads {
    static let pool: PostgresPool = {
        let pool = TestDatabase.pool
        do {
            try pool.withConnection { db in
                _ = try Migrator.migrate(db)
                // As `lakehook serve` does at start: the journal's days around today exist (a
                // test database migrated days ago has only the days around then).
                _ = try db.query("SELECT lakehook_journal_maintain(0)", [])
            }
        } catch {
            fatalError("cannot migrate the test database (\(TestDatabase.config().conninfo)): \(error)")
        }
        return pool
    }()

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
