import Postgres

/// One write of the ingest API, decoded and validated, ready to run against the database.
protocol IngestOperation: Sendable {
    /// Writes the rows and returns the answer's `data` and how many rows it wrote per table.
    /// Throws `WebhookError` for refusals (404, 403), which roll back whatever it did.
    func write(_ db: PostgresConnection, for connection: WebhookConnection) throws -> WriteResult
}

/// An operation that is one data-modifying statement (atomic by itself, so it runs without
/// BEGIN/COMMIT): it can go through a connection's pipeline on the event loop, or be run
/// blocking with `write`.
protocol SingleStatementOperation: IngestOperation {
    /// The statement; an operation may choose among several by what it writes.
    var sql: String { get }
    func binds(for connection: WebhookConnection) -> [String?]
    /// The answer from the statement's result; throws `WebhookError` for refusals (404, 403, 409),
    /// for which the statement wrote nothing.
    func answer(_ result: PostgresResult, for connection: WebhookConnection) throws -> WriteResult
    /// Whether `error` says the statement met a concurrent write its snapshot could not see and
    /// failed whole, so that running it once more (on a blocking connection) gives the true answer.
    func runsAgain(after error: PostgresError) -> Bool
}

extension SingleStatementOperation {
    func runsAgain(after error: PostgresError) -> Bool { false }

    /// Runs the statement, once more when `runsAgain(after:)` says so.
    func write(_ db: PostgresConnection, for connection: WebhookConnection) throws -> WriteResult {
        for _ in 0..<2 {
            do {
                return try answer(db.query(sql, binds(for: connection)), for: connection)
            } catch let error as PostgresError where runsAgain(after: error) {
                continue
            }
        }
        // Yet another concurrent write in between: nothing was written; the client may retry.
        throw WebhookError.unavailable("a concurrent request wrote the same row; retry later")
    }
}

extension IssueUpsert: SingleStatementOperation {}
extension TaskUpsert: SingleStatementOperation {}
extension IssueClose: SingleStatementOperation { var sql: String { Self.sql } }
extension DeploymentUpsert: SingleStatementOperation {}
extension PullRequestUpsert: SingleStatementOperation { var sql: String { Self.sql } }
extension PipelineFinish: IngestOperation {}

/// What a write answers, and what it wrote (for `lakehook_rows_written_total`).
struct WriteResult {
    var data: JSONValue
    var rows: [String: Int]

    /// Counts from a row whose columns are named after tables (`SELECT ... AS issues`).
    static func counts(_ row: PostgresRow?, _ tables: [String]) -> [String: Int] {
        var rows: [String: Int] = [:]
        for table in tables { rows[table] = row?[table].flatMap { Int($0) } ?? 0 }
        return rows
    }
}
