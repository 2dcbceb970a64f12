import Foundation
import Glibc
import Testing
@testable import Postgres
import TestSupport

/// Tier 4: a real PostgreSQL from the PG* variables. Each test has its own pipelined connection
/// and only temp tables (dropped with the session), so tests can run in parallel.
@Suite("PipelinedConnection")
struct PipelinedConnectionTests {
    @Test("results come back in order, each built as PostgresConnection.query builds it")
    func inOrder() throws {
        let pipeline = try PipelinedConnection(config: TestDatabase.config())
        #expect(pipeline.socket >= 0 && pipeline.backendPID > 0 && !pipeline.isBroken)
        let sql = "SELECT $1::int * 2 AS doubled, $2::text AS label, NULL::text AS nothing"
        let outcomes = Outcomes()
        for index in 0..<200 {
            pipeline.enqueue(sql, [String(index), index % 3 == 0 ? nil : "row \(index)"], completion: outcomes.recorder(index))
        }
        // A completion may enqueue; the follow-up completes after everything before it.
        pipeline.enqueue("SELECT 'first' AS word", []) { result in
            outcomes.record(200, result)
            pipeline.enqueue("SELECT 'follow-up' AS word", [], completion: outcomes.recorder(201))
        }
        #expect(pipeline.inFlight == 201)
        try drive(pipeline)
        #expect(pipeline.inFlight == 0)
        #expect(outcomes.order == Array(0...201))
        #expect(outcomes.calls.values.allSatisfy { $0 == 1 })

        let plain = try TestDatabase.connect()
        for index in [0, 1, 2, 199] {
            let binds: [String?] = [String(index), index % 3 == 0 ? nil : "row \(index)"]
            let expected = try plain.query(sql, binds)
            let result = try outcomes.result(index)
            #expect(result.columns == expected.columns && result.columns == ["doubled", "label", "nothing"])
            #expect(result.rows.map(\.values) == expected.rows.map(\.values))
            #expect(result.rows.first?["doubled"] == String(index * 2))
            #expect(result.commandTag == expected.commandTag && result.affectedRows == expected.affectedRows)
        }
        #expect(try outcomes.result(201).rows.first?["word"] == "follow-up")
        let prepared = try query(pipeline, "SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1", [sql])
        #expect(prepared.rows.first?["n"] == "1")
    }

    @Test("a server error fails only its own statement, with the error query would throw")
    func failureIsolated() throws {
        let pipeline = try PipelinedConnection(config: TestDatabase.config())
        let outcomes = Outcomes()
        let statements: [(String, [String?])] = [
            ("CREATE TEMP TABLE uniq (id int CONSTRAINT pipeline_uniq_key UNIQUE)", []),
            ("INSERT INTO uniq VALUES ($1::int)", ["7"]),
            ("INSERT INTO uniq VALUES ($1::int)", ["7"]),
            ("INSERT INTO uniq VALUES ($1::int)", ["8"]),
            ("SELECT 1 / $1::int AS quotient", ["0"]),
            ("SELEC 1", []),
            ("SELECT count(*)::int AS n FROM uniq", []),
        ]
        for (index, (sql, binds)) in statements.enumerated() {
            pipeline.enqueue(sql, binds, completion: outcomes.recorder(index))
        }
        try drive(pipeline)
        #expect(outcomes.order == Array(0..<statements.count))
        #expect(try outcomes.result(1).commandTag == "INSERT 0 1")
        let duplicate = try #require(outcomes.error(2))
        #expect(duplicate.kind == .server && duplicate.sqlState == "23505")
        #expect(duplicate.constraint == "pipeline_uniq_key")
        #expect(duplicate.detail == "Key (id)=(7) already exists.")
        #expect(!duplicate.connectionBroken && !duplicate.isUnavailable)
        #expect(duplicate.file.hasSuffix("PipelinedConnectionTests.swift") && duplicate.line > 0)
        #expect(try outcomes.result(3).affectedRows == 1)
        #expect(outcomes.error(4)?.sqlState == "22012")
        #expect(outcomes.error(5)?.sqlState == "42601")
        #expect(try outcomes.result(6).rows.first?["n"] == "2")
        #expect(!pipeline.isBroken)
    }

