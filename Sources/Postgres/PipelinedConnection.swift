import CLibPQ

/// One libpq connection in pipeline mode, driven by its owner's event loop: statements are
/// queued without waiting for the results of earlier ones, and no call blocks except `init`.
///
/// Every statement is sent as its own sync segment (`PQpipelineSync` after each), so each runs
/// in its own implicit transaction and a failing statement affects no other. Nothing reaches
/// the server before `flush()`, so what is enqueued in between goes out together. The owner
/// watches `socket`: readable → `readable()`, then `flush()` if `needsFlush`; writable while
/// the last `flush()` returned true → `flush()` again. Once `isBroken` is true libpq has closed
/// the socket; stop watching it.
///
/// Thread safety: confined to one thread — the owner's event loop — which makes every call and
/// on which every completion runs. Only `init` may run elsewhere, before the connection is
/// handed to the loop. libpq's rule (one thread at a time) is what that confinement keeps, and
/// why `@unchecked Sendable` is sound here.
public final class PipelinedConnection: @unchecked Sendable {
    /// nil once the connection broke or was closed (`PQfinish` has run).
    var handle: ConnectionHandle?
    /// Why statements fail once `handle` is nil.
    var lossMessage = ""
    var statements: PreparedStatementCache
    /// Every statement whose completion has not run, in enqueue order; completions run from the
    /// front as soon as the front has an outcome, so they run in that order.
    var waiters = PipelineQueue<PipelineWaiter>()
    /// What libpq will hand back next: one entry per sync segment, in the order they were sent.
    var segments = PipelineQueue<PipelineSegment>()
    /// Whether a commit on this connection waits for its WAL to reach the disk (`fsync` on and
    /// `synchronous_commit` not off), read when it connected. When it does not, commits cost only
    /// CPU and one connection's back-to-back statements are the cheapest way to run them.
    public let commitsWaitForFlush: Bool
    static let commitsWaitForFlushQuery =
        "SELECT current_setting('fsync') = 'on' AND current_setting('synchronous_commit') <> 'off'"
    /// Keeps what is sent in the kernel until `flush()` (see `OutputCork`).
    var cork: OutputCork
    /// A statement was sent again by the connection itself (a retry) since the last `flush()`.
    public internal(set) var needsFlush = false

    /// Connects (blocking — callers do this off the event loop), applies the same session
    /// settings as `PostgresConnection` (statement timeout, dropped notices), then switches the
    /// connection to non-blocking and pipeline mode. Throws
    /// `PostgresError(kind: .connectionFailed)`.
    public convenience init(config: PostgresConfig, file: String = #fileID, line: Int = #line) throws {
        try self.init(
            config: config,
            statementCacheCapacity: PreparedStatementCache.defaultCapacity,
            file: file,
            line: line
        )
    }

    /// As the public `init`, with a prepared statement cache of `statementCacheCapacity`.
    init(config: PostgresConfig, statementCacheCapacity: Int, file: String, line: Int) throws {
        let handle = try ConnectionHandle.connect(config: config, file: file, line: line)
        let flushes = ResultHandle(taking: PQexec(handle.pointer, Self.commitsWaitForFlushQuery))
        // Unknown (the query failed): assume the commits flush, as every deployment should.
        commitsWaitForFlush = flushes.isNull || !flushes.succeeded || flushes.makeResult().rows.first?[0] != "f"
        var failed: String?
        if PQsetnonblocking(handle.pointer, 1) != 0 {
            failed = "could not make the connection non-blocking"
        } else if PQenterPipelineMode(handle.pointer) != 1 {
            failed = "could not enter pipeline mode"
        }
        if let failed {
            let message = "\(failed): \(handle.errorMessage)"
            throw PostgresError(kind: .connectionFailed, message: message, file: file, line: line)
        }
        cork = OutputCork(socket: PQsocket(handle.pointer))
        self.handle = consume handle
        statements = PreparedStatementCache(capacity: statementCacheCapacity)
    }

    /// Completes whatever is still in flight with `.connectionLost`, as `close()` does.
    deinit { close() }

    /// The socket to watch (`PQsocket`); -1 once the connection broke or was closed.
    public var socket: Int32 {
        guard let pointer = handle?.pointer else { return -1 }
        return PQsocket(pointer)
    }

    /// The server process serving this connection (`pg_backend_pid()`); 0 once it broke or was
    /// closed.
    public var backendPID: Int32 {
        guard let pointer = handle?.pointer else { return 0 }
        return PQbackendPID(pointer)
    }

    /// Statements sent or queued whose completion has not run yet.
    public var inFlight: Int { waiters.count }

    /// True once the connection failed or was closed; every later `enqueue` completes at once
    /// with `.connectionLost`.
    public var isBroken: Bool { handle == nil }

