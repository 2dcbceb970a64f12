import Postgres

/// One write of the ingest API, decoded and validated, ready to run against the database.
protocol IngestOperation {
    /// Writes the rows and returns the answer's `data` and how many rows it wrote per table.
    /// Throws `WebhookError` for refusals (404, 403), which roll back whatever it did.
    func write(_ db: PostgresConnection, for connection: WebhookConnection) throws -> WriteResult
    /// An operation of one statement runs without BEGIN/COMMIT (the statement is atomic by
    /// itself), saving two round trips; the others run inside a transaction.
    var isSingleStatement: Bool { get }
}

extension IssueUpsert: IngestOperation { var isSingleStatement: Bool { true } }
extension TaskUpsert: IngestOperation { var isSingleStatement: Bool { true } }
extension IssueClose: IngestOperation { var isSingleStatement: Bool { true } }
extension PipelineFinish: IngestOperation { var isSingleStatement: Bool { false } }
extension DeploymentUpsert: IngestOperation { var isSingleStatement: Bool { true } }
extension PullRequestUpsert: IngestOperation { var isSingleStatement: Bool { true } }

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
