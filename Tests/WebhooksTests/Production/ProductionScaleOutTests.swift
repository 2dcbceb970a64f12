import Foundation
import Migrations
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// Scale-out: two `lakehook serve` processes on one PostgreSQL, behind the nginx of
/// docker/nginx.conf. Migrations run once however the instances race; pipelines whose tasks and
/// finishes land on either instance end with the result derived from their stored tasks.
@Suite("Production: two instances behind nginx, one PostgreSQL")
struct ProductionScaleOutTests {
    static let pipelineCount = 200
    static let tasksPerPipeline = 3
    static let clientThreads = 8

    enum Operation: Sendable {
        case task(pipeline: Int, task: Int, body: String)
        case finish(pipeline: Int)
    }

    /// Three tasks per pipeline (random result, IN_PROGRESS included; random type and
    /// environment), then its finish; operations of ~10 neighbouring pipelines interleave, so a
    /// finish often races its own pipeline's last task on the other instance.
    static func operations() -> [Operation] {
        let results = ["SUCCESS", "SUCCESS", "SUCCESS", "FAILURE", "ABORT", "IN_PROGRESS"]
        let types = ["BUILD", "TEST", "DEPLOYMENT"]
        let environments = ["PRODUCTION", "STAGING", "TESTING", "DEVELOPMENT"]
        var keyed: [(Double, Operation)] = []
        for pipeline in 0..<pipelineCount {
            for task in 0..<tasksPerPipeline {
                let result = results.randomElement()!
                let body = #"{"pipeline_name":"p-\#(pipeline)","name":"t-\#(task)","result":"\#(result)","status":"\#(result == "IN_PROGRESS" ? "IN_PROGRESS" : "DONE")","type":"\#(types.randomElement()!)","environment":"\#(environments.randomElement()!)","started_date":"2024-03-01T10:0\#(task):00Z","finished_date":"2024-03-01T11:0\#(task):00Z","repo_id":"r","commit_sha":"c\#(pipeline)"}"#
                keyed.append((Double(pipeline + task * 3) + Double.random(in: 0..<5), .task(pipeline: pipeline, task: task, body: body)))
            }
            keyed.append((Double(pipeline + 8) + Double.random(in: 0..<5), .finish(pipeline: pipeline)))
        }
        return keyed.sorted { $0.0 < $1.0 }.map(\.1)
    }

