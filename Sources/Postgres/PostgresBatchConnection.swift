import CLibPQ
import Glibc

/// One libpq connection that runs statements a batch at a time: a batch goes to the server as one
/// pipeline (libpq's pipeline mode) with a single sync point at its end, and the call blocks until
/// every result is in. The server runs the statements back to back, with no round trip between
/// them, and answers in a few large writes instead of one per statement (`PipelinedConnection`
/// syncs after each statement, which a request-per-statement server needs; a bulk load does not).
///
/// One sync point means one segment: a statement that fails makes the server skip the rest of
/// the batch (they come back as `skipped`), and inside an explicit `BEGIN` leaves the transaction
/// aborted for the caller to roll back. Statements are prepared once per connection under a
/// generated name (`PreparedStatementCache`), the `PQsendPrepare` going into the pipeline right
/// before its first execution, as `PostgresConnection.query` does.
///
/// Thread safety: used by one thread at a time (libpq's rule), which is why `@unchecked Sendable`
/// is sound here.
public final class PostgresBatchConnection: @unchecked Sendable {
    private let handle: ConnectionHandle
    private var statements: PreparedStatementCache

    /// Connects (blocking), applies the session settings of `PostgresConnection`, then switches
    /// to non-blocking pipeline mode. Throws `PostgresError(kind: .connectionFailed)`.
    public init(config: PostgresConfig, file: String = #fileID, line: Int = #line) throws {
        let handle = try ConnectionHandle.connect(config: config, file: file, line: line)
        guard PQsetnonblocking(handle.pointer, 1) == 0, PQenterPipelineMode(handle.pointer) == 1 else {
            throw PostgresError(
                kind: .connectionFailed, message: "could not enter pipeline mode: \(handle.errorMessage)", file: file, line: line)
        }
        self.handle = consume handle
        statements = PreparedStatementCache()
    }

    /// What a statement of a batch came to.
    public enum Outcome: Sendable {
        case success(PostgresResult)
        case failure(PostgresError)
        /// Not run: an earlier statement of the batch failed.
        case skipped
    }

    /// Runs `batch` as one pipeline and returns each statement's outcome, in order. Throws when
    /// the connection is lost (every statement's fate is then unknown) or a parameter cannot be
    /// sent (NUL byte; nothing was sent).
    public func run(_ batch: [(sql: String, binds: [String?])], file: String = #fileID, line: Int = #line) throws -> [Outcome] {
        guard !batch.isEmpty else { return [] }
        for (sql, binds) in batch {
            if let index = CStringArray.firstIndexWithNUL(binds) {
                throw PostgresError(
                    kind: .invalidParameter, message: "parameter $\(index + 1) contains a NUL byte, which a PostgreSQL text value cannot hold",
                    file: file, line: line)
            }
            if statements.name(for: sql) == nil, sql.utf8.contains(0) {
                throw PostgresError(kind: .invalidParameter, message: "the SQL text contains a NUL byte", file: file, line: line)
            }
        }
        var unprepared = Set<String>()
        for (sql, _) in batch where statements.name(for: sql) == nil { unprepared.insert(sql) }
        guard unprepared.count <= statements.capacity else {
            throw PostgresError(
                kind: .invalidParameter, message: "a batch may hold at most \(statements.capacity) different statements",
                file: file, line: line)
        }
        if statements.count + unprepared.count > statements.capacity {
            // Every name is dropped before anything of this batch is sent (nothing is in flight).
            try send(file: file, line: line) { PQsendQueryParams($0, "DEALLOCATE ALL", 0, nil, nil, nil, nil, 0) }
            try send(file: file, line: line) { PQpipelineSync($0) }
            if case .failure(let error) = try receive(expecting: [Expected(sql: "DEALLOCATE ALL", prepares: false)], file: file, line: line)[0] {
                throw error
            }
            statements.removeAll()
        }
        var expected: [Expected] = []
        expected.reserveCapacity(batch.count)
        for (sql, binds) in batch {
            var prepares = false
            let name: String
            if let cached = statements.name(for: sql) {
                name = cached
            } else {
                name = statements.makeName()
                try send(file: file, line: line) { PQsendPrepare($0, name, sql, 0, nil) }
                statements.insert(name, for: sql)
                prepares = true
            }
            try send(file: file, line: line) { pointer in
                CStringArray.with(binds) { values in
                    PQsendQueryPrepared(pointer, name, Int32(clamping: binds.count), values, nil, nil, 0)
                }
            }
            expected.append(Expected(sql: sql, prepares: prepares))
        }
        try send(file: file, line: line) { PQpipelineSync($0) }
        return try receive(expecting: expected, file: file, line: line)
    }

