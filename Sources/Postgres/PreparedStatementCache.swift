/// One connection's prepared statements: SQL text → the server-side name it was prepared under.
///
/// Names are never reused (`lakehook_1`, `lakehook_2`, …), so a statement dropped from the cache
/// can never be confused with a newer one. When full, the connection runs `DEALLOCATE ALL` and
/// calls `removeAll()`, which is simpler than tracking use and costs one re-prepare per statement.
struct PreparedStatementCache {
    static let defaultCapacity = 256

    let capacity: Int
    private var names: [SQLKey: String] = [:]
    private var lastNumber = 0

    init(capacity: Int = PreparedStatementCache.defaultCapacity) {
        precondition(capacity > 0, "a prepared statement cache needs room for one statement")
        self.capacity = capacity
    }

    var count: Int { names.count }
    var isFull: Bool { names.count >= capacity }

    func name(for sql: String) -> String? { names[SQLKey(sql)] }

    /// A fresh name for `sql`; call `insert` once the server accepted the PREPARE.
    mutating func makeName() -> String {
        lastNumber += 1
        return "lakehook_\(lastNumber)"
    }

    mutating func insert(_ name: String, for sql: String) {
        precondition(!isFull, "clear the cache (DEALLOCATE ALL) before adding to a full one")
        names[SQLKey(sql)] = name
    }

    mutating func remove(_ sql: String) { names[SQLKey(sql)] = nil }

    mutating func removeAll() { names.removeAll(keepingCapacity: true) }
}

/// SQL text as a dictionary key that hashes its length and at most 64 bytes from each end
/// instead of the whole text: the ingest statements are 1–4 KB and are looked up on every
/// query (hashing them whole showed in `make bench`). Equality still compares the whole text
/// (at once when both are the same string, as a `static let` statement is), so texts that hash
/// alike only share a bucket.
struct SQLKey: Hashable {
    let sql: String

    init(_ sql: String) {
        self.sql = sql
    }

    static func == (lhs: SQLKey, rhs: SQLKey) -> Bool { lhs.sql == rhs.sql }

    func hash(into hasher: inout Hasher) {
        var sql = sql
        sql.withUTF8 { bytes in
            hasher.combine(bytes.count)
            let edge = min(64, bytes.count)
            hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[..<edge])))
            hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[(bytes.count - edge)...])))
        }
    }
}
