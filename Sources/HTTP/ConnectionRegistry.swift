import Dispatch

/// The server's open connections: admission against `maxConnections`, lookup for shutdown,
/// and a group to wait on until all have closed.
final class ConnectionRegistry: Sendable {
    private struct State {
        var connections: [ObjectIdentifier: Connection] = [:]
        var admitted = 0
        var accepting = true
    }

    private let state = Locked(State())
    private let group = DispatchGroup()
    private let maxConnections: Int

    init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    /// Connections counted against the cap.
    var admittedCount: Int { state.withLock { $0.admitted } }

    var all: [Connection] { state.withLock { Array($0.connections.values) } }

    /// Registers the connection `make` builds, telling it whether it is within the cap;
    /// nil once `stopAccepting` was called.
    func register(_ make: (_ admitted: Bool) -> Connection) -> Connection? {
        state.withLock { state in
            guard state.accepting else { return nil }
            let admitted = state.admitted < maxConnections
            if admitted { state.admitted += 1 }
            let connection = make(admitted)
            state.connections[ObjectIdentifier(connection)] = connection
            group.enter()
            return connection
        }
    }

    /// Called once per connection when it has closed.
    func remove(_ connection: Connection) {
        let removed = state.withLock { state in
            guard state.connections.removeValue(forKey: ObjectIdentifier(connection)) != nil else { return false }
            if connection.isAdmitted { state.admitted -= 1 }
            return true
        }
        if removed { group.leave() }
    }

    func stopAccepting() {
        state.withLock { $0.accepting = false }
    }

    /// Waits until every registered connection has closed; false if `deadline` came first.
    func waitUntilEmpty(deadline: DispatchTime) -> Bool {
        group.wait(timeout: deadline) == .success
    }
}
