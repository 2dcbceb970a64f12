/// The pool's bookkeeping: a plain value that `PostgresPool` keeps behind its one lock. Nothing
/// here blocks or talks to the database; the pool does that outside the lock with what these
/// methods return. Generic over the connection and the waker (what wakes a waiting caller) so
/// tests can drive it without a database.
///
/// Invariant: `open == inUse + idle.count`; `open <= size`; a slot counts as open from the moment
/// it is reserved for a connection that is still being opened.
struct PoolState<Connection, Waker> {
    /// What a caller gets at checkout or when woken.
    enum Grant {
        /// An idle connection to lend (check it first; if dead, open another in the same slot).
        case connection(Connection)
        /// A reserved slot: open a new connection; report `slotFreed()` if that fails.
        case newConnection
        /// The pool closed while waiting.
        case closed
    }

    enum Checkout {
        case granted(Grant)
        /// Wait on `waker`, then `takeGrant(id)`, or `cancelWait(id)` at the deadline.
        case wait(id: UInt64, waker: Waker)
    }

    enum Refusal: Error, Equatable {
        case closed
        case tooManyWaiters
    }

    let size: Int
    let maxWaiters: Int
    private(set) var idle: [Connection] = []
    private(set) var open = 0
    private(set) var inUse = 0
    private(set) var isClosed = false
    private var waiters: [(id: UInt64, waker: Waker)] = []
    private var grants: [UInt64: Grant] = [:]
    private var lastWaiterID: UInt64 = 0

    init(size: Int, maxWaiters: Int) {
        precondition(size > 0, "a pool needs at least one connection")
        precondition(maxWaiters >= 0, "maxWaiters must not be negative")
        self.size = size
        self.maxWaiters = maxWaiters
    }

    var waiting: Int { waiters.count }

    /// Lends the most recently returned idle connection, else reserves a slot, else queues the
    /// caller (with the waker `makeWaker` builds), else refuses.
    mutating func checkout(makeWaker: () -> Waker) throws(Refusal) -> Checkout {
        if isClosed { throw .closed }
        if let connection = idle.popLast() {
            inUse += 1
            return .granted(.connection(connection))
        }
        if open < size {
            open += 1
            inUse += 1
            return .granted(.newConnection)
        }
        if waiters.count >= maxWaiters { throw .tooManyWaiters }
        lastWaiterID += 1
        let waker = makeWaker()
        waiters.append((lastWaiterID, waker))
        return .wait(id: lastWaiterID, waker: waker)
    }

    /// The grant handed to waiter `id` while it slept; nil if none yet (a spurious wake-up).
    mutating func takeGrant(_ id: UInt64) -> Grant? {
        grants.removeValue(forKey: id)
    }

    /// The waiter gives up at its deadline. Returns a grant that arrived meanwhile (the caller
    /// uses it rather than dropping a connection on the floor), else leaves the queue.
    mutating func cancelWait(_ id: UInt64) -> Grant? {
        if let grant = grants.removeValue(forKey: id) { return grant }
        waiters.removeAll { $0.id == id }
        return nil
    }

    /// A lent connection comes back. A reusable one goes to the first waiter, else to the idle
    /// stack; an unusable one (or any, once closed) is returned for closing outside the lock
    /// and its slot goes to the first waiter as `.newConnection`.
    mutating func checkin(_ connection: Connection, reusable: Bool) -> (discard: Connection?, wake: Waker?) {
        precondition(inUse > 0, "checkin without checkout")
        if reusable && !isClosed {
            if let waiter = dequeueWaiter() {
                grants[waiter.id] = .connection(connection)
                return (nil, waiter.waker)
            }
            inUse -= 1
            idle.append(connection)
            return (nil, nil)
        }
        return (connection, slotFreed())
    }

    /// A reserved or lent slot is free again (its connection failed to open or was discarded).
    /// Returns the waiter that now gets the slot, if any.
    mutating func slotFreed() -> Waker? {
        precondition(inUse > 0 && open > 0, "slot freed without checkout")
        if !isClosed, let waiter = dequeueWaiter() {
            grants[waiter.id] = .newConnection
            return waiter.waker
        }
        inUse -= 1
        open -= 1
        return nil
    }

    /// Refuses further checkouts. Returns the idle connections, to close outside the lock, and
    /// every waiter, woken with `.closed`. Lent connections are discarded as they come back.
    mutating func close() -> (idle: [Connection], wake: [Waker]) {
        isClosed = true
        let closing = idle
        idle.removeAll()
        open -= closing.count
        let woken = waiters
        waiters.removeAll()
        for waiter in woken {
            grants[waiter.id] = .closed
        }
        return (closing, woken.map(\.waker))
    }

    private mutating func dequeueWaiter() -> (id: UInt64, waker: Waker)? {
        waiters.isEmpty ? nil : waiters.removeFirst()
    }
}
