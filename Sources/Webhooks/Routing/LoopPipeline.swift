import Dispatch
import HTTP
import Postgres

/// The database connection of one event loop, in libpq's pipeline mode: the single statements
/// of the requests on that loop are sent as they come, without waiting for earlier answers, and
/// each answer completes its request on the same thread. Each statement has its own sync, so it
/// is its own transaction and a failure touches no other request. (A second connection per loop
/// was measured and did not help: docs/PERFORMANCE.md.)
///
/// Not connected (at start, after a failure, while reconnecting) or too busy, `submit` says so
/// and the caller runs the statement on the blocking pool instead, which gives the same answers
/// (503 while the database is unreachable). Connecting happens off the loop.
///
/// Confined to its loop's thread (the connect runs elsewhere but only hands its result back
/// through `execute`), hence `@unchecked Sendable`.
final class LoopPipeline: EventLoopTarget, @unchecked Sendable {
    /// How long a pipelined statement may wait for a row lock. A connection runs its statements
    /// one after the other, so a statement waiting on a lock (a finish's transaction, someone's
    /// open transaction) holds up every statement behind it: past this it fails with 55P03,
    /// having done nothing, and the caller runs it again on the pool, where waiting holds up
    /// nobody else.
    static let lockTimeout = Duration.milliseconds(250)
    /// Statements in flight beyond which new ones go to the blocking pool.
    static let maxInFlight = 512
    /// How many statements of the batch on the server may still be unanswered when the next
    /// batch goes out: about a millisecond of the server's work, so the next batch is there
    /// before it runs out. Measured against waiting for the whole batch (0), alternated on one
    /// database: 16 clients 7,579 → 8,260 req/s (8) and 8,384 (never waiting); 64 clients
    /// 8,438 / 8,787 → 9,180 / 9,310 (8) and 8,905 / 8,728 (never waiting). docs/PERFORMANCE.md.
    static let refillAt = 8
    /// Pause after a failed connect before the next attempt.
    static let reconnectDelay: UInt64 = 1_000_000_000

    unowned let loop: EventLoop
    private let config: PostgresConfig
    private var connection: PipelinedConnection?
    /// The fd registered with the loop, for deregistering before the connection closes it.
    private var registeredSocket: Int32 = -1
    private var connecting = false
    private var nextAttempt: UInt64 = 0
    private var waitingWritable = false
    private var flushScheduled = false
    /// Statements enqueued since the last flush (still in libpq's buffer).
    private var unflushed = 0

    /// `config` with generic plans forced — the pipeline only runs the ingest writes, which
    /// look rows up by key (see `PostgresConfig.forcesGenericPlans`) — and `lockTimeout`.
    init(loop: EventLoop, config: PostgresConfig) {
        self.loop = loop
        var config = config
        config.forcesGenericPlans = true
        config.lockTimeout = Self.lockTimeout
        self.config = config
    }

    /// Queues `sql` and returns true; `completion` then runs on the loop. False when the
    /// pipeline cannot take it now (nothing was sent; `completion` never runs).
    func submit(
        _ sql: String, _ binds: [String?],
        completion: @escaping (Result<PostgresResult, PostgresError>) -> Void
    ) -> Bool {
        guard let connection, !connection.isBroken else {
            connectIfDue()
            return false
        }
        guard connection.inFlight < Self.maxInFlight else { return false }
        unflushed += 1
        connection.enqueue(sql, binds) { [self] result in
            completion(result)
            if connection === self.connection, unflushed > 0, nextBatchIsDue(connection) {
                scheduleFlush()  // the batch on the server is nearly done: send the next one
            }
        }
        scheduleFlush()
        return true
    }

    /// Sends the queued statements after this loop turn — at once when the server has at most
    /// `refillAt` statements of ours in progress, else when the batch it has is answered down to
    /// that. Under load the statements of several turns go out together, so the server takes a
    /// batch per wake-up (measured: 64 rather than 16 clients in flight cut its CPU per
    /// statement by 15 %), and the next batch arrives before it runs out; idle, nothing waits.
    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.afterEvents { [self] in
            flushScheduled = false
            guard let connection, nextBatchIsDue(connection) else { return }
            flush()
        }
    }

    /// Whether the server has at most `refillAt` statements of ours left: those in flight minus
    /// those still in libpq's buffer (`unflushed`). That difference can be negative, as a
    /// statement refused at enqueue (a NUL byte) counts in `unflushed` without being in flight.
    private func nextBatchIsDue(_ connection: PipelinedConnection) -> Bool {
        connection.inFlight <= unflushed + Self.refillAt
    }

    func readable() {
        guard let connection else { return }
        connection.readable()
        if connection.isBroken {
            dropConnection()
        } else if connection.needsFlush {
            flush()  // a statement the connection sent again (stale plan) goes out now
        }
    }

    func writable() {
        if waitingWritable { flush() }
    }

    private func flush() {
        guard let connection else { return }
        unflushed = 0
        let pending = connection.flush()
        if connection.isBroken {
            dropConnection()
            return
        }
        if pending != waitingWritable {
            waitingWritable = pending
            loop.watchWritable(registeredSocket, pending)
        }
    }

    /// Deregisters the socket first (the fd number may be reused once libpq closes it), then
    /// completes what is in flight with `connectionLost` and closes.
    private func dropConnection() {
        guard let connection else { return }
        loop.deregister(registeredSocket)
        registeredSocket = -1
        waitingWritable = false
        unflushed = 0
        self.connection = nil
        connection.close()
        nextAttempt = DispatchTime.now().uptimeNanoseconds + Self.reconnectDelay
    }

    /// Starts connecting in the background unless already connected, connecting, or waiting out
    /// the back-off after a failure.
    private func connectIfDue() {
        // A broken connection still attached is dropped (and the back-off set) right after the
        // call that found it broken; connecting waits for that.
        guard connection == nil else { return }
        guard !connecting, DispatchTime.now().uptimeNanoseconds >= nextAttempt else { return }
        connecting = true
        let config = config
        let loop = loop
        DispatchQueue.global().async { [self] in
            let opened = try? PipelinedConnection(config: config)
            loop.execute { self.attach(opened) }
        }
    }

    private func attach(_ opened: PipelinedConnection?) {
        connecting = false
        guard let opened else {
            nextAttempt = DispatchTime.now().uptimeNanoseconds + Self.reconnectDelay
            return
        }
        do {
            try loop.register(opened.socket, self, edgeTriggered: false)
        } catch {
            opened.close()
            nextAttempt = DispatchTime.now().uptimeNanoseconds + Self.reconnectDelay
            return
        }
        registeredSocket = opened.socket
        connection = opened
    }
}
