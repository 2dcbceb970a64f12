import Postgres

/// One write of the ingest API, decoded and validated, ready to run against the database.
protocol IngestOperation {
    /// Writes the rows and returns the answer's `data`. Throws `WebhookError` for refusals
    /// (404, 403), which roll back whatever the operation did.
    func write(_ db: PostgresConnection, for connection: WebhookConnection) throws -> JSONValue
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
