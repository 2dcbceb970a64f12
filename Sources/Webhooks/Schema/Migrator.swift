import Migrations
import Postgres

/// Applies the embedded migrations in order, each in its own transaction, recorded in
/// `schema_migrations`. Two instances starting together serialise on an advisory lock, so each
/// migration runs once; applying them again is a no-op.
public enum Migrator {
    /// An arbitrary constant that names Lakehook's migration lock ("lakehook" in ASCII).
    static let advisoryLockKey = "7809643084163016555"

    public static var latestVersion: Int { Migration.all.map(\.version).max() ?? 0 }

    /// Returns the versions this call applied (empty when the database was up to date).
    @discardableResult
    public static func migrate(_ db: PostgresConnection) throws -> [Migration] {
        try db.query("SELECT pg_advisory_lock($1::bigint)", [advisoryLockKey])
        defer { _ = try? db.query("SELECT pg_advisory_unlock($1::bigint)", [advisoryLockKey]) }

        try db.execute(script: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version bigint PRIMARY KEY,
                name varchar(255) NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let applied = Set(try db.query("SELECT version FROM schema_migrations").rows.compactMap { $0[0].flatMap(Int.init) })
        var done: [Migration] = []
        for migration in Migration.all.sorted(by: { $0.version < $1.version }) where !applied.contains(migration.version) {
            try db.transaction { db in
                try db.execute(script: migration.sql)
                try db.query(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    [String(migration.version), migration.name])
            }
            done.append(migration)
        }
        return done
    }

    /// The newest applied version, or nil when the database has not been migrated at all.
    public static func currentVersion(_ db: PostgresConnection) throws -> Int? {
        let exists = try db.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard exists.rows.first?[0] == "t" else { return nil }
        return try db.query("SELECT max(version) FROM schema_migrations").rows.first?[0].flatMap(Int.init)
    }
}
