import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// Hardening: the database is down, restarts, or is saturated, and Lakehook neither lies (a 200
/// is always committed) nor needs a restart. Each test has its own PostgreSQL and its own
/// `lakehook serve` process, so the suite runs them one at a time.
@Suite("Database faults", .serialized)
struct DatabaseFaultTests {
    static func issue(_ key: String) -> String { RoutesTests.issue(key) }

    /// Creates a connection with the CLI against `database`; returns its id and key.
    static func connection(on database: DisposablePostgres, _ name: String = "faults") throws -> (Int64, String) {
        let created = try CommandLineBinaryTests.lakehook(
            ["connections", "create", name, "--json"], environment: ["DATABASE_URL": database.conninfo])
        guard created.status == 0, case .object(let json)? = try? JSONParser.parse(Array(created.out.utf8)),
              case .number(let id)? = json["id"], case .string(let key)? = json["apiKey"], let number = Int64(id)
        else { throw TestFailure("connections create failed: \(created.err)") }
        return (number, key)
    }

    @Test("PostgreSQL down at start: Lakehook starts, /readyz and ingest answer 503 with Retry-After, and it recovers by itself")
    func downAtStart() throws {
        let database = try DisposablePostgres()
        let lakehook = try LakehookProcess(databaseURL: database.conninfo)
        #expect(try lakehook.get("/livez").status == 200)
        let ready = try lakehook.get("/readyz")
        #expect(ready.status == 503 && ready.header("Retry-After") != nil)
        let ingest = try lakehook.post("/api/plugins/webhook/1/issues", Self.issue("D-1"), key: "lhk_anything")
        #expect(ingest.status == 503, "\(ingest.text)")
        #expect(ingest.header("Retry-After") == "1")
        #expect(ingest.json?["success"] == .bool(false))

        try database.start()
        try waitUntil(timeout: 20) { try lakehook.get("/readyz").status == 200 }
        let (id, key) = try Self.connection(on: database)
        #expect(try lakehook.post("/api/plugins/webhook/\(id)/issues", Self.issue("D-1"), key: key).status == 200)
    }

    /// Issues posted from several clients until `finish()`: the keys of every 200 and the
    /// statuses of everything else. A test waits for a number of 200s before and after its
    /// fault (`waitFor`), so that the load means something however slow the machine is.
    final class Load: Sendable {
        let acknowledged = Shared<[String]>([]), failures = Shared<[Int]>([])
        private let stop = Shared(false)
        private let group = DispatchGroup()

        init(_ lakehook: @escaping @Sendable () -> LakehookProcess?, connection id: Int64, key: String, threads: Int = 8, prefix: String) {
            for worker in 0..<threads {
                group.enter()
                Thread { [acknowledged, failures, stop, group] in
                    defer { group.leave() }
                    var n = 0
                    while !stop.withLock({ $0 }) {
                        n += 1
                        let issueKey = "\(prefix)-\(worker)-\(n)"
                        guard let target = lakehook() else { usleep(10_000); continue }
                        do {
                            let reply = try target.post("/api/plugins/webhook/\(id)/issues", DatabaseFaultTests.issue(issueKey), key: key, timeoutSeconds: 20)
                            if reply.status == 200 {
                                acknowledged.withLock { $0.append(issueKey) }
                            } else {
                                failures.withLock { $0.append(reply.status) }
                            }
                        } catch {
                            failures.withLock { $0.append(0) }  // connection refused or cut: no answer, no promise
                            usleep(10_000)
                        }
                    }
                }.start()
            }
        }

        var count: Int { acknowledged.withLock { $0.count } }

        /// Waits until `n` more requests than now have been answered 200 (a generous ceiling).
        func waitFor(more n: Int, _ what: String) throws {
            let target = count + n
            do {
                try waitUntil(timeout: 90) { self.count >= target }
            } catch {
                throw TestFailure("\(what): \(count) of \(target) requests answered 200 within 90 s")
            }
        }

        func finish() -> (acknowledged: [String], failures: [Int]) {
            stop.withLock { $0 = true }
            group.wait()
            return (acknowledged.withLock { $0 }, failures.withLock { $0 })
        }
    }

    static func storedKeys(_ database: DisposablePostgres, connection id: Int64) throws -> Set<String> {
        let pool = PostgresPool(config: PostgresConfig(conninfo: database.conninfo), size: 1)
        defer { pool.close() }
        return Set(try pool.withConnection { db in
            try db.query("SELECT issue_key FROM issues WHERE _raw_data_params = $1", [String(id)]).rows.compactMap { $0[0] }
        })
    }

    @Test("PostgreSQL restarted in immediate mode under load: in-flight requests get 503, no acknowledged row is lost, no restart needed")
    func restartUnderLoad() throws {
        let database = try DisposablePostgres()
        try database.start()
        let lakehook = try LakehookProcess(databaseURL: database.conninfo, environment: ["LAKEHOOK_DB_WAIT_MS": "2000"])
        try waitUntil(timeout: 20) { try lakehook.get("/readyz").status == 200 }
        let (id, key) = try Self.connection(on: database)
        let load = Load({ lakehook }, connection: id, key: key, prefix: "R")
        try load.waitFor(more: 30, "before the restart")
        try database.stop(immediate: true)
        usleep(1_000_000)  // down for a second
        try database.start()
        // Recovered under load, without a restart of Lakehook.
        try load.waitFor(more: 30, "after the restart")
        let (acknowledged, failures) = load.finish()

        #expect(failures.allSatisfy { $0 == 503 || $0 == 0 }, "unexpected statuses: \(Set(failures))")
        let stored = try Self.storedKeys(database, connection: id)
        #expect(Set(acknowledged).subtracting(stored).isEmpty, "acknowledged but lost: \(Set(acknowledged).subtracting(stored).prefix(5))")
        // Recovered without a restart.
        try waitUntil(timeout: 15) { try lakehook.post("/api/plugins/webhook/\(id)/issues", Self.issue("after"), key: key).status == 200 }
        #expect(try lakehook.get("/readyz").status == 200)
    }

