import Foundation
import Migrations
import Postgres
import Testing
@testable import Webhooks
import TestSupport

@Suite("Migrations")
struct MigrationTests {
    static let sqlFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../sql/migrations").standardized

    @Test("every file in sql/migrations is compiled in, in order, with the same text")
    func everyFileIsListed() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.sqlFolder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.count == Migration.all.count)
        for (file, migration) in zip(files, Migration.all) {
            #expect(file == String(format: "%04d_%@.sql", migration.version, migration.name))
            #expect(try String(contentsOf: Self.sqlFolder.appendingPathComponent(file), encoding: .utf8) == migration.sql)
        }
    }

    /// A database of its own, so the migrations run from nothing.
    static func withFreshDatabase(_ body: (PostgresConfig) throws -> Void) throws {
        let name = try TestDatabase.createDatabase("migrations")
        defer { TestDatabase.dropDatabase(name) }
        try body(PostgresConfig(conninfo: TestDatabase.conninfo(database: name)))
    }

    @Test("two instances migrating at the same moment apply each migration once; again is a no-op")
    func concurrentAndIdempotent() throws {
        try Self.withFreshDatabase { config in
            let applied = Shared<[Int]>([])
            let failures = Shared<[String]>([])
            let group = DispatchGroup()
            for _ in 0..<4 {
                group.enter()
                Thread {
                    defer { group.leave() }
                    do {
                        let db = try PostgresConnection(config: config)
                        let versions = try Migrator.migrate(db).map(\.version)
                        applied.withLock { $0 += versions }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }.start()
            }
            group.wait()
            #expect(failures.withLock { $0 } == [])
            #expect(applied.withLock { $0.sorted() } == Migration.all.map(\.version))
            let db = try PostgresConnection(config: config)
            #expect(try Migrator.migrate(db).isEmpty)
            #expect(try Migrator.currentVersion(db) == Migrator.latestVersion)
            let tables = Set(try db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").rows.compactMap { $0[0] })
            for table in ["boards", "board_issues", "issues", "incidents", "incident_assignees", "cicd_pipelines", "cicd_tasks",
                          "cicd_pipeline_commits", "cicd_deployments", "cicd_deployment_commits", "pull_requests", "cicd_scopes",
                          "repos", "project_mapping", "schema_migrations", "webhook_connections"] {
                #expect(tables.contains(table), "missing table \(table)")
            }
        }
    }

    @Test("readiness is 503 until the database is migrated")
    func readiness() throws {
        try Self.withFreshDatabase { config in
            let pool = PostgresPool(config: config, size: 1)
            defer { pool.close() }
            let service = WebhookService(pool: pool, log: RequestLog(level: .error))
            #expect(service.readiness().status == 503)
            try pool.withConnection { db in _ = try Migrator.migrate(db) }
            #expect(service.readiness().status == 200)
        }
    }
}