    @Test("a cached statement whose result type changed (0A000) is prepared again and retried once, in its place")
    func resultTypeChanged() throws {
        let pipeline = try PipelinedConnection(config: TestDatabase.config())
        let outcomes = Outcomes()
        // All in one pipeline: the second SELECT * runs the statement prepared for the first.
        pipeline.enqueue("CREATE TEMP TABLE shapes (a int)", [], completion: outcomes.recorder(0))
        pipeline.enqueue("INSERT INTO shapes VALUES (1)", [], completion: outcomes.recorder(1))
        pipeline.enqueue("SELECT * FROM shapes", [], completion: outcomes.recorder(2))
        pipeline.enqueue("ALTER TABLE shapes ADD COLUMN b text DEFAULT 'x'", [], completion: outcomes.recorder(3))
        pipeline.enqueue("SELECT * FROM shapes", [], completion: outcomes.recorder(4))
        pipeline.enqueue("SELECT 'after' AS word", [], completion: outcomes.recorder(5))
        // Flushing only when asked, as LoopPipeline does: the retry asks (else it would wait,
        // corked, for a flush that nothing else calls).
        // The retry's own flush request is counted: without it the statement would still run,
        // late, when the kernel lets the cork go (200 ms), which only a clock could tell.
        var retryFlushes = 0
        try drive(pipeline, flushesEveryRead: false, retryFlushes: &retryFlushes)
        #expect(retryFlushes == 1)
        #expect(try outcomes.result(2).columns == ["a"])
        let retried = try outcomes.result(4)
        #expect(retried.columns == ["a", "b"])
        #expect(retried.rows.first?["b"] == "x")
        #expect(outcomes.order == Array(0...5))
    }

    @Test("a statement deallocated behind the cache (26000) is prepared again and retried once")
    func deallocated() throws {
        let pipeline = try PipelinedConnection(config: TestDatabase.config())
        let outcomes = Outcomes()
        pipeline.enqueue("SELECT 41 + $1::int AS answer", ["1"], completion: outcomes.recorder(0))
        pipeline.enqueue("DEALLOCATE ALL", [], completion: outcomes.recorder(1))
        pipeline.enqueue("SELECT 41 + $1::int AS answer", ["1"], completion: outcomes.recorder(2))
        pipeline.enqueue("SELECT 41 + $1::int AS answer", ["2"], completion: outcomes.recorder(3))
        try drive(pipeline)
        #expect(outcomes.order == Array(0...3))
        #expect(try outcomes.result(0).rows.first?["answer"] == "42")
        #expect(try outcomes.result(2).rows.first?["answer"] == "42")
        #expect(try outcomes.result(3).rows.first?["answer"] == "43")
    }

    @Test("a terminated backend completes every statement in flight, once, with connectionLost")
    func terminated() throws {
        let pipeline = try PipelinedConnection(config: TestDatabase.config())
        let outcomes = Outcomes()
        pipeline.enqueue("SELECT pg_sleep(10)", [], completion: outcomes.recorder(0))
        for index in 1...3 {
            pipeline.enqueue("SELECT $1::int AS n", [String(index)], completion: outcomes.recorder(index))
        }
        while pipeline.flush() { usleep(1_000) }
        try TestDatabase.terminate(pid: pipeline.backendPID)
        try drive(pipeline)
        #expect(pipeline.isBroken && pipeline.inFlight == 0 && pipeline.socket == -1)
        #expect(outcomes.order == Array(0...3))
        #expect(outcomes.calls.values.allSatisfy { $0 == 1 })
        for index in 0...3 {
            let error = try #require(outcomes.error(index))
            #expect(error.kind == .connectionLost && error.connectionBroken && error.isUnavailable)
        }

        var later: Result<PostgresResult, PostgresError>?
        pipeline.enqueue("SELECT 1", []) { later = $0 }
        let error = try #require(laterError(later))  // completed before enqueue returned
        #expect(error.kind == .connectionLost && error.connectionBroken)
        #expect(pipeline.inFlight == 0)
    }

