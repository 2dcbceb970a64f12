import Postgres

/// One write of the ingest API, decoded and validated, ready to run against the database.
protocol IngestOperation: Sendable {
    /// Writes the rows, and `journal`'s row when it is accepted, and returns the answer's `data`
    /// and how many rows it wrote per table. Throws `WebhookError` for refusals (404, 403), which
    /// roll back whatever it did (and write no journal row: the caller journals the refusal).
    func write(_ db: PostgresConnection, for webhook: DevLakeConnection, journal: JournalEntry?) throws -> WriteResult
}

extension IngestOperation {
    /// Writes without a journal row.
    func write(_ db: PostgresConnection, for webhook: DevLakeConnection) throws -> WriteResult {
        try write(db, for: webhook, journal: nil)
    }
}

/// An operation that is one data-modifying statement (atomic by itself, so it runs without
/// BEGIN/COMMIT): it can go through a connection's pipeline on the event loop, or be run
/// blocking with `write`.
protocol SingleStatementOperation: IngestOperation {
    /// The statement; an operation may choose among several by what it writes.
    var statement: IngestStatement { get }
    func binds(for webhook: DevLakeConnection) -> [String?]
    /// The answer from the statement's result; throws `WebhookError` for refusals (404, 403, 409),
    /// for which the statement wrote nothing.
    func answer(_ result: PostgresResult, for webhook: DevLakeConnection) throws -> WriteResult
    /// Whether `error` says the statement met a concurrent write its snapshot could not see and
    /// failed whole, so that running it once more (on a blocking connection) gives the true answer.
    func runsAgain(after error: PostgresError) -> Bool
}

extension SingleStatementOperation {
    func runsAgain(after error: PostgresError) -> Bool { false }

    /// The statement alone, without the journal's row.
    var sql: String { statement.text }

    /// The statement and its parameters: with the journal's row when `journal` is given.
    func query(for webhook: DevLakeConnection, journal: JournalEntry?) -> (sql: String, binds: [String?]) {
        let binds = binds(for: webhook)
        guard let journal else { return (statement.text, binds) }
        return (statement.journaled(parameterCount: binds.count), binds + journal.binds)
    }

    /// Runs the statement, once more when `runsAgain(after:)` says so. Inside a transaction (a
    /// keyed request, a dry run, an import batch) the failed statement would abort it, so the
    /// statement runs under a savepoint there, and the rerun starts from it.
    func write(_ db: PostgresConnection, for webhook: DevLakeConnection, journal: JournalEntry?) throws -> WriteResult {
        let query = query(for: webhook, journal: journal)
        let savepoint = db.isInTransaction
        for _ in 0..<2 {
            if savepoint { _ = try db.query("SAVEPOINT lakehook_statement", []) }
            do {
                return try answer(db.query(query.sql, query.binds), for: webhook)
            } catch let error as PostgresError where runsAgain(after: error) {
                if savepoint { _ = try db.query("ROLLBACK TO SAVEPOINT lakehook_statement", []) }
                continue
            }
        }
        // Yet another concurrent write in between: nothing was written; the client may retry.
        throw WebhookError.unavailable("a concurrent request wrote the same row; retry later")
    }
}

extension IssueUpsert: SingleStatementOperation {}
extension TaskUpsert: SingleStatementOperation {}
extension IssueClose: SingleStatementOperation {
    var statement: IngestStatement { Self.statement }
    static let statement = IngestStatement(body: sql, accepted: "EXISTS (SELECT FROM written)")
}
extension DeploymentUpsert: SingleStatementOperation {}
extension PullRequestUpsert: SingleStatementOperation {}
extension PipelineFinish: IngestOperation {}

/// What a write answers, and what it wrote (for `lakehook_rows_written_total`).
struct WriteResult: Sendable {
    var data: JSONValue
    var rows: [String: Int]
    /// Why nothing was changed, when the stored rows are newer than the post (a late event):
    /// the answer says `applied: false` and this reason, and the journal says `stale`.
    var stale: String? = nil

    /// A late event's answer (issue 16): the `data` an applied write answers, with
    /// `applied: false` and `reason` after it; nothing was written, so every table counts 0.
    static func late(_ data: JSONObject, reason: String, tables: [String]) -> WriteResult {
        var answered = data
        answered.members += [(key: "applied", value: .bool(false)), (key: "reason", value: .string(reason))]
        var rows: [String: Int] = [:]
        for table in tables { rows[table] = 0 }
        return WriteResult(data: .object(answered), rows: rows, stale: reason)
    }

    /// Counts from a row whose columns are named after tables (`SELECT ... AS issues`).
    static func counts(_ row: PostgresRow?, _ tables: [String]) -> [String: Int] {
        var rows: [String: Int] = [:]
        for table in tables { rows[table] = row?[table].flatMap { Int($0) } ?? 0 }
        return rows
    }
}
