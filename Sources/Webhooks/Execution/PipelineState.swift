/// Every decision of one event loop's pipelined connections, as a value: events in, actions
/// out, no sockets, no threads, and time passed in (`now`, nanoseconds on the caller's clock).
/// `LoopPipeline` feeds it what happens and does what it answers; the tests drive it alone
/// (PipelineStateTests).
///
/// What it decides:
/// - **Which connection a statement goes to:** the one with the fewest statements in flight
///   (the first of those, so an idle loop keeps using its first connection).
/// - **When another connection opens:** when the least busy one already holds `growAt`, up to
///   `maxConnections`, one connect at a time, and not before `reconnectDelay` has passed since a
///   connect failed or a connection broke. Only where commits wait for a disk flush: one
///   connection runs its commits one flush after another, and several let PostgreSQL flush
///   their commits together. Where they do not (`fsync` or `synchronous_commit` off), one
///   connection's back-to-back statements cost the least CPU, and the loop keeps one.
/// - **When a statement goes to the pool instead:** nothing connected yet, or the least busy
///   connection holds `maxInFlight`.
/// - **When queued statements are sent (a group):** once per loop turn, and only when the
///   server has at most `refillAt` statements of that connection still to run — else when its
///   answers come down to that. Under load the statements of several turns go out together.
/// - **What a statement's outcome means:** an answer, or a run on the pool (lock timeout, a
///   concurrent write it must see) — `outcome(of:runsAgain:)`.
struct PipelineState {
    struct Limits: Sendable {
        /// Most connections of this loop (its share of LAKEHOOK_DB_PIPELINE_CONNECTIONS).
        var maxConnections: Int
        /// Another connection opens when the least busy one holds at least this many statements:
        /// 1, so that a statement that had to queue behind another's commit (a whole flush more)
        /// opens the connection the next one will take. A loop answering one request at a time
        /// still keeps one connection. (Why 1 and not 2: docs/PERFORMANCE.md, "Where the time
        /// went".)
        var growAt = 1
        /// Statements in flight on one connection beyond which new ones go to the pool.
        var maxInFlight = 512
        /// How many statements of the group on the server may still be unanswered when the next
        /// group goes out: about a millisecond of the server's work, so the next group is there
        /// before it runs out (measured in docs/PERFORMANCE.md, "When a group is sent").
        var refillAt = 8
        /// Pause after a failed connect or a broken connection before the next connect.
        var reconnectDelayNanoseconds: UInt64 = 1_000_000_000
    }

    /// One connection, by the id `connected` gave it.
    struct Slot: Equatable {
        let id: Int
        /// Statements sent or queued whose outcome has not come back.
        var inFlight = 0
        /// Statements queued since the last send (still in libpq's buffer). May exceed
        /// `inFlight`: a statement refused at enqueue (a NUL byte) completes at once unsent.
        var unsent = 0
        /// A send is due at the end of this loop turn.
        var sendScheduled = false

        /// The server has at most `refillAt` of this connection's statements left to run.
        func groupIsDue(_ limits: Limits) -> Bool { inFlight <= unsent + limits.refillAt }
    }

    /// Why a statement runs on the pool instead of a pipelined connection.
    enum PoolReason: String, CaseIterable, Sendable {
        /// No pipelined connection is up (at start, after a failure, while connecting).
        case notConnected = "not_connected"
        /// The least busy connection holds `maxInFlight`.
        case full
        /// It waited past the pipeline's lock timeout and did nothing.
        case lockTimeout = "lock_timeout"
        /// It met a concurrent write its snapshot could not see and failed whole.
        case concurrentWrite = "concurrent_write"
    }

    /// What `submit` decided.
    struct Submission: Equatable {
        enum Placement: Equatable {
            case connection(id: Int)
            case pool(PoolReason)
        }
        var placement: Placement
        /// Start connecting another connection now.
        var connect = false
        /// Schedule a send of this connection's queue at the end of the loop turn.
        var scheduleSend = false
    }

    /// What to do with a statement's outcome.
    enum Outcome: Equatable {
        /// Answer the request from it (a success, or an error that is the request's answer).
        case answer
        /// Nothing was done: run the statement again on the pool.
        case runOnPool(PoolReason)
    }

    let limits: Limits
    private(set) var slots: [Slot] = []
    private(set) var connecting = false
    /// Most connections now: `maxConnections`, or 1 once a connection said its commits do not
    /// wait for a flush.
    private(set) var connectionCap: Int
    /// No connect starts before this instant.
    private(set) var nextConnectAt: UInt64 = 0
    private var nextId = 0

