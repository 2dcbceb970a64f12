import Dispatch
import HTTP
import Postgres

/// The pipelined database connections of one event loop (libpq's pipeline mode, `PipelineSlot`):
/// the single statements of the requests on that loop are sent as they come, without waiting
/// for earlier answers, and each answer completes its request on the same thread. Each
/// statement has its own sync, so it is its own transaction and a failure touches no other
/// request.
///
/// One connection runs its statements one after the other, and each commit waits for its own
/// WAL flush; PostgreSQL shares one flush between the commits of different backends that
/// arrive together. So the loop opens more connections as statements queue up and spreads
/// them — every such decision is `PipelineState`'s; this class only carries them out.
///
/// Not connected (at start, after a failure, while reconnecting) or too busy, `submit` says so
/// (`PipelineState.PoolReason`) and the caller (`IngestExecutor`) runs the statement on the
/// pool instead. Connecting happens off the loop.
///
/// Confined to its loop's thread (the connect runs elsewhere but only hands its result back
/// through `execute`), hence `@unchecked Sendable`.
final class LoopPipeline: @unchecked Sendable {
    /// How long a pipelined statement may wait for a row lock. A connection runs its statements
    /// one after the other, so a statement waiting on a lock (a finish's transaction, someone's
    /// open transaction) holds up every statement behind it: past this it fails with 55P03,
    /// having done nothing, and is run again on the pool, where waiting holds up nobody else.
    static let lockTimeout = Duration.milliseconds(250)

    unowned let loop: EventLoop
    private let config: PostgresConfig
    private var state: PipelineState
    private var slots: [Int: PipelineSlot] = [:]
    /// Now, in nanoseconds (injected by tests).
    private let clock: () -> UInt64
    /// False: grow as if every commit flushed, whatever the server says (for tests against a
    /// PostgreSQL with fsync off).
    private let growsOnlyWhenCommitsFlush: Bool
    /// Where connects run: a queue of this pipeline's own, which gets a thread whatever else
    /// blocks. The global queue shares its few threads (as many as cores on Linux) with Swift
    /// concurrency and anything that waits on them; there a connect once waited 8 s while the
    /// loop's statements queued on one connection.
    private let connectQueue: DispatchQueue

    /// `config` with generic plans forced — the pipeline only runs the ingest writes, which
    /// look rows up by key (see `PostgresConfig.forcesGenericPlans`) — and `lockTimeout`.
    init(
        loop: EventLoop, config: PostgresConfig, maxConnections: Int, growsOnlyWhenCommitsFlush: Bool = true,
        clock: @escaping () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }
    ) {
        self.growsOnlyWhenCommitsFlush = growsOnlyWhenCommitsFlush
        self.loop = loop
        var config = config
        config.forcesGenericPlans = true
        config.lockTimeout = Self.lockTimeout
        self.config = config
        self.state = PipelineState(limits: .init(maxConnections: maxConnections))
        self.clock = clock
        self.connectQueue = DispatchQueue(label: "lakehook.pipeline.connect.\(loop.index)")
    }

    /// Connections open now.
    var connectionCount: Int {
        loop.assertInLoop()
        return state.slots.count
    }

    /// Queues `sql` and returns nil; `completion` then runs on the loop. Else the reason it
    /// cannot take it now (nothing was sent; `completion` never runs).
    func submit(
        _ sql: String, _ binds: [String?],
        completion: @escaping (Result<PostgresResult, PostgresError>) -> Void
    ) -> PipelineState.PoolReason? {
        loop.assertInLoop()
        let submission = state.submit(now: clock())
        if submission.connect { connect() }
        guard case .connection(let id) = submission.placement, let slot = slots[id] else {
            if case .pool(let reason) = submission.placement { return reason }
            return .notConnected
        }
        slot.connection.enqueue(sql, binds) { [self] result in
            completion(result)
            if state.completed(connection: id) { scheduleSend(slot) }
        }
        if slot.isBroken {
            // Sending failed and libpq closed the socket: drop it now, before anything else runs
            // on this loop (an accept may reuse its number; see `EventLoop.deregister`).
            drop(slot)
        } else if submission.scheduleSend {
            scheduleSend(slot)
        }
        return nil
    }

    /// At the end of this loop turn, sends the connection's queue if `PipelineState` says the
    /// group is due.
    private func scheduleSend(_ slot: PipelineSlot) {
        loop.afterEvents { [self] in
            guard !slot.isClosed, state.sendTurn(connection: slot.id) else { return }
            send(slot)
        }
    }

    private func send(_ slot: PipelineSlot) {
        slot.send()
        if slot.isBroken { drop(slot) }
    }

    func readable(_ slot: PipelineSlot) {
        loop.assertInLoop()
        slot.connection.readable()
        if slot.isBroken {
            drop(slot)
        } else if slot.connection.needsFlush {
            state.sent(connection: slot.id)
            send(slot)  // a statement the connection sent again (stale plan) goes out now
        }
    }

    func writable(_ slot: PipelineSlot) {
        loop.assertInLoop()
        state.sent(connection: slot.id)
        send(slot)
    }

    /// Forgets the connection first (its statements' outcomes, coming now as connection lost,
    /// are ignored by the state), then closes it.
    private func drop(_ slot: PipelineSlot) {
        guard !slot.isClosed else { return }
        state.dropped(connection: slot.id, now: clock())
        slots[slot.id] = nil
        slot.close()
    }

    /// Connects in the background; the result comes back on the loop.
    private func connect() {
        let config = config
        let loop = loop
        connectQueue.async { [self] in
            let opened = try? PipelinedConnection(config: config)
            loop.execute { self.attach(opened) }
        }
    }

    private func attach(_ opened: PipelinedConnection?) {
        guard let opened else {
            state.connectFailed(now: clock())
            return
        }
        let id = state.connected(commitsWaitForFlush: opened.commitsWaitForFlush || !growsOnlyWhenCommitsFlush)
        do {
            slots[id] = try PipelineSlot(id: id, loop: loop, connection: opened, owner: self)
        } catch {
            state.dropped(connection: id, now: clock())
            opened.close()
        }
    }
}
