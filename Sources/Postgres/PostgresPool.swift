import Dispatch
import Concurrency

/// A fixed-size set of connections lent to one caller at a time, for blocking callers
/// (Dispatch workers or threads of your own, never the Swift concurrency pool).
///
/// Connections open lazily, on demand, up to `size`, so the service can start while the
/// database is down. When all are lent, at most `maxWaiters` callers wait, each up to
/// `waitTimeout`; beyond that a caller gets `.poolTimeout` at once, which `isUnavailable`
/// turns into a 503 rather than an unbounded queue.
///
/// A connection that comes back broken is closed and its slot reopened lazily. An idle one that
/// the server dropped in the meantime (terminated backend, restart) is noticed at checkout —
/// before anything of the caller's is sent — and replaced, so the caller does not see it.
/// Bodies are never retried.
public final class PostgresPool: Sendable {
    /// What each connection connects with.
    public let config: PostgresConfig
    private let waitTimeout: Duration
    private typealias Pool = PoolState<PostgresConnection, DispatchSemaphore>
    private let state: Locked<Pool>

    public init(config: PostgresConfig, size: Int, maxWaiters: Int = 512, waitTimeout: Duration = .seconds(5)) {
        self.config = config
        self.waitTimeout = waitTimeout
        self.state = Locked(PoolState(size: size, maxWaiters: maxWaiters))
    }

    /// Lends a connection to `body` and takes it back afterwards, whatever `body` did.
    public func withConnection<T>(
        file: String = #fileID,
        line: Int = #line,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        let connection = try checkout(file: file, line: line)
        let value: T
        do {
            value = try body(connection)
        } catch {
            checkin(connection, after: error)
            throw error
        }
        checkin(connection, after: nil)
        return value
    }

    /// `withConnection` + `PostgresConnection.transaction`.
    public func transaction<T>(
        file: String = #fileID,
        line: Int = #line,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        try withConnection(file: file, line: line) { connection in
            try connection.transaction(file: file, line: line, body)
        }
    }

    public var statistics: PoolStatistics {
        state.withLock { state in
            PoolStatistics(
                size: state.size,
                open: state.open,
                inUse: state.inUse,
                idle: state.idle.count,
                waiting: state.waiting
            )
        }
    }

    /// Closes the idle connections, wakes every waiter with `.poolClosed`, and refuses new
    /// checkouts; connections still lent are closed when they come back.
    public func close() {
        let (idle, wake) = state.withLock { $0.close() }
        for waker in wake { waker.signal() }
        _ = idle  // The connections close (PQfinish) here, outside the lock.
    }

    // MARK: - Checkout and checkin

    private func checkout(file: String, line: Int) throws -> PostgresConnection {
        let deadline = DispatchTime.now() + DispatchTimeInterval.nanoseconds(waitTimeout.clampedNanoseconds)
        let step: Pool.Checkout
        do throws(Pool.Refusal) {
            step = try state.withLock { state throws(Pool.Refusal) in
                try state.checkout(makeWaker: { DispatchSemaphore(value: 0) })
            }
        } catch {
            switch error {
            case .closed:
                throw PostgresError(kind: .poolClosed, message: "the connection pool is closed", file: file, line: line)
            case .tooManyWaiters:
                let statistics = statistics
                throw PostgresError(
                    kind: .poolTimeout,
                    message: "all \(statistics.size) database connections are busy and \(statistics.waiting) "
                        + "callers are already waiting",
                    file: file,
                    line: line
                )
            }
        }

        let grant: Pool.Grant
        switch step {
        case .granted(let granted):
            grant = granted
        case .wait(let id, let semaphore):
            grant = try wait(id: id, on: semaphore, until: deadline, file: file, line: line)
        }

        switch grant {
        case .connection(let connection):
            if connection.isUsableAfterIdling() { return connection }
            // The server dropped it while idle: replace it in the same slot. The dead one closes
            // when this scope ends.
            return try openConnection(file: file, line: line)
        case .newConnection:
            return try openConnection(file: file, line: line)
        case .closed:
            throw PostgresError(kind: .poolClosed, message: "the connection pool was closed", file: file, line: line)
        }
    }

    /// Each waiter has its own semaphore, queued with it; it is signalled only after the grant
    /// is recorded under the lock.
    private func wait(
        id: UInt64,
        on semaphore: DispatchSemaphore,
        until deadline: DispatchTime,
        file: String,
        line: Int
    ) throws -> Pool.Grant {
        while true {
            if semaphore.wait(timeout: deadline) == .success {
                if let grant = state.withLock({ $0.takeGrant(id) }) { return grant }
                continue
            }
            if let grant = state.withLock({ $0.cancelWait(id) }) { return grant }
            throw PostgresError(
                kind: .poolTimeout,
                message: "no database connection became free within \(waitTimeout)",
                file: file,
                line: line
            )
        }
    }

    /// Opens a connection in a slot the caller holds; frees the slot if that fails.
    private func openConnection(file: String, line: Int) throws -> PostgresConnection {
        do {
            return try PostgresConnection(config: config, file: file, line: line)
        } catch {
            let wake = state.withLock { $0.slotFreed() }
            wake?.signal()
            throw error
        }
    }

    private func checkin(_ connection: PostgresConnection, after error: (any Error)?) {
        let reusable = connection.isReusable(after: error)
        let (discard, wake) = state.withLock { $0.checkin(connection, reusable: reusable) }
        wake?.signal()
        _ = discard  // A discarded connection closes (PQfinish) here, outside the lock.
    }
}