    @Test("a full statement cache is emptied with DEALLOCATE ALL without disturbing statements in flight")
    func cacheBounded() throws {
        let pipeline = try PipelinedConnection(config: TestDatabase.config(), statementCacheCapacity: 3, file: #fileID, line: #line)
        let outcomes = Outcomes()
        // Two rounds of 12 distinct statements, all queued before anything is sent.
        for index in 0..<24 {
            pipeline.enqueue("SELECT \(index % 12) + $1::int AS v", ["100"], completion: outcomes.recorder(index))
        }
        try drive(pipeline)
        #expect(outcomes.order == Array(0..<24))
        for index in 0..<24 {
            #expect(try outcomes.result(index).rows.first?["v"] == String(100 + index % 12))
        }
        let count = try query(pipeline, "SELECT count(*)::int AS n FROM pg_prepared_statements", [])
        let prepared = try #require(Int(count.rows.first?["n"] ?? ""))
        #expect(prepared >= 1 && prepared <= 3)
        #expect(pipeline.statements.count <= 3)
    }

    @Test("a NUL byte in a parameter completes at once with invalidParameter and sends nothing")
    func nulParameter() throws {
        let pipeline = try PipelinedConnection(config: TestDatabase.config())
        var immediate: Result<PostgresResult, PostgresError>?
        pipeline.enqueue("SELECT $1::text, $2::text", ["fine", "bad\u{0}tail"]) { immediate = $0 }
        let error = try #require(laterError(immediate))
        #expect(error.kind == .invalidParameter && error.message.contains("$2"))
        #expect(pipeline.inFlight == 0 && !pipeline.isBroken)
        #expect(try query(pipeline, "SELECT $1::text AS t", ["fine"]).rows.first?["t"] == "fine")
    }

    @Test("COPY fails its statement with protocolViolation and gives the connection up")
    func copyRefused() throws {
        let pipeline = try PipelinedConnection(config: TestDatabase.config())
        let outcomes = Outcomes()
        pipeline.enqueue("SELECT 1 AS one", [], completion: outcomes.recorder(0))
        pipeline.enqueue("COPY (SELECT 1) TO STDOUT", [], completion: outcomes.recorder(1))
        pipeline.enqueue("SELECT 2 AS two", [], completion: outcomes.recorder(2))
        try drive(pipeline)
        #expect(outcomes.order == Array(0...2))
        #expect(try outcomes.result(0).rows.first?["one"] == "1")
        #expect(outcomes.error(1)?.kind == .protocolViolation)
        #expect(outcomes.error(2)?.kind == .connectionLost)
        #expect(pipeline.isBroken)
    }

    @Test("statements enqueued between flushes stay on the client and reach the server together at flush()")
    func heldUntilFlush() throws {
        let pipeline = try PipelinedConnection(config: TestDatabase.config())
        let plain = try TestDatabase.connect()
        let name = TestDatabase.uniqueName("held")
        let outcomes = Outcomes()
        // libpq 15 sends each PQpipelineSync at once; the connection corks its socket instead.
        pipeline.enqueue("SELECT set_config('application_name', $1, false) AS name", [name], completion: outcomes.recorder(0))
        pipeline.enqueue("SELECT 2 AS two", [], completion: outcomes.recorder(1))
        usleep(50_000)
        let sql = "SELECT application_name FROM pg_stat_activity WHERE pid = $1::int"
        let before = try plain.query(sql, [String(pipeline.backendPID)])
        #expect(before.rows.first?["application_name"] != name)
        try drive(pipeline)
        #expect(try outcomes.result(1).rows.first?["two"] == "2")
        let after = try plain.query(sql, [String(pipeline.backendPID)])
        #expect(after.rows.first?["application_name"] == name)
    }

    @Test("1,000 statements queued before one flush all complete, with flush asked again on writability")
    func manyInFlight() throws {
        let pipeline = try PipelinedConnection(config: TestDatabase.config())
        let outcomes = Outcomes()
        let payload = String(repeating: "0123456789abcdef", count: 1_024)  // 16 KiB: 16 MB in all
        // The server's backend first waits for a lock held here, so it reads nothing until the
        // lock is released: the socket buffers fill up whatever the machine's speed.
        let holder = try TestDatabase.connect()
        let lockKey = String(Int.random(in: 1...1_000_000_000))
        try holder.query("SELECT pg_advisory_lock($1::bigint)", [lockKey])
        pipeline.enqueue("SELECT pg_advisory_lock($1::bigint)", [lockKey]) { _ in }
        for index in 0..<1_000 {
            pipeline.enqueue(
                "SELECT $1::int AS n, length($2::text) AS size",
                [String(index), payload],
                completion: outcomes.recorder(index)
            )
        }
        #expect(pipeline.inFlight == 1_001)
        #expect(pipeline.flush())  // the socket buffers are full: libpq still holds output
        try holder.query("SELECT pg_advisory_unlock($1::bigint)", [lockKey])
        try drive(pipeline)
        #expect(outcomes.order == Array(0..<1_000))
        for index in 0..<1_000 {
            let row = try #require(try outcomes.result(index).rows.first)
            #expect(row["n"] == String(index) && row["size"] == String(payload.utf8.count))
        }
    }

    @Test("close completes every statement in flight with connectionLost, once, and is idempotent")
    func close() throws {
        let pipeline = try PipelinedConnection(config: TestDatabase.config())
        let outcomes = Outcomes()
        for index in 0..<5 {
            pipeline.enqueue("SELECT $1::int AS n", [String(index)], completion: outcomes.recorder(index))
        }
        pipeline.flush()
        pipeline.close()
        pipeline.close()
        #expect(pipeline.isBroken && pipeline.inFlight == 0)
        #expect(outcomes.order == Array(0..<5))
        #expect(outcomes.calls.values.allSatisfy { $0 == 1 })
        for index in 0..<5 {
            let error = try #require(outcomes.error(index))
            #expect(error.kind == .connectionLost && error.connectionBroken)
        }
        var later: Result<PostgresResult, PostgresError>?
        pipeline.enqueue("SELECT 1", []) { later = $0 }
        #expect(laterError(later)?.kind == .connectionLost)
    }
}

// MARK: - Driving the pipeline as an event loop would

/// Loops with `poll(2)` on the connection's socket — POLLIN always, POLLOUT while `flush()`
/// returned true — until nothing is in flight. Flushes after each read too, since completions
/// may enqueue; with `flushesEveryRead` false only when `needsFlush` asks, as `LoopPipeline`
/// does (each such flush counts in `retryFlushes`). Returns how many times `flush()` returned
/// true.
@discardableResult
func drive(
    _ pipeline: PipelinedConnection, timeout: Duration = .seconds(60),
    flushesEveryRead: Bool = true, retryFlushes: UnsafeMutablePointer<Int>? = nil
) throws -> Int {
    let deadline = ContinuousClock.now + timeout
    var pendingFlushes = 0
    var wantsWrite = pipeline.flush()
    if wantsWrite { pendingFlushes += 1 }
    while pipeline.inFlight > 0 {
        guard ContinuousClock.now < deadline else { throw DriveTimedOut(inFlight: pipeline.inFlight) }
        var descriptor = pollfd(
            fd: pipeline.socket,
            events: Int16(POLLIN) | (wantsWrite ? Int16(POLLOUT) : 0),
            revents: 0
        )
        let ready = poll(&descriptor, 1, 100)
        if ready < 0 && errno != EINTR { throw DriveTimedOut(inFlight: pipeline.inFlight) }
        guard ready > 0 else { continue }
        if descriptor.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            pipeline.readable()
            if !flushesEveryRead, pipeline.needsFlush {
                retryFlushes?.pointee += 1
                wantsWrite = pipeline.flush()
                if wantsWrite { pendingFlushes += 1 }
            }
        }
        if descriptor.revents & Int16(POLLOUT) != 0 || (flushesEveryRead && !wantsWrite) {
            wantsWrite = pipeline.flush()
            if wantsWrite { pendingFlushes += 1 }
        }
    }
    return pendingFlushes
}