    /// Queues one statement with the extended protocol: `binds` travel as text parameters
    /// (`$1`, `$2`, …; nil is NULL) and results come back as text, built as
    /// `PostgresConnection.query` builds them. The statement is prepared once per connection
    /// under a generated name cached by SQL text — the `PQsendPrepare` goes into the pipeline
    /// right before its first `PQsendQueryPrepared` — and every execution is followed by its own
    /// `PQpipelineSync`. A statement the server no longer has (26000) or whose result type
    /// changed (0A000) is prepared again and retried once, transparently: it did nothing.
    ///
    /// `completion` runs exactly once, on the owner's thread: from `readable()` (or `flush()`,
    /// `close()`, `enqueue` if the connection breaks then), in enqueue order. It runs from
    /// `enqueue` itself, before it returns and ahead of statements still in flight, when the
    /// connection is already broken (`.connectionLost`) or a parameter or the SQL text contains
    /// a NUL byte (`.invalidParameter`); nothing is sent then. A completion may enqueue.
    ///
    /// Does not send: call `flush()` after enqueueing. What libpq writes in the meantime stays
    /// in the kernel (`OutputCork`), so everything enqueued between two flushes reaches the
    /// server together.
    public func enqueue(
        _ sql: String,
        _ binds: [String?],
        file: String = #fileID,
        line: Int = #line,
        completion: @escaping (Result<PostgresResult, PostgresError>) -> Void
    ) {
        let statement = PipelineStatement(sql: sql, binds: binds, file: file, line: line)
        guard handle != nil else {
            completion(.failure(lostError(for: statement)))
            return
        }
        if let index = CStringArray.firstIndexWithNUL(binds) {
            let message = "parameter $\(index + 1) contains a NUL byte, which a PostgreSQL text value cannot hold"
            completion(.failure(PostgresError(kind: .invalidParameter, message: message, file: file, line: line)))
            return
        }
        // The SQL text is checked only when it is first prepared, as PostgresConnection does.
        if statements.name(for: sql) == nil, sql.utf8.contains(0) {
            let error = PostgresError(kind: .invalidParameter, message: "the SQL text contains a NUL byte", file: file, line: line)
            completion(.failure(error))
            return
        }
        let waiter = PipelineWaiter(statement: statement, completion: completion)
        waiters.append(waiter)
        send(waiter)
    }

    /// `PQflush`, then uncorks: sends what libpq and the kernel hold. Returns true while libpq
    /// still holds output; the caller then waits for the socket to be writable and calls
    /// `flush()` again (and keeps calling `readable()` when it is readable). Also call it after
    /// `readable()` when `needsFlush` is true. A failure breaks the connection: every statement
    /// in flight completes with `.connectionLost`, and this returns false.
    @discardableResult
    public func flush() -> Bool {
        guard let pointer = handle?.pointer else { return false }
        needsFlush = false
        let flushed = PQflush(pointer)
        if flushed >= 0 { cork.release() }
        switch flushed {
        case 0:
            return false
        case 1:
            return true
        default:
            breakConnection(because: "could not send to the server")
            return false
        }
    }

    /// Closes the connection (`PQfinish`); every statement still in flight completes with a
    /// `.connectionLost` error (`connectionBroken` true), in enqueue order, before this returns.
    /// Later enqueues complete at once with the same kind. Idempotent.
    public func close() {
        guard handle != nil else { return }
        failAll(message: "the connection was closed")
    }

    // MARK: - Sending

    /// Puts `waiter`'s statement into the pipeline as one sync segment: `DEALLOCATE ALL` first
    /// when the cache is full, `PQsendPrepare` when the SQL has no cached name, then
    /// `PQsendQueryPrepared` and `PQpipelineSync`. Any failed send breaks the connection: libpq's
    /// pipeline would no longer match `segments`.
    ///
    /// A full cache is cleared with `DEALLOCATE ALL` even while statements are in flight: the
    /// server runs the pipeline in order, so every statement sent before it has run by then,
    /// and every statement sent after it prepares again under a fresh name. That keeps the
    /// server's statements bounded however long the pipeline stays busy.
    func send(_ waiter: PipelineWaiter) {
        guard let pointer = handle?.pointer else { return }
        cork.hold()
        let sql = waiter.statement.sql
        var prepares = false
        let name: String
        if let cached = statements.name(for: sql) {
            name = cached
        } else {
            if statements.isFull {
                guard PQsendQueryParams(pointer, "DEALLOCATE ALL", 0, nil, nil, nil, nil, 0) == 1,
                      PQpipelineSync(pointer) == 1
                else { return sendFailed(waiter) }
                segments.append(.deallocate)
                statements.removeAll()
            }
            name = statements.makeName()
            guard PQsendPrepare(pointer, name, sql, 0, nil) == 1 else { return sendFailed(waiter) }
            statements.insert(name, for: sql)
            prepares = true
        }
        let binds = waiter.statement.binds
        let sent = CStringArray.with(binds) { values in
            PQsendQueryPrepared(pointer, name, Int32(clamping: binds.count), values, nil, nil, 0)
        }
        guard sent == 1, PQpipelineSync(pointer) == 1 else { return sendFailed(waiter) }
        segments.append(.statement(PipelineExchange(waiter: waiter, name: name, awaitsPrepare: prepares)))
    }

    private func sendFailed(_ waiter: PipelineWaiter) {
        let statement = waiter.statement
        guard var error = handle?.callError("could not queue the statement", file: statement.file, line: statement.line)
        else { return }
        error.connectionBroken = true
        waiter.outcome = .failure(error)
        breakConnection(because: error.message)
    }

    // MARK: - Failing

    /// The connection cannot go on: libpq's message (or `fallback`) becomes the reason.
    func breakConnection(because fallback: String) {
        guard let message = handle?.errorMessage else { return }
        failAll(message: message.isEmpty ? fallback : message)
    }

    /// `PQfinish`, then every waiting statement completes in order: with the outcome it already
    /// has (held behind an earlier statement's retry), else with `.connectionLost`. State is
    /// cleared before any completion runs, so a completion that enqueues fails at once.
    func failAll(message: String) {
        handle = nil
        lossMessage = message
        segments.removeAll()
        statements.removeAll()
        for waiter in waiters.removeAll() {
            waiter.completion(waiter.outcome ?? .failure(lostError(for: waiter.statement)))
        }
    }

    func lostError(for statement: PipelineStatement) -> PostgresError {
        PostgresError(
            kind: .connectionLost,
            message: lossMessage.isEmpty ? "the connection is closed" : lossMessage,
            connectionBroken: true,
            file: statement.file,
            line: statement.line
        )
    }
}
