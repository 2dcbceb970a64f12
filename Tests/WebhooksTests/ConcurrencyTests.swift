import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// API.md §4–§5: tasks and finishes of the same pipelines, arriving at once, are serialised on
/// the pipeline row, so a finished pipeline's result always matches its stored tasks.
@Suite("Concurrent tasks and finishes")
struct ConcurrencyTests {
    @Test("20 client threads posting tasks while finishes arrive leave every pipeline consistent with its tasks")
    func tasksRacingFinishes() throws {
        let server = TestServer.shared
        let (connection, key) = try server.newConnection("race")
        let base = "/api/plugins/webhook/\(connection.id)"
        let pipelines = (0..<12).map { "pipe-\($0)" }
        let results = ["SUCCESS", "SUCCESS", "SUCCESS", "FAILURE", "ABORT", "IN_PROGRESS"]
        let acknowledged = Shared<Set<String>>([])
        let refused = Shared<Int>(0)
        let unexpected = Shared<[String]>([])

        func run(_ threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
            let group = DispatchGroup()
            for index in 0..<threads {
                group.enter()
                let thread = Thread { body(index); group.leave() }
                thread.start()
            }
            group.wait()
        }

        run(21) { worker in
            if worker == 20 {
                // The finisher: finishes pipelines one by one while tasks keep arriving.
                // A pipeline not created yet answers 404; try again until its first task is in.
                for pipeline in pipelines {
                    usleep(useconds_t(Int.random(in: 5_000...30_000)))
                    var status = 0
                    for _ in 0..<200 where status != 200 {
                        status = (try? server.post("\(base)/cicd_pipeline/\(pipeline)/finish", key: key))?.status ?? 0
                        if status == 404 { usleep(5_000) } else if status != 200 { break }
                    }
                    if status != 200 { unexpected.withLock { $0.append("finish \(pipeline): \(status)") } }
                }
                return
            }
            for n in 0..<15 {
                let pipeline = pipelines[(worker + n) % pipelines.count]
                let name = "t\(worker)-\(n)"
                let result = results[(worker * 7 + n) % results.count]
                let status = result == "IN_PROGRESS" ? "IN_PROGRESS" : "DONE"
                let body = #"{"pipeline_name":"\#(pipeline)","name":"\#(name)","result":"\#(result)","status":"\#(status)","type":"\#(n % 2 == 0 ? "BUILD" : "TEST")","environment":"\#(n % 3 == 0 ? "STAGING" : "TESTING")","started_date":"2024-01-01T10:\#(String(format: "%02d", n)):00Z","finished_date":"2024-01-01T11:\#(String(format: "%02d", worker)):00Z","repo_id":"r"}"#
                do {
                    let reply = try server.post("\(base)/cicd_tasks", body, key: key)
                    switch reply.status {
                    case 200: acknowledged.withLock { _ = $0.insert(connection.rowId("\(pipeline):\(name)")) }
                    case 403: refused.withLock { $0 += 1 }
                    default: unexpected.withLock { $0.append("task: \(reply.status) \(reply.text)") }
                    }
                } catch {
                    unexpected.withLock { $0.append("task: \(error)") }
                }
            }
        }
        #expect(unexpected.withLock { $0 } == [])

        // Every acknowledged task is stored, and nothing refused is.
        let stored = Set(try LakehookDatabase.rows(
            "SELECT id FROM cicd_tasks WHERE _raw_data_params = $1", [connection.rawDataParams]).compactMap { $0[0] })
        #expect(stored == acknowledged.withLock { $0 })
        #expect(acknowledged.withLock { $0.count } + refused.withLock { $0 } == 20 * 15)

        // Every finished pipeline's result is the one derived from its stored tasks.
        let mismatches = try LakehookDatabase.rows(Self.derivedResultMismatches, [connection.rawDataParams])
        #expect(mismatches.isEmpty, "\(mismatches.map { "\($0[0] ?? "") \($0[1] ?? "") vs \($0[2] ?? "")" })")
        #expect(try LakehookDatabase.count(
            "SELECT count(*) FROM cicd_pipelines WHERE _raw_data_params = $1 AND status = 'DONE'",
            [connection.rawDataParams]) == pipelines.count)
    }

    /// A DONE pipeline whose result, type or environment differs from
    /// the derivation from its stored tasks, or that still has an open task.
    static let derivedResultMismatches = """
        SELECT p.id, p.result, d.result AS derived, p.type, d.type AS derived_type,
               p.environment, d.environment AS derived_environment, d.open_tasks
        FROM cicd_pipelines p
        JOIN LATERAL (
            SELECT CASE WHEN bool_or(t.result = 'ABORT') THEN 'ABORT'
                        WHEN bool_or(t.result = 'FAILURE') THEN 'FAILURE' ELSE 'SUCCESS' END AS result,
                   CASE WHEN count(DISTINCT t.type) = 1 THEN min(t.type) ELSE '' END AS type,
                   CASE WHEN bool_or(t.environment = 'PRODUCTION') THEN 'PRODUCTION'
                        WHEN bool_or(t.environment = 'STAGING') THEN 'STAGING'
                        WHEN bool_or(t.environment = 'TESTING') THEN 'TESTING' ELSE 'DEVELOPMENT' END AS environment,
                   bool_or(t.status <> 'DONE' OR t.result = 'IN_PROGRESS') AS open_tasks
            FROM cicd_tasks t WHERE t.pipeline_id = p.id
        ) d ON true
        WHERE p._raw_data_params = $1 AND p.status = 'DONE'
          AND (p.result <> d.result OR p.type <> d.type OR p.environment <> d.environment OR d.open_tasks)
        """
}
