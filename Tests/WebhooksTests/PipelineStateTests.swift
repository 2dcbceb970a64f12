import Testing
@testable import Webhooks

/// Issue 14: the executor's decisions, without sockets — `PipelineState` fed events with the
/// time passed in, and its answers checked.
@Suite("PipelineState: where a statement goes, when a group is sent, each fallback")
struct PipelineStateTests {
    typealias Submission = PipelineState.Submission

    static let second: UInt64 = 1_000_000_000

    /// A state with `connections` connected (ids 0, 1, …) and the given limits.
    static func state(connections: Int, maxConnections: Int = 4, maxInFlight: Int = 512, refillAt: Int = 8) -> PipelineState {
        var state = PipelineState(limits: .init(maxConnections: maxConnections, maxInFlight: maxInFlight, refillAt: refillAt))
        for _ in 0..<connections { _ = state.connected() }
        return state
    }

    @Test("with nothing connected a statement goes to the pool, and one connect starts")
    func notConnectedGoesToThePool() {
        var state = PipelineState(limits: .init(maxConnections: 4))
        #expect(state.submit(now: 0) == Submission(placement: .pool(.notConnected), connect: true))
        // While that connect runs, no second one starts.
        #expect(state.submit(now: 1) == Submission(placement: .pool(.notConnected), connect: false))
        #expect(state.connecting)
        let id = state.connected()
        #expect(state.submit(now: 2) == Submission(placement: .connection(id: id), connect: false, scheduleSend: true))
    }

    @Test("a failed connect waits the reconnect delay on the injected clock")
    func failedConnectBacksOff() {
        var state = PipelineState(limits: .init(maxConnections: 4))
        #expect(state.submit(now: 10).connect)
        state.connectFailed(now: 10)
        #expect(!state.submit(now: 10 + Self.second - 1).connect, "connected again before the delay")
        #expect(state.submit(now: 10 + Self.second).connect)
    }

    @Test("an idle loop keeps one connection: statements answered one by one never open another")
    func lightLoadStaysOnOneConnection() {
        var state = Self.state(connections: 1)
        for turn in 0..<100 {
            let submission = state.submit(now: UInt64(turn))
            #expect(submission.placement == .connection(id: 0))
            #expect(!submission.connect)
            #expect(state.sendTurn(connection: 0) == true)
            _ = state.completed(connection: 0)
        }
        #expect(state.slots.count == 1)
    }

