import Postgres

/// Several operations of one source event, run in order in one transaction (the executor runs
/// any operation that is not a single statement in one), with the event's journal row in it:
/// all of them are committed with their journal row, or none is.
struct CompositeOperation: IngestOperation {
    var operations: [any IngestOperation]

    func write(_ db: PostgresConnection, for webhook: DevLakeConnection, journal: JournalEntry?) throws -> WriteResult {
        var data: [JSONValue] = []
        var rows: [String: Int] = [:]
        for operation in operations {
            let result = try operation.write(db, for: webhook, journal: nil)
            data.append(result.data)
            rows.merge(result.rows, uniquingKeysWith: +)
        }
        if let journal { _ = try db.query(JournalEntry.insertSQL, journal.binds(answered: "applied")) }
        return WriteResult(data: .array(data), rows: rows)
    }
}
