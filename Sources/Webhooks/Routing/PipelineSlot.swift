import Dispatch
import HTTP
import Postgres

/// One pipelined database connection of a loop (`LoopPipeline` has up to a few): the
/// statements submitted to it are sent as they come, without waiting for earlier answers, each
/// with its own sync (so its own transaction), and each answer completes its request on the
/// loop's thread.
///
/// Confined to its loop's thread, hence `@unchecked Sendable`.
final class PipelineSlot: EventLoopTarget, @unchecked Sendable {
    unowned let loop: EventLoop
    let connection: PipelinedConnection
    /// Called once, on the loop, when the connection broke and was dropped.
    private let onDrop: (PipelineSlot) -> Void
    /// The fd registered with the loop, for deregistering before the connection closes it.
    private var registeredSocket: Int32 = -1
    private var waitingWritable = false
    private var flushScheduled = false
    /// Statements enqueued since the last flush (still in libpq's buffer).
    private var unflushed = 0
    private(set) var isDropped = false

    /// Registers `connection`'s socket with `loop`; throws when the loop cannot watch it.
    init(loop: EventLoop, connection: PipelinedConnection, onDrop: @escaping (PipelineSlot) -> Void) throws {
        self.loop = loop
        self.connection = connection
        self.onDrop = onDrop
        try loop.register(connection.socket, self, edgeTriggered: false)
        registeredSocket = connection.socket
    }

    var inFlight: Int { connection.inFlight }

    /// Queues `sql`; `completion` then runs on the loop. A connection that breaks while it sends
    /// is dropped before this returns (the statement completes with `connectionLost`).
    func submit(
        _ sql: String, _ binds: [String?],
        completion: @escaping (Result<PostgresResult, PostgresError>) -> Void
    ) {
        unflushed += 1
        connection.enqueue(sql, binds) { [self] result in
            completion(result)
            if !isDropped, unflushed > 0, nextBatchIsDue {
                scheduleFlush()  // the batch on the server is nearly done: send the next one
            }
        }
        if connection.isBroken {
            // Sending failed and libpq closed the socket: drop it now, before anything else runs
            // on this loop (an accept may reuse its number; see `EventLoop.deregister`).
            drop()
            return
        }
        scheduleFlush()
    }

    /// Sends the queued statements after this loop turn — at once when the server has at most
    /// `LoopPipeline.refillAt` statements of ours in progress, else when the batch it has is
    /// answered down to that. Under load the statements of several turns go out together, so
    /// the server takes a batch per wake-up, and the next batch arrives before it runs out;
    /// idle, nothing waits.
    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.afterEvents { [self] in
            flushScheduled = false
            guard !isDropped, nextBatchIsDue else { return }
            flush()
        }
    }

    /// Whether the server has at most `refillAt` statements of ours left: those in flight minus
    /// those still in libpq's buffer (`unflushed`). That difference can be negative, as a
    /// statement refused at enqueue (a NUL byte) counts in `unflushed` without being in flight.
    private var nextBatchIsDue: Bool {
        connection.inFlight <= unflushed + LoopPipeline.refillAt
    }

    func readable() {
        guard !isDropped else { return }
        connection.readable()
        if connection.isBroken {
            drop()
        } else if connection.needsFlush {
            flush()  // a statement the connection sent again (stale plan) goes out now
        }
    }

    func writable() {
        if waitingWritable { flush() }
    }

    private func flush() {
        unflushed = 0
        let pending = connection.flush()
        if connection.isBroken {
            drop()
            return
        }
        if pending != waitingWritable {
            waitingWritable = pending
            loop.watchWritable(registeredSocket, pending)
        }
    }

    /// Deregisters the socket first, then completes what is in flight with `connectionLost` and
    /// closes, then tells the owner.
    func drop() {
        guard !isDropped else { return }
        isDropped = true
        loop.deregister(registeredSocket, self)
        registeredSocket = -1
        waitingWritable = false
        unflushed = 0
        connection.close()
        onDrop(self)
    }
}