    @Test("two instances started at once migrate once; 200 pipelines' tasks and finishes spread over both end consistent with their tasks")
    func twoInstancesOneDatabase() throws {
        let database = try DisposablePostgres()
        try database.start()

        // Both instances start at the same moment against the un-migrated database.
        let gate = DispatchSemaphore(value: 0)
        let started = Shared<[Int: Result<LakehookProcess, any Error>]>([:])
        let group = DispatchGroup()
        for index in 0..<2 {
            group.enter()
            Thread {
                defer { group.leave() }
                gate.wait()
                let outcome = Result { try LakehookProcess(databaseURL: database.conninfo) }
                started.withLock { $0[index] = outcome }
            }.start()
        }
        usleep(50_000)
        gate.signal()
        gate.signal()
        group.wait()
        let a = try started.withLock { $0[0]! }.get(), b = try started.withLock { $0[1]! }.get()

        let pool = PostgresPool(config: PostgresConfig(conninfo: database.conninfo), size: 2)
        defer { pool.close() }
        func rows(_ sql: String, _ binds: [String?] = []) throws -> [PostgresRow] {
            try pool.withConnection { db in try db.query(sql, binds).rows }
        }

        // Migrations: each version once, applied by exactly one of the two.
        let versions = try rows("SELECT version FROM schema_migrations ORDER BY version").compactMap { $0[0].flatMap(Int.init) }
        #expect(versions == Migration.all.map(\.version).sorted())
        let migratedLines = [a, b].map { $0.logLines.filter { $0.string("msg") == "migrated" } }
        #expect(migratedLines.map(\.count).sorted() == [0, 1], "a: \(a.log)\nb: \(b.log)")
        for instance in [a, b] {
            #expect(!instance.logLines.contains { $0.string("level") == "error" }, "\(instance.log)")
            #expect(try instance.get("/readyz").status == 200)
        }

        let nginx = try NginxProcess(upstreamPorts: [a.port, b.port])
        defer { nginx.stop() }
        let (connectionId, key) = try DatabaseFaultTests.connection(on: database, "scale-out")
        let base = "/api/plugins/webhook/\(connectionId)"
        let requestsBefore = [a, b].map { Self.ingestRequestLines($0) }

        // The load: client threads take the next operation in turn, all through nginx.
        let operations = Self.operations()
        let next = Shared(0)
        let acknowledged = Shared<Set<String>>([]), refused = Shared<Set<String>>([])
        let finished = Shared(0), sent = Shared(0), unexpected = Shared<[String]>([])
        @Sendable func post(_ path: String, _ body: String?) throws -> Reply {
            sent.withLock { $0 += 1 }
            let client = try TestClient(port: nginx.port, timeoutSeconds: 20)
            let bytes = Array((body ?? "").utf8)
            let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer \(key)\r\nContent-Length: \(bytes.count)\r\n\r\n"
            try client.send(Array(head.utf8) + bytes)
            return try client.receive()
        }
        let load = DispatchGroup()
        for _ in 0..<Self.clientThreads {
            load.enter()
            Thread {
                defer { load.leave() }
                while true {
                    let index = next.withLock { index -> Int in defer { index += 1 }; return index }
                    guard index < operations.count else { return }
                    do {
                        switch operations[index] {
                        case .task(let pipeline, let task, let body):
                            let id = "webhook:\(connectionId):p-\(pipeline):t-\(task)"
                            let reply = try post("\(base)/cicd_tasks", body)
                            switch reply.status {
                            case 200: acknowledged.withLock { _ = $0.insert(id) }
                            case 403: refused.withLock { _ = $0.insert(id) }  // its pipeline finished first
                            default: unexpected.withLock { $0.append("task \(id): \(reply.status) \(reply.text)") }
                            }
                        case .finish(let pipeline):
                            // 404 until the pipeline's first task is in: try again.
                            var reply = try post("\(base)/cicd_pipeline/p-\(pipeline)/finish", nil)
                            for _ in 0..<200 where reply.status == 404 {
                                usleep(5_000)
                                reply = try post("\(base)/cicd_pipeline/p-\(pipeline)/finish", nil)
                            }
                            if reply.status == 200 {
                                finished.withLock { $0 += 1 }
                            } else {
                                unexpected.withLock { $0.append("finish p-\(pipeline): \(reply.status) \(reply.text)") }
                            }
                        }
                    } catch {
                        unexpected.withLock { $0.append("\(operations[index]): \(error)") }
                    }
                }
            }.start()
        }
        load.wait()
        #expect(unexpected.withLock { $0 } == [], "\(nginx.errorLog)")
        #expect(finished.withLock { $0 } == Self.pipelineCount)

        // Every acknowledged task is stored; nothing refused is.
        let stored = Set(try rows("SELECT id FROM cicd_tasks WHERE _raw_data_params = $1", [String(connectionId)]).compactMap { $0[0] })
        #expect(stored == acknowledged.withLock { $0 })
        #expect(stored.isDisjoint(with: refused.withLock { $0 }))
        #expect(stored.count + refused.withLock { $0.count } == Self.pipelineCount * Self.tasksPerPipeline)

        // Every pipeline is DONE, with the result, type and environment derived from its stored tasks.
        #expect(try rows(
            "SELECT count(*) FROM cicd_pipelines WHERE _raw_data_params = $1 AND status = 'DONE'",
            [String(connectionId)]).first?[0] == String(Self.pipelineCount))
        let mismatches = try rows(ConcurrencyTests.derivedResultMismatches, [String(connectionId)])
        #expect(mismatches.isEmpty, "\(mismatches.map { "\($0[0] ?? "") \($0[1] ?? "")/\($0[3] ?? "")/\($0[5] ?? "") vs \($0[2] ?? "")/\($0[4] ?? "")/\($0[6] ?? "") open: \($0[7] ?? "")" })")

        // Both instances served the load, and between them every request exactly once.
        let served = zip([a, b].map { Self.ingestRequestLines($0) }, requestsBefore).map { $0 - $1 }
        #expect(served.allSatisfy { $0 > 0 }, "requests per instance: \(served)")
        #expect(served.reduce(0, +) == sent.withLock { $0 }, "requests per instance: \(served), sent: \(sent.withLock { $0 })")
        withExtendedLifetime(database) {}  // the server stops when it is released
    }

    /// The `"msg":"request"` lines of ingest routes in an instance's log.
    static func ingestRequestLines(_ instance: LakehookProcess) -> Int {
        instance.logLines.filter { $0.string("msg") == "request" && ($0.string("route") ?? "").hasPrefix("/api/plugins/webhook/") }.count
    }
}
