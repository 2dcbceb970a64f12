import Dispatch
import HTTP
import Postgres

/// The database connections of one event loop, in libpq's pipeline mode (`PipelineSlot`): the
/// single statements of the requests on that loop are sent as they come, without waiting for
/// earlier answers, and each answer completes its request on the same thread. Each statement
/// has its own sync, so it is its own transaction and a failure touches no other request.
///
/// One connection runs its statements one after the other, and each commit waits for its own
/// WAL flush: on a disk whose flush takes a millisecond, one connection commits at most about a
/// thousand statements a second, however many are queued. PostgreSQL shares one flush between
/// the commits of different backends that arrive together, so the loop opens another connection
/// when its least busy one holds `growAt` or more statements, up to `maxConnections`, and sends
/// each statement to the connection with the fewest in flight. Idle, one connection does
/// everything. (Where commits cost only CPU — fsync off — one connection batches best: more
/// measured slower there, a CPU-only figure; docs/PERFORMANCE.md.)
///
/// Not connected (at start, after a failure, while reconnecting) or too busy, `submit` says so
/// and the caller runs the statement on the blocking pool instead, which gives the same answers
/// (503 while the database is unreachable). Connecting happens off the loop.
///
/// Confined to its loop's thread (the connect runs elsewhere but only hands its result back
/// through `execute`), hence `@unchecked Sendable`.
final class LoopPipeline: @unchecked Sendable {
    /// How long a pipelined statement may wait for a row lock. A connection runs its statements
    /// one after the other, so a statement waiting on a lock (a finish's transaction, someone's
    /// open transaction) holds up every statement behind it: past this it fails with 55P03,
    /// having done nothing, and the caller runs it again on the pool, where waiting holds up
    /// nobody else.
    static let lockTimeout = Duration.milliseconds(250)
    /// Statements in flight on one connection beyond which new ones go to the blocking pool.
    static let maxInFlight = 512
    /// How many statements of the batch on the server may still be unanswered when the next
    /// batch goes out: about a millisecond of the server's work, so the next batch is there
    /// before it runs out. Measured against waiting for the whole batch (0), alternated on one
    /// database: 16 clients 7,579 → 8,260 req/s (8) and 8,384 (never waiting); 64 clients
    /// 8,438 / 8,787 → 9,180 / 9,310 (8) and 8,905 / 8,728 (never waiting). docs/PERFORMANCE.md.
    static let refillAt = 8
    /// Another connection is opened when the least busy one holds at least this many statements.
    static let growAt = 2
    /// Pause after a failed connect before the next attempt.
    static let reconnectDelay: UInt64 = 1_000_000_000

    unowned let loop: EventLoop
    private let config: PostgresConfig
    /// Most connections of this loop (LAKEHOOK_DB_PIPELINE_CONNECTIONS).
    let maxConnections: Int
    private var slots: [PipelineSlot] = []
    private var connecting = false
    private var nextAttempt: UInt64 = 0

    /// `config` with generic plans forced — the pipeline only runs the ingest writes, which
    /// look rows up by key (see `PostgresConfig.forcesGenericPlans`) — and `lockTimeout`.
    init(loop: EventLoop, config: PostgresConfig, maxConnections: Int) {
        self.loop = loop
        var config = config
        config.forcesGenericPlans = true
        config.lockTimeout = Self.lockTimeout
        self.config = config
        self.maxConnections = max(1, maxConnections)
    }

    /// Connections open now.
    var connectionCount: Int { slots.count }

    /// Queues `sql` and returns true; `completion` then runs on the loop. False when the
    /// pipeline cannot take it now (nothing was sent; `completion` never runs).
    func submit(
        _ sql: String, _ binds: [String?],
        completion: @escaping (Result<PostgresResult, PostgresError>) -> Void
    ) -> Bool {
        guard let slot = leastBusy() else {
            connectIfDue()
            return false
        }
        if slot.inFlight >= Self.growAt, slots.count < maxConnections { connectIfDue() }
        guard slot.inFlight < Self.maxInFlight else { return false }
        slot.submit(sql, binds, completion: completion)
        return true
    }

    /// The connection with the fewest statements in flight (the first of those, so an idle
    /// loop keeps using its first connection).
    private func leastBusy() -> PipelineSlot? {
        var best: PipelineSlot?
        for slot in slots where best == nil || slot.inFlight < best!.inFlight { best = slot }
        return best
    }

    /// A connection broke and dropped itself: forget it, and wait out the back-off before the
    /// next connect.
    private func dropped(_ slot: PipelineSlot) {
        slots.removeAll { $0 === slot }
        nextAttempt = DispatchTime.now().uptimeNanoseconds + Self.reconnectDelay
    }

    /// Starts connecting in the background unless connecting already, at the cap, or waiting
    /// out the back-off after a failure.
    private func connectIfDue() {
        guard !connecting, slots.count < maxConnections, DispatchTime.now().uptimeNanoseconds >= nextAttempt else { return }
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
            let slot = try PipelineSlot(loop: loop, connection: opened) { [unowned self] in self.dropped($0) }
            slots.append(slot)
        } catch {
            opened.close()
            nextAttempt = DispatchTime.now().uptimeNanoseconds + Self.reconnectDelay
        }
    }
}