    init(limits: Limits) {
        var limits = limits
        limits.maxConnections = max(1, limits.maxConnections)
        self.limits = limits
        self.connectionCap = limits.maxConnections
    }

    // MARK: - Statements

    /// A statement is to run: where, and whether to connect or schedule a send.
    mutating func submit(now: UInt64) -> Submission {
        guard let index = leastBusy() else {
            return Submission(placement: .pool(.notConnected), connect: startConnect(now: now))
        }
        let connect = slots[index].inFlight >= limits.growAt && startConnect(now: now)
        guard slots[index].inFlight < limits.maxInFlight else {
            return Submission(placement: .pool(.full), connect: connect)
        }
        slots[index].inFlight += 1
        slots[index].unsent += 1
        let scheduleSend = !slots[index].sendScheduled
        slots[index].sendScheduled = true
        return Submission(placement: .connection(id: slots[index].id), connect: connect, scheduleSend: scheduleSend)
    }

    /// A statement of connection `id` has its outcome. True: schedule a send of the statements
    /// queued since (the group on the server is nearly done). A connection dropped meanwhile is
    /// ignored.
    mutating func completed(connection id: Int) -> Bool {
        guard let index = index(of: id) else { return false }
        slots[index].inFlight -= 1
        guard slots[index].unsent > 0, !slots[index].sendScheduled, slots[index].groupIsDue(limits) else { return false }
        slots[index].sendScheduled = true
        return true
    }

    /// The end of the loop turn for which a send was scheduled. True: send the queue now (and
    /// it counts as sent); false: the group on the server is still large, and the answers will
    /// schedule the send (`completed`).
    mutating func sendTurn(connection id: Int) -> Bool {
        guard let index = index(of: id) else { return false }
        slots[index].sendScheduled = false
        guard slots[index].groupIsDue(limits) else { return false }
        slots[index].unsent = 0
        return true
    }

    /// The connection sent its queue for another reason (socket writable again, a statement it
    /// re-sent itself).
    mutating func sent(connection id: Int) {
        guard let index = index(of: id) else { return }
        slots[index].unsent = 0
    }

    /// Where a statement's outcome leads: `lockTimedOut` when it failed with lock_not_available
    /// (the pipeline's lock_timeout), `runsAgain` when the operation says the error means a
    /// concurrent write it must see (`SingleStatementOperation.runsAgain(after:)`).
    static func outcome(lockTimedOut: Bool, runsAgain: Bool) -> Outcome {
        if lockTimedOut { return .runOnPool(.lockTimeout) }
        if runsAgain { return .runOnPool(.concurrentWrite) }
        return .answer
    }

    // MARK: - Connections

    /// A connect succeeded: the new connection's id. `commitsWaitForFlush`: what the server
    /// said of its commits (`PipelinedConnection.commitsWaitForFlush`).
    mutating func connected(commitsWaitForFlush: Bool = true) -> Int {
        connecting = false
        connectionCap = commitsWaitForFlush ? limits.maxConnections : 1
        let id = nextId
        nextId += 1
        slots.append(Slot(id: id))
        return id
    }

    /// A connect failed: the next one waits `reconnectDelay`.
    mutating func connectFailed(now: UInt64) {
        connecting = false
        nextConnectAt = now + limits.reconnectDelayNanoseconds
    }

    /// Connection `id` broke (or could not be watched): forget it; the next connect waits
    /// `reconnectDelay`. The outcomes of its statements still come (as connection lost) and
    /// are ignored here.
    mutating func dropped(connection id: Int, now: UInt64) {
        slots.removeAll { $0.id == id }
        nextConnectAt = now + limits.reconnectDelayNanoseconds
    }

    func slot(_ id: Int) -> Slot? { index(of: id).map { slots[$0] } }

    /// Where connection `id` is in `slots`; nil once it was dropped.
    private func index(of id: Int) -> Int? { slots.firstIndex { $0.id == id } }

    /// The index of the connection with the fewest statements in flight (the first of those).
    private func leastBusy() -> Int? {
        var best: Int?
        for index in slots.indices where best == nil || slots[index].inFlight < slots[best!].inFlight { best = index }
        return best
    }

    /// True when a connect starts now: none running, below the cap, past the back-off.
    private mutating func startConnect(now: UInt64) -> Bool {
        guard !connecting, slots.count < connectionCap, now >= nextConnectAt else { return false }
        connecting = true
        return true
    }
}