    @Test("another connection opens when a statement finds none idle (growAt 1), one at a time, up to the cap")
    func growsUnderLoad() {
        var state = Self.state(connections: 1, maxConnections: 3)
        #expect(!state.submit(now: 0).connect)  // 0 in flight before it: idle
        #expect(state.submit(now: 0).connect)  // 1 = growAt: grow
        #expect(!state.submit(now: 0).connect, "a second connect while the first runs")
        let second = state.connected()
        // The new connection is the least busy: the next statement goes to it.
        #expect(state.submit(now: 0).placement == .connection(id: second))
        #expect(state.submit(now: 0).connect)  // both busy
        _ = state.connected()
        for _ in 0..<20 { #expect(!state.submit(now: 0).connect, "past the cap of 3") }
        #expect(state.slots.count == 3)
    }

    @Test("a statement goes to the connection with the fewest in flight, the first of equals")
    func leastBusyFirst() {
        var state = Self.state(connections: 3)
        var placements: [Submission.Placement] = []
        for _ in 0..<6 { placements.append(state.submit(now: 0).placement) }
        #expect(placements == [0, 1, 2, 0, 1, 2].map { .connection(id: $0) })
        // Connection 1's statements are answered: it is the least busy again.
        _ = state.completed(connection: 1)
        _ = state.completed(connection: 1)
        #expect(state.submit(now: 0).placement == .connection(id: 1))
    }

    @Test("a connection holding maxInFlight sends further statements to the pool")
    func fullGoesToThePool() {
        var state = Self.state(connections: 1, maxConnections: 1, maxInFlight: 3)
        for _ in 0..<3 { #expect(state.submit(now: 0).placement == .connection(id: 0)) }
        #expect(state.submit(now: 0).placement == .pool(.full))
        _ = state.completed(connection: 0)
        #expect(state.submit(now: 0).placement == .connection(id: 0))
    }

    @Test("the statements of one loop turn are sent together: one send is scheduled for the first")
    func oneSendPerTurn() {
        var state = Self.state(connections: 1)
        #expect(state.submit(now: 0).scheduleSend)
        #expect(!state.submit(now: 0).scheduleSend)
        #expect(!state.submit(now: 0).scheduleSend)
        #expect(state.sendTurn(connection: 0) == true)
        #expect(state.slot(0)?.unsent == 0)
        // The next turn schedules its own send.
        #expect(state.submit(now: 0).scheduleSend)
    }

    @Test("while the server holds more than refillAt statements, the next group waits for answers")
    func groupWaitsForTheServer() {
        var state = Self.state(connections: 1, maxConnections: 1, refillAt: 2)
        // First group: 5 statements sent.
        for _ in 0..<5 { _ = state.submit(now: 0) }
        #expect(state.sendTurn(connection: 0) == true)
        // Next turn: 3 more queued, but the server still has 5 > refillAt: not sent yet.
        for _ in 0..<3 { _ = state.submit(now: 0) }
        #expect(state.sendTurn(connection: 0) == false)
        #expect(state.slot(0)?.unsent == 3)
        // Answers come: at 5 in flight on the server... 4, 3 (not due), then 2 (due): send scheduled once.
        #expect(state.completed(connection: 0) == false)  // server 4
        #expect(state.completed(connection: 0) == false)  // server 3
        #expect(state.completed(connection: 0) == true)  // server 2 = refillAt
        #expect(state.completed(connection: 0) == false, "a second send scheduled for the same group")
        #expect(state.sendTurn(connection: 0) == true)
        #expect(state.slot(0)?.unsent == 0)
    }

    @Test("a send for another reason (socket writable, a re-sent statement) counts the queue as sent")
    func otherSendsEmptyTheQueue() {
        var state = Self.state(connections: 1)
        for _ in 0..<4 { _ = state.submit(now: 0) }
        state.sent(connection: 0)
        #expect(state.slot(0)?.unsent == 0)
        #expect(state.slot(0)?.inFlight == 4)
    }

    @Test("a dropped connection is forgotten, its late outcomes are ignored, and the reconnect waits")
    func droppedConnection() {
        var state = Self.state(connections: 2)
        _ = state.submit(now: 0)  // to 0
        _ = state.submit(now: 0)  // to 1
        state.dropped(connection: 0, now: 100)
        #expect(state.slots.map(\.id) == [1])
        #expect(state.completed(connection: 0) == false, "an outcome of the dropped connection scheduled a send")
        #expect(state.sendTurn(connection: 0) == false)
        // Everything goes to the survivor; no connect before the delay.
        let submission = state.submit(now: 101)
        #expect(submission.placement == .connection(id: 1))
        #expect(!submission.connect)
        #expect(state.submit(now: 100 + Self.second).connect)
    }

    @Test("the last connection dropped: statements go to the pool until a connect succeeds")
    func allDropped() {
        var state = Self.state(connections: 1)
        state.dropped(connection: 0, now: 0)
        #expect(state.submit(now: 1) == Submission(placement: .pool(.notConnected), connect: false))
        #expect(state.submit(now: Self.second) == Submission(placement: .pool(.notConnected), connect: true))
    }

    @Test("an outcome is answered, unless the statement did nothing and must run on the pool")
    func outcomes() {
        #expect(PipelineState.outcome(lockTimedOut: false, runsAgain: false) == .answer)
        #expect(PipelineState.outcome(lockTimedOut: true, runsAgain: false) == .runOnPool(.lockTimeout))
        #expect(PipelineState.outcome(lockTimedOut: false, runsAgain: true) == .runOnPool(.concurrentWrite))
    }

    @Test("a statement refused at enqueue (completed at once, unsent) leaves the counts consistent")
    func refusedAtEnqueue() {
        var state = Self.state(connections: 1)
        #expect(state.submit(now: 0).scheduleSend)
        // libpq refused it (a NUL byte): its outcome comes before the send.
        #expect(state.completed(connection: 0) == false)
        #expect(state.slot(0)?.inFlight == 0)
        #expect(state.sendTurn(connection: 0) == true)
        #expect(state.submit(now: 0).placement == .connection(id: 0))
    }

    @Test("where commits do not wait for a flush (fsync or synchronous_commit off) the loop keeps one connection")
    func noFlushKeepsOneConnection() {
        var state = PipelineState(limits: .init(maxConnections: 4))
        #expect(state.submit(now: 0).connect)
        _ = state.connected(commitsWaitForFlush: false)
        for _ in 0..<50 { #expect(!state.submit(now: 0).connect) }
        #expect(state.slots.count == 1)
        #expect(state.slots[0].inFlight == 50)
    }
}
