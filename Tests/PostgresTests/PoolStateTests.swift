import Testing
@testable import Postgres

@Suite("PoolState")
struct PoolStateTests {
    typealias State = PoolState<String, Int>

    @Test("lends new slots up to size, then queues up to maxWaiters, then refuses")
    func capacity() throws {
        var state = State(size: 2, maxWaiters: 1)
        var nextWaker = 0
        let makeWaker = { () -> Int in nextWaker += 1; return nextWaker }
        guard case .granted(.newConnection) = try state.checkout(makeWaker: makeWaker) else { Issue.record(); return }
        guard case .granted(.newConnection) = try state.checkout(makeWaker: makeWaker) else { Issue.record(); return }
        guard case .wait = try state.checkout(makeWaker: makeWaker) else { Issue.record(); return }
        #expect(throws: State.Refusal.tooManyWaiters) { try state.checkout(makeWaker: makeWaker) }
        #expect(state.open == 2 && state.inUse == 2 && state.waiting == 1)
    }

    @Test("a returned healthy connection goes straight to the first waiter")
    func handoff() throws {
        var state = State(size: 1, maxWaiters: 4)
        _ = try state.checkout { 0 }
        guard case .wait(let first, let firstWaker) = try state.checkout(makeWaker: { 7 }) else { Issue.record(); return }
        guard case .wait(let second, _) = try state.checkout(makeWaker: { 8 }) else { Issue.record(); return }
        let (discard, wake) = state.checkin("conn", reusable: true)
        #expect(discard == nil && wake == firstWaker)
        guard case .connection("conn") = state.takeGrant(first) else { Issue.record(); return }
        #expect(state.takeGrant(second) == nil)
        #expect(state.inUse == 1 && state.open == 1 && state.waiting == 1)
    }

    @Test("a broken connection is discarded and its slot offered to a waiter as a new connection")
    func brokenCheckin() throws {
        var state = State(size: 1, maxWaiters: 4)
        _ = try state.checkout { 0 }
        guard case .wait(let id, _) = try state.checkout(makeWaker: { 5 }) else { Issue.record(); return }
        let (discard, wake) = state.checkin("dead", reusable: false)
        #expect(discard == "dead" && wake == 5)
        guard case .newConnection = state.takeGrant(id) else { Issue.record(); return }
        #expect(state.open == 1 && state.inUse == 1)
    }

    @Test("a failed connect frees its slot when nobody waits")
    func slotFreed() throws {
        var state = State(size: 1, maxWaiters: 4)
        _ = try state.checkout { 0 }
        #expect(state.slotFreed() == nil)
        #expect(state.open == 0 && state.inUse == 0)
    }

    @Test("a waiter that times out just as it is served keeps the connection")
    func raceAtDeadline() throws {
        var state = State(size: 1, maxWaiters: 4)
        _ = try state.checkout { 0 }
        guard case .wait(let id, _) = try state.checkout(makeWaker: { 1 }) else { Issue.record(); return }
        _ = state.checkin("conn", reusable: true)
        guard case .connection("conn") = state.cancelWait(id) else { Issue.record(); return }
        #expect(state.inUse == 1 && state.idle.isEmpty)
    }

    @Test("a waiter that times out leaves the queue")
    func timeout() throws {
        var state = State(size: 1, maxWaiters: 4)
        _ = try state.checkout { 0 }
        guard case .wait(let id, _) = try state.checkout(makeWaker: { 1 }) else { Issue.record(); return }
        #expect(state.cancelWait(id) == nil)
        #expect(state.waiting == 0)
        _ = state.checkin("conn", reusable: true)
        #expect(state.idle == ["conn"] && state.inUse == 0)
    }

    @Test("close hands back idle connections and wakes waiters with closed")
    func close() throws {
        var state = State(size: 2, maxWaiters: 4)
        _ = try state.checkout { 0 }
        _ = try state.checkout { 0 }
        _ = state.checkin("a", reusable: true)
        let (idle, wake) = state.close()
        #expect(idle == ["a"] && wake.isEmpty)
        #expect(state.open == 1 && state.inUse == 1)
        #expect(throws: State.Refusal.closed) { try state.checkout { 0 } }
    }

    @Test("after close, waiters get closed and lent connections are discarded on return")
    func closedWhileLent() throws {
        var state = State(size: 1, maxWaiters: 4)
        _ = try state.checkout { 0 }
        guard case .wait(let id, _) = try state.checkout(makeWaker: { 9 }) else { Issue.record(); return }
        let (idle, wake) = state.close()
        #expect(idle.isEmpty && wake == [9])
        guard case .closed = state.takeGrant(id) else { Issue.record(); return }
        let (discard, next) = state.checkin("a", reusable: true)
        #expect(discard == "a" && next == nil)
        #expect(state.open == 0 && state.inUse == 0 && state.waiting == 0)
    }
}
