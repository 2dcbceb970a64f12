/// One connection's prepared statements: SQL text → the server-side name it was prepared under.
///
/// Names are never reused (`lakehook_1`, `lakehook_2`, …), so a statement dropped from the cache
/// can never be confused with a newer one. When full, the connection runs `DEALLOCATE ALL` and
/// calls `removeAll()`, which is simpler than tracking use and costs one re-prepare per statement.
struct PreparedStatementCache {
    static let defaultCapacity = 256

    let capacity: Int
    private var names: [String: String] = [:]
    private var lastNumber = 0

    init(capacity: Int = PreparedStatementCache.defaultCapacity) {
        precondition(capacity > 0, "a prepared statement cache needs room for one statement")
        self.capacity = capacity
    }

    var count: Int { names.count }
    var isFull: Bool { names.count >= capacity }

    func name(for sql: String) -> String? { names[sql] }

    /// A fresh name for `sql`; call `insert` once the server accepted the PREPARE.
    mutating func makeName() -> String {
        lastNumber += 1
        return "lakehook_\(lastNumber)"
    }

    mutating func insert(_ name: String, for sql: String) {
        precondition(!isFull, "clear the cache (DEALLOCATE ALL) before adding to a full one")
        names[sql] = name
    }

    mutating func remove(_ sql: String) { names[sql] = nil }

    mutating func removeAll() { names.removeAll(keepingCapacity: true) }
}
