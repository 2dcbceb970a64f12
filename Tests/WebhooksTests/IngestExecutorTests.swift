import Foundation
import Testing
@testable import Webhooks

/// Issue 14: `IngestExecutor` decides where every write runs — the loop's pipelined
/// connections, else the pool with a counted reason — whatever way the request was
/// authenticated. (The pipeline's own choices are PipelineStateTests'.)
@Suite("IngestExecutor: where each write runs")
struct IngestExecutorTests {
    @Test("a key not cached is looked up on a handler thread and the write still goes through the loop's pipeline")
    func uncachedKeyStillPipelined() throws {
        let own = try PipelineServer(pipeline: true)
        defer { own.stop() }
        let (warm, warmKey) = try own.newConnection("executor-warm")
        try own.warmPipeline(base: "/api/plugins/webhook/\(warm.id)", key: warmKey)
        // A second connection whose key this instance has never seen (the server has no head
        // stage here, so nothing cached it before the request arrived).
        let (fresh, freshKey) = try own.newConnection("executor-fresh")
        let before = try own.writes()
        let reply = try own.post("/api/plugins/webhook/\(fresh.id)/issues", RoutesTests.issue("UNCACHED"), key: freshKey)
        #expect(reply.status == 200, "\(reply.text)")
        let after = try own.writes()
        // Before the executor, an uncached key sent the whole request to the pool (decoded twice).
        #expect(after.pipeline - before.pipeline == 1)
        #expect(after.pool == before.pool)
        #expect(try LakehookDatabase.value("SELECT title FROM issues WHERE id = $1", [fresh.rowId("UNCACHED")]) == "t")
        // A wrong key is refused from the lookup too, and writes nothing.
        let refused = try own.post("/api/plugins/webhook/\(fresh.id)/issues", RoutesTests.issue("WRONG"), key: warmKey)
        #expect(refused.status == 401 || refused.status == 403, "\(refused.status) \(refused.text)")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM issues WHERE id = $1", [fresh.rowId("WRONG")]) == 0)
    }

    @Test("a pipeline finish (several statements) runs in one transaction on the pool")
    func finishRunsOnThePool() throws {
        let own = try PipelineServer(pipeline: true)
        defer { own.stop() }
        let (connection, key) = try own.newConnection("executor-finish")
        let base = "/api/plugins/webhook/\(connection.id)"
        try own.warmPipeline(base: base, key: key)
        let task = #"{"pipeline_name":"EX-1","name":"t","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-01T00:00:00Z","repo_id":"r"}"#
        #expect(try own.post("\(base)/cicd_tasks", task, key: key).status == 200)
        let before = try own.writes()
        #expect(try own.post("\(base)/cicd_pipeline/EX-1/finish", key: key).status == 200)
        let after = try own.writes()
        #expect(after.pool - before.pool == 1)
        #expect(after.pipeline == before.pipeline)
    }

    @Test("the first write of a cold loop goes to the pool as not_connected, and pipelining off sends all to the pool uncounted")
    func fallbackReasons() throws {
        let cold = try PipelineServer(pipeline: true)
        defer { cold.stop() }
        let (connection, key) = try cold.newConnection("executor-cold")
        #expect(try cold.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("COLD"), key: key).status == 200)
        #expect(try cold.fallbacks(.notConnected) == 1)
        #expect(try cold.writes().pool == 1)

        let off = try PipelineServer(pipeline: false)
        defer { off.stop() }
        let (other, otherKey) = try off.newConnection("executor-off")
        for n in 0..<3 {
            #expect(try off.post("/api/plugins/webhook/\(other.id)/issues", RoutesTests.issue("OFF-\(n)"), key: otherKey).status == 200)
        }
        #expect(try off.writes() == (pipeline: 0, pool: 3))
        for reason in PipelineState.PoolReason.allCases { #expect(try off.fallbacks(reason) == 0, "\(reason)") }
    }
}
