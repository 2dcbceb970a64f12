import Dispatch
import Foundation
import HTTP
import Postgres

/// A running Lakehook: pool, migrations, HTTP server. `lakehook serve` builds one.
public final class Application: Sendable {
    public let configuration: Configuration
    public let pool: PostgresPool
    public let service: WebhookService
    public let server: HTTPServer
    /// The DORA gauges of `/metrics`, computed in the background; nil when LAKEHOOK_DORA_REFRESH=0.
    public let doraRefresher: DoraMetricsRefresher?
    private let migrationQueue = DispatchQueue(label: "lakehook.migrations")

    public init(configuration: Configuration, cacheTTL: Duration = .seconds(4)) {
        self.configuration = configuration
        pool = PostgresPool(
            config: configuration.database, size: configuration.databasePoolSize,
            waitTimeout: configuration.databaseWaitTimeout)
        service = WebhookService(
            pool: pool, log: RequestLog(level: configuration.logLevel), cacheTTL: cacheTTL,
            publicURL: configuration.publicURL, adminToken: configuration.adminToken,
            trustedProxies: configuration.trustedProxies, pipeline: configuration.databasePipeline,
            pipelineConnectionsPerLoop: configuration.pipelineConnectionsPerLoop,
            doraMaxWindowDays: configuration.doraMaxWindowDays, journal: configuration.journal)
        server = service.makeServer(
            host: configuration.listenHost, port: configuration.listenPort, limits: configuration.serverLimits,
            eventLoops: configuration.eventLoops)
        doraRefresher = configuration.doraRefreshSeconds == 0 ? nil : DoraMetricsRefresher(
            store: DoraStore(pool: pool), metrics: service.metrics, log: service.log,
            interval: .seconds(configuration.doraRefreshSeconds), maxProjects: configuration.doraProjectsMax)
    }

    /// Migrates (retrying in the background while the database is unreachable) and starts serving.
    public func start() throws {
        migrateUntilDone()
        try server.start()
        service.log.log(.info, "listening", [
            ("address", .string("\(configuration.listenHost):\(server.port)")),
            ("pool_size", .number(String(configuration.databasePoolSize))),
        ])
    }

    /// Stops the DORA refreshes, stops accepting, lets in-flight requests finish within
    /// `deadline`, waits a little for a refresh under way to end its statement, closes the pool.
    public func shutdown(deadline: Duration) {
        doraRefresher?.beginStopping()
        server.shutdown(deadline: deadline)
        doraRefresher?.stop(deadline: .seconds(2))
        pool.close()
        service.log.log(.info, "stopped")
    }

    /// Creates the journal's coming days and drops those past LAKEHOOK_JOURNAL_DAYS; then again
    /// every hour (every instance does; they take turns, see `lakehook_journal_maintain`).
    private func maintainJournal() {
        do {
            let dropped = try pool.withConnection { db in
                try db.query("SELECT lakehook_journal_maintain($1)", [String(configuration.journalDays)]).rows.first?[0]
            }
            if let dropped, dropped != "0" {
                service.log.log(.info, "journal days dropped", [("days", .number(dropped)), ("keep_days", .number(String(configuration.journalDays)))])
            }
        } catch {
            service.log.log(.warn, "journal maintenance failed; will retry", [("error", .string(String(describing: error)))])
        }
        migrationQueue.asyncAfter(deadline: .now() + 3600) { [self] in maintainJournal() }
    }

    private func migrateUntilDone() {
        do {
            let applied = try pool.withConnection { db in try Migrator.migrate(db) }
            if !applied.isEmpty {
                service.log.log(.info, "migrated", [("versions", .array(applied.map { .number(String($0.version)) }))])
            }
            maintainJournal()
            // After the migrations, so that dora_report exists; a no-op after shutdown.
            doraRefresher?.start()
        } catch let error as PostgresError where error.isUnavailable {
            service.log.log(.warn, "database unavailable at start; will retry migrations", [("error", .string(error.description))])
            migrationQueue.asyncAfter(deadline: .now() + 2) { [self] in migrateUntilDone() }
        } catch {
            service.log.log(.error, "migration failed; will retry", [("error", .string(String(reflecting: error)))])
            migrationQueue.asyncAfter(deadline: .now() + 5) { [self] in migrateUntilDone() }
        }
    }
}