struct DriveTimedOut: Error {
    let inFlight: Int
}

/// One statement through the pipeline, waited for.
func query(_ pipeline: PipelinedConnection, _ sql: String, _ binds: [String?]) throws -> PostgresResult {
    var outcome: Result<PostgresResult, PostgresError>?
    pipeline.enqueue(sql, binds) { outcome = $0 }
    try drive(pipeline)
    return try #require(outcome).get()
}

/// The error of a completion that ran, or nil.
func laterError(_ outcome: Result<PostgresResult, PostgresError>?) -> PostgresError? {
    guard case .failure(let error) = outcome else { return nil }
    return error
}

/// What each completion received, in the order they ran.
final class Outcomes {
    private(set) var order: [Int] = []
    private(set) var calls: [Int: Int] = [:]
    private var outcomes: [Int: Result<PostgresResult, PostgresError>] = [:]

    func record(_ index: Int, _ outcome: Result<PostgresResult, PostgresError>) {
        order.append(index)
        calls[index, default: 0] += 1
        outcomes[index] = outcome
    }

    func recorder(_ index: Int) -> (Result<PostgresResult, PostgresError>) -> Void {
        { self.record(index, $0) }
    }

    func result(_ index: Int) throws -> PostgresResult {
        try #require(outcomes[index]).get()
    }

    func error(_ index: Int) -> PostgresError? { laterError(outcomes[index]) }
}