    // MARK: - Internals

    private struct Expected {
        var sql: String
        /// Its `PQsendPrepare` precedes its execution in the pipeline.
        var prepares: Bool
    }

    private func send(file: String, line: Int, _ call: (OpaquePointer) -> Int32) throws {
        guard call(handle.pointer) == 1 else {
            throw handle.callError("could not queue the statement", file: file, line: line)
        }
    }

    /// Flushes what is queued while taking the results as they come: one per statement (after its
    /// PREPARE's, when it has one), each ended by a NULL, then the sync's.
    private func receive(expecting expected: [Expected], file: String, line: Int) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(expected.count)
        var preparing = expected.first?.prepares ?? false
        var prepareError: PostgresError?
        var wantsWrite = true
        var nullsInARow = 0
        while true {
            if wantsWrite {
                let flushed = PQflush(handle.pointer)
                guard flushed >= 0 else { throw handle.callError("could not send to the server", file: file, line: line) }
                wantsWrite = flushed == 1
            }
            while PQisBusy(handle.pointer) == 0 {
                let result = ResultHandle(taking: PQgetResult(handle.pointer))
                if result.isNull {
                    // One NULL ends a command's results; a second in a row means nothing is ready.
                    nullsInARow += 1
                    if nullsInARow > 1 { break }
                    continue
                }
                nullsInARow = 0
                let status = result.status
                if status == PGRES_PIPELINE_SYNC {
                    guard outcomes.count == expected.count else {
                        throw PostgresError(kind: .protocolViolation, message: "the batch's sync came before its results", file: file, line: line)
                    }
                    return outcomes
                }
                guard outcomes.count < expected.count else {
                    throw PostgresError(kind: .protocolViolation, message: "a result beyond the batch", file: file, line: line)
                }
                let sql = expected[outcomes.count].sql
                if preparing {
                    preparing = false
                    if !result.succeeded && status != PGRES_PIPELINE_ABORTED {
                        prepareError = serverError(result, file: file, line: line)
                        statements.remove(sql)
                    } else if status == PGRES_PIPELINE_ABORTED {
                        statements.remove(sql)  // never prepared: prepare it again next time
                    }
                    continue
                }
                if result.succeeded {
                    outcomes.append(.success(result.makeResult()))
                } else if status == PGRES_PIPELINE_ABORTED {
                    outcomes.append(prepareError.map(Outcome.failure) ?? .skipped)
                } else if status == PGRES_FATAL_ERROR {
                    let error = serverError(result, file: file, line: line)
                    if error.isStalePreparedStatement { statements.remove(sql) }
                    outcomes.append(.failure(error))
                } else {
                    throw PostgresError(
                        kind: .protocolViolation, message: "unexpected result status \(String(cString: PQresStatus(status))) in a batch",
                        connectionBroken: true, file: file, line: line)
                }
                prepareError = nil
                if outcomes.count < expected.count { preparing = expected[outcomes.count].prepares }
            }
            if handle.isBroken { throw handle.callError("the server closed the connection", file: file, line: line) }
            nullsInARow = 0
            var watched = pollfd(fd: PQsocket(handle.pointer), events: Int16(POLLIN) | (wantsWrite ? Int16(POLLOUT) : 0), revents: 0)
            if poll(&watched, 1, -1) < 0 && errno != EINTR {
                throw PostgresError(kind: .connectionLost, message: "poll failed: \(String(cString: strerror(errno)))", connectionBroken: true, file: file, line: line)
            }
            if watched.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 {
                guard PQconsumeInput(handle.pointer) == 1 else {
                    throw handle.callError("could not read from the server", file: file, line: line)
                }
            }
            if watched.revents & Int16(POLLOUT) != 0 { wantsWrite = true }
        }
    }

    private func serverError(_ result: borrowing ResultHandle, file: String, line: Int) -> PostgresError {
        let broken = handle.isBroken
        return result.error(kind: broken ? .connectionLost : .server, connectionBroken: broken, file: file, line: line)
    }
}
