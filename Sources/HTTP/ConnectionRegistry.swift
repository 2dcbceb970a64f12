import Dispatch
import Concurrency

/// Whether a new connection is served, and if not, why.
enum Admission: Sendable {
    case admitted
    /// Over a cap with no silent connection to close instead: answered 503 and closed.
    case refused(HTTPRefusal.Reason)

    var isAdmitted: Bool {
        if case .admitted = self { return true }
        return false
    }
}

/// The server's open connections: admission against `maxConnections` and
/// `maxConnectionsPerClient`, lookup for shutdown, and a group to wait on until all have closed.
///
/// A connection is *silent* until it has sent a complete request head. When a new connection
/// finds its client (or the server) at the cap, the oldest silent connection of that client (or
/// of anyone) gives up its slot at once and is closed on its own loop; only when there is none is
/// the new connection refused. So sockets that never speak — or dribble a head — cannot keep
/// `/readyz` or a real client out; the cost of holding a slot is sending a request.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        var connection: Connection
        var client: String
        /// Counted against the caps (false once evicted, or when refused from the start).
        var counted: Bool
    }

    private struct State {
        var connections: [ObjectIdentifier: Entry] = [:]
        var admitted = 0
        var perClient: [String: Int] = [:]
        var silent = SilentQueue()
        var accepting = true
    }

    private let state = Locked(State())
    private let group = DispatchGroup()
    private let maxConnections: Int
    private let maxPerClient: Int

    init(maxConnections: Int, maxPerClient: Int) {
        self.maxConnections = maxConnections
        self.maxPerClient = max(1, maxPerClient)
    }

    /// Connections counted against the cap.
    var admittedCount: Int { state.withLock { $0.admitted } }

    var all: [Connection] { state.withLock { $0.connections.values.map(\.connection) } }

    /// Registers the connection `make` builds for `client` (the peer's IP), telling it whether it
    /// is admitted, and returns it with the silent connections closed to make room (the caller
    /// closes them on their loops); nil once `stopAccepting` was called.
    func register(
        client: String, _ make: (Admission) -> Connection
    ) -> (connection: Connection, evicted: [Connection])? {
        state.withLock { state in
            guard state.accepting else { return nil }
            var evicted: [Connection] = []
            var admission = Admission.admitted
            if state.perClient[client, default: 0] >= maxPerClient {
                if let victim = Self.evictOldestSilent(&state, of: client) {
                    evicted.append(victim)
                } else {
                    admission = .refused(.clientLimit)
                }
            }
            if admission.isAdmitted, state.admitted >= maxConnections {
                if let victim = Self.evictOldestSilent(&state, of: nil) {
                    evicted.append(victim)
                } else {
                    admission = .refused(.connectionLimit)
                }
            }
            let connection = make(admission)
            let id = ObjectIdentifier(connection)
            state.connections[id] = Entry(connection: connection, client: client, counted: admission.isAdmitted)
            if admission.isAdmitted {
                state.admitted += 1
                state.perClient[client, default: 0] += 1
                state.silent.append(id, client: client)
            }
            group.enter()
            return (connection, evicted)
        }
    }

    /// The connection has sent its first complete request head: it is no longer silent.
    func spoke(_ connection: Connection) {
        state.withLock { $0.silent.remove(ObjectIdentifier(connection)) }
    }

    /// Called once per connection when it has closed.
    func remove(_ connection: Connection) {
        let removed = state.withLock { state in
            let id = ObjectIdentifier(connection)
            guard let entry = state.connections.removeValue(forKey: id) else { return false }
            if entry.counted { Self.uncount(&state, id: id, client: entry.client) }
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

    /// Frees the slot of the oldest silent connection (of `client`, or of anyone) and returns
    /// it; nil when there is none.
    private static func evictOldestSilent(_ state: inout State, of client: String?) -> Connection? {
        guard let id = state.silent.oldest(of: client), let entry = state.connections[id] else { return nil }
        state.connections[id]?.counted = false
        uncount(&state, id: id, client: entry.client)
        return entry.connection
    }

    private static func uncount(_ state: inout State, id: ObjectIdentifier, client: String) {
        state.admitted -= 1
        let left = state.perClient[client, default: 1] - 1
        state.perClient[client] = left > 0 ? left : nil
        state.silent.remove(id)
    }
}

/// The silent connections in the order they arrived. Removal is lazy (a member set and a
/// queue compacted when mostly stale), so arrival, speaking and closing cost O(1); finding the
/// oldest of one client scans the queue (at most `maxConnections` live entries).
struct SilentQueue {
    private var order: [(id: ObjectIdentifier, client: String)] = []
    private var start = 0
    private var members: Set<ObjectIdentifier> = []

    mutating func append(_ id: ObjectIdentifier, client: String) {
        members.insert(id)
        order.append((id, client))
    }

    mutating func remove(_ id: ObjectIdentifier) {
        guard members.remove(id) != nil else { return }
        if order.count - start > 2 * members.count + 64 { compact() }
    }

    /// The oldest member (of `client` when given); it stays a member until `remove`.
    mutating func oldest(of client: String?) -> ObjectIdentifier? {
        while start < order.count, !members.contains(order[start].id) { start += 1 }
        for index in start..<order.count where members.contains(order[index].id) {
            if client == nil || order[index].client == client { return order[index].id }
        }
        return nil
    }

    private mutating func compact() {
        order = order[start...].filter { members.contains($0.id) }
        start = 0
    }
}
