import Concurrency
import Foundation
@testable import HTTP
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// Issue 14: one pipelined connection commits its statements one after the other, each waiting
/// for its own disk flush (612 issues/s on a 1 ms flush, against pgbench's 4,446 with 16
/// clients). A loop now opens more connections as statements queue up, so that PostgreSQL can
/// flush several commits at once, and keeps one when the load is light.
@Suite("LoopPipeline: connections opened as load rises")
struct LoopPipelineGrowthTests {
    /// Runs `body` on a fresh loop with a pipeline of at most `maxConnections`.
    static func withPipeline(maxConnections: Int, _ body: (EventLoop, LoopPipeline) throws -> Void) throws {
        let loop = try EventLoop(index: 0)
        loop.start()
        defer { loop.stop() }
        // The test database runs with fsync off, where a loop keeps one connection: these tests
        // are about growing, so the pipeline grows as on a disk that flushes.
        let pipeline = LoopPipeline(
            loop: loop, config: TestDatabase.config(), maxConnections: maxConnections, growsOnlyWhenCommitsFlush: false)
        try body(loop, pipeline)
    }

    /// Submits `sql` on the loop; true when the pipeline took it. `done` runs with its outcome.
    static func submit(
        _ loop: EventLoop, _ pipeline: LoopPipeline, _ sql: String,
        done: @escaping @Sendable (Result<PostgresResult, PostgresError>) -> Void
    ) -> Bool {
        let taken = Locked(false)
        let answered = DispatchSemaphore(value: 0)
        loop.execute {
            taken.withLock { $0 = pipeline.submit(sql, []) { done($0) } == nil }
            answered.signal()
        }
        answered.wait()
        return taken.withLock { $0 }
    }

    static func connectionCount(_ loop: EventLoop, _ pipeline: LoopPipeline) -> Int {
        let count = Locked(0)
        let read = DispatchSemaphore(value: 0)
        loop.execute { count.withLock { $0 = pipeline.connectionCount }; read.signal() }
        read.wait()
        return count.withLock { $0 }
    }

    /// Submits until the first connection is up (the first submit starts connecting).
    static func connect(_ loop: EventLoop, _ pipeline: LoopPipeline) throws {
        // ...and waits for that statement's answer, so the tests start with nothing in flight.
        let answered = DispatchSemaphore(value: 0)
        try waitUntil(timeout: 10) { submit(loop, pipeline, "SELECT 1") { _ in answered.signal() } }
        _ = answered.wait(timeout: .now() + 5)
    }

    @Test("statements that queue up (200 ms each) open more connections, up to the cap, and all succeed side by side")
    func queuedStatementsOpenMoreConnections() throws {
        try Self.withPipeline(maxConnections: 4) { loop, pipeline in
            try Self.connect(loop, pipeline)
            /// Each statement's server session and when it ran there (seconds, the server's clock).
            struct Run { var pid: String; var start: Double; var end: Double }
            let runs = Locked<[Run]>([]), failed = Locked<[String]>([])
            var taken = 0
            // 40 statements of 200 ms, submitted 20 ms apart: one connection would run them one
            // after the other for 8 s.
            let sql = """
                SELECT pg_backend_pid()::text AS pid, extract(epoch FROM statement_timestamp())::text AS start,
                       extract(epoch FROM clock_timestamp())::text AS finish FROM pg_sleep(0.2)
                """
            for _ in 0..<40 {
                if Self.submit(loop, pipeline, sql, done: { result in
                    switch result {
                    case .success(let result):
                        let row = result.rows[0]
                        let run = Run(pid: row["pid"] ?? "", start: Double(row["start"] ?? "") ?? 0, end: Double(row["finish"] ?? "") ?? 0)
                        runs.withLock { $0.append(run) }
                    case .failure(let error): failed.withLock { $0.append(error.description) }
                    }
                }) { taken += 1 }
                usleep(20_000)
            }
            try waitUntil(timeout: 60) { runs.withLock { $0.count } + failed.withLock { $0.count } == taken }
            #expect(failed.withLock { $0 }.isEmpty, "\(failed.withLock { $0 })")
            #expect(taken >= 36, "the pipeline refused \(40 - taken) statements")
            #expect(Self.connectionCount(loop, pipeline) == 4)
            // Side by side, told by the server's own clock, not the test's wall clock: sessions
            // ran statements at the same time. One connection's runs never overlap.
            let all = runs.withLock { $0 }
            // (A connection that came up after the last submit may have run none of them.)
            #expect(Set(all.map(\.pid)).count >= 2, "sessions used: \(Set(all.map(\.pid)))")
            let overlapping = all.contains { a in all.contains { b in a.pid != b.pid && a.start < b.end && b.start < a.end } }
            #expect(overlapping, "no two statements ran at the same time")
        }
    }

    @Test("statements sent one at a time keep a single connection")
    func lightLoadKeepsOneConnection() throws {
        try Self.withPipeline(maxConnections: 4) { loop, pipeline in
            try Self.connect(loop, pipeline)
            for _ in 0..<30 {
                let done = DispatchSemaphore(value: 0)
                #expect(Self.submit(loop, pipeline, "SELECT 1") { _ in done.signal() })
                #expect(done.wait(timeout: .now() + 5) == .success)
            }
            #expect(Self.connectionCount(loop, pipeline) == 1)
        }
    }

    @Test("against a server whose commits do not flush (the test database: fsync off) queued statements keep one connection")
    func noFlushKeepsOneConnection() throws {
        let loop = try EventLoop(index: 0)
        loop.start()
        defer { loop.stop() }
        let pipeline = LoopPipeline(loop: loop, config: TestDatabase.config(), maxConnections: 4)
        try Self.connect(loop, pipeline)
        let done = Locked(0)
        var taken = 0
        for _ in 0..<20 {
            if Self.submit(loop, pipeline, "SELECT pg_sleep(0.05)", done: { _ in done.withLock { $0 += 1 } }) { taken += 1 }
        }
        try waitUntil(timeout: 10) { done.withLock { $0 } == taken }
        #expect(taken == 20)
        #expect(Self.connectionCount(loop, pipeline) == 1)
    }
}