    @Test("Lakehook killed with SIGKILL under load and restarted: every acknowledged row is in the database")
    func sigkillUnderLoad() throws {
        let database = try DisposablePostgres()
        try database.start()
        let first = try LakehookProcess(databaseURL: database.conninfo)
        try waitUntil(timeout: 20) { try first.get("/readyz").status == 200 }
        let (id, key) = try Self.connection(on: database)
        let current = Shared<LakehookProcess?>(first)
        let load = Load({ current.withLock { $0 } }, connection: id, key: key, prefix: "K")
        try load.waitFor(more: 30, "before the kill")
        first.signal(SIGKILL)
        _ = first.waitForExit(timeout: 20)
        current.withLock { $0 = nil }
        let second = try LakehookProcess(databaseURL: database.conninfo)
        current.withLock { $0 = second }
        try load.waitFor(more: 30, "after the restart")
        let (acknowledged, failures) = load.finish()
        #expect(failures.allSatisfy { $0 == 0 || $0 == 503 }, "unexpected statuses: \(Set(failures))")
        let stored = try Self.storedKeys(database, connection: id)
        #expect(Set(acknowledged).subtracting(stored).isEmpty)
    }

    @Test("SIGTERM under load: in-flight requests complete, no accepted request gets a 5xx, exit 0 within the deadline")
    func gracefulShutdown() throws {
        let database = try DisposablePostgres()
        try database.start()
        let lakehook = try LakehookProcess(databaseURL: database.conninfo, environment: ["LAKEHOOK_SHUTDOWN_SECONDS": "5"])
        try waitUntil(timeout: 20) { try lakehook.get("/readyz").status == 200 }
        let (id, key) = try Self.connection(on: database)
        let load = Load({ lakehook }, connection: id, key: key, prefix: "T")
        try load.waitFor(more: 20, "before SIGTERM")
        let signalled = Date()
        lakehook.signal(SIGTERM)
        let status = lakehook.waitForExit(timeout: 30)
        let took = Date().timeIntervalSince(signalled)
        let (acknowledged, failures) = load.finish()
        #expect(status == 0)
        // The deadline is 5 s: a ceiling far enough above it for a loaded machine, far below
        // the 30 s a process that ignored it would reach.
        #expect(took < 15)
        #expect(failures.allSatisfy { $0 == 0 }, "accepted requests answered with errors: \(Set(failures))")
        let stored = try Self.storedKeys(database, connection: id)
        #expect(Set(acknowledged).subtracting(stored).isEmpty)
        #expect(lakehook.log.contains("\"msg\":\"stopped\""))
    }

    @Test("pool saturation answers 503 after the wait limit instead of hanging; a statement timeout answers 503")
    func saturationAndStatementTimeout() throws {
        let database = try DisposablePostgres()
        try database.start()
        // The pool's own limits: with the pipeline on, single-statement writes would not need
        // the pool (PipelineIngestTests covers how the pipeline hands a lock wait to the pool).
        let lakehook = try LakehookProcess(databaseURL: database.conninfo, environment: [
            "LAKEHOOK_DB_POOL_SIZE": "1", "LAKEHOOK_DB_WAIT_MS": "300", "LAKEHOOK_DB_STATEMENT_TIMEOUT_MS": "1500",
            "LAKEHOOK_DB_PIPELINE": "off",
        ])
        try waitUntil(timeout: 20) { try lakehook.get("/readyz").status == 200 }
        let (id, key) = try Self.connection(on: database)
        let task = #"{"pipeline_name":"locked","name":"t","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-01T00:00:00Z","repo_id":"r"}"#
        #expect(try lakehook.post("/api/plugins/webhook/\(id)/cicd_tasks", task, key: key).status == 200)

        // Hold the pipeline's row lock from outside, so the next task of that pipeline blocks
        // inside the database, holding Lakehook's only pooled connection.
        let holder = try PostgresConnection(config: PostgresConfig(conninfo: database.conninfo))
        try holder.execute(script: "BEGIN; SELECT 1 FROM cicd_pipelines WHERE id = 'webhook:\(id):locked' FOR UPDATE;")
        let blocked = Shared<Reply?>(nil)
        Thread {
            let reply = try? lakehook.post("/api/plugins/webhook/\(id)/cicd_tasks", task, key: key)
            blocked.withLock { $0 = reply }
        }.start()
        // The blocked statement holds the pooled connection, waiting on the lock.
        let observer = try PostgresConnection(config: PostgresConfig(conninfo: database.conninfo))
        try waitUntil(timeout: 30) {
            try observer.query("SELECT count(*)::text FROM pg_stat_activity WHERE wait_event_type = 'Lock'").rows.first?[0] != "0"
        }
        // The next request waits for the pool 300 ms and is answered 503; had it waited for the
        // connection, it would have had it when the statement timed out (1.5 s) and answered 200.
        let waiting = try lakehook.post("/api/plugins/webhook/\(id)/issues", Self.issue("S-1"), key: key)
        #expect(waiting.status == 503 && waiting.header("Retry-After") != nil, "\(waiting.text)")
        try waitUntil(timeout: 30) { blocked.withLock { $0 != nil } }
        let timedOut = try #require(blocked.withLock { $0 })
        #expect(timedOut.status == 503, "\(timedOut.text)")
        try holder.execute(script: "ROLLBACK")
        #expect(try lakehook.post("/api/plugins/webhook/\(id)/issues", Self.issue("S-2"), key: key).status == 200)
    }
}
