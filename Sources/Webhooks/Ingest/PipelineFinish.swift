import Postgres

/// `POST {conn}/cicd_pipeline/:pipelineName/finish` (API.md §5): finish a pipeline and derive its
/// result from its tasks, in one transaction with the pipeline row locked.
struct PipelineFinish: Equatable, Sendable {
    var pipelineName: String
    /// When the request came in: the finish of a task (or pipeline) that reported none, and `updated_at`.
    var arrival: Timestamp = .now()

    static let lockSQL = "SELECT status FROM cicd_pipelines WHERE id = $1 FOR UPDATE"

    /// Steps 3 and 4 in one statement: the tasks are closed, and the pipeline is derived from the
    /// tasks' values *after* closing them (the RETURNING rows), so its own aborts count.
    /// Environment precedence: PRODUCTION, then STAGING, TESTING, DEVELOPMENT. `$2` is the arrival.
    static let finishSQL = """
        WITH tasks AS (
            UPDATE cicd_tasks SET
                result = CASE WHEN result = 'IN_PROGRESS' THEN 'ABORT' ELSE result END,
                finished_date = CASE WHEN result = 'IN_PROGRESS' THEN COALESCE(finished_date, $2::timestamptz) ELSE finished_date END,
                duration_sec = CASE WHEN result = 'IN_PROGRESS'
                    THEN extract(epoch FROM COALESCE(finished_date, $2::timestamptz) - started_date)::float8
                    ELSE duration_sec END,
                status = 'DONE',
                updated_at = $2::timestamptz
            WHERE pipeline_id = $1
            RETURNING result, type, environment, started_date, finished_date
        ), derived AS (
            SELECT
                CASE WHEN bool_or(result = 'ABORT') THEN 'ABORT'
                     WHEN bool_or(result = 'FAILURE') THEN 'FAILURE'
                     ELSE 'SUCCESS' END AS result,
                CASE WHEN count(DISTINCT type) = 1 THEN min(type) ELSE '' END AS type,
                CASE WHEN bool_or(environment = 'PRODUCTION') THEN 'PRODUCTION'
                     WHEN bool_or(environment = 'STAGING') THEN 'STAGING'
                     WHEN bool_or(environment = 'TESTING') THEN 'TESTING'
                     WHEN bool_or(environment = 'DEVELOPMENT') THEN 'DEVELOPMENT'
                     ELSE '' END AS environment,
                min(started_date) AS started_date,
                max(finished_date) AS finished_date
            FROM tasks
        )
        UPDATE cicd_pipelines AS p SET
            result = derived.result,
            original_result = derived.result,
            status = 'DONE',
            original_status = 'DONE',
            type = derived.type,
            environment = derived.environment,
            started_date = COALESCE(derived.started_date, p.started_date),
            finished_date = COALESCE(derived.finished_date, $2::timestamptz),
            duration_sec = extract(epoch FROM COALESCE(derived.finished_date, $2::timestamptz)
                - COALESCE(derived.started_date, p.started_date))::float8,
            updated_at = $2::timestamptz
        FROM derived
        WHERE p.id = $1
        RETURNING (SELECT count(*) FROM tasks) AS cicd_tasks, 1 AS cicd_pipelines
        """

    static let readSQL = """
        SELECT id, name, result, status, type, environment, \(SQLText.iso8601("created_date")),
            \(SQLText.iso8601("started_date")), \(SQLText.iso8601("finished_date")), duration_sec
        FROM cicd_pipelines WHERE id = $1
        """

    /// 404 for an unknown pipeline; a pipeline already DONE is answered as it is (a retried finish is harmless).
    func write(_ db: PostgresConnection, for webhook: DevLakeConnection, journal: JournalEntry?) throws -> WriteResult {
        let id = webhook.rowId(pipelineName)
        let locked = try db.query(Self.lockSQL, [id])
        guard let status = locked.rows.first?[0] else {
            throw WebhookError.notFound("unknown pipeline \"\(pipelineName)\"")
        }
        var written: [String: Int] = [:]
        if status != "DONE" {
            let finished = try db.query(Self.finishSQL, [id, arrival.postgresText])
            written = WriteResult.counts(finished.rows.first, ["cicd_tasks", "cicd_pipelines"])
        }
        let row = try db.query(Self.readSQL, [id]).rows[0]
        if let journal { _ = try db.query(JournalEntry.insertSQL, journal.binds(answered: "applied")) }
        return WriteResult(data: Self.describe(row), rows: written)
    }

    static func describe(_ row: PostgresRow) -> JSONValue {
        func text(_ column: String) -> JSONValue { row[column].map(JSONValue.string) ?? .null }
        return .object(JSONObject(members: [
            (key: "id", value: text("id")),
            (key: "name", value: text("name")),
            (key: "result", value: text("result")),
            (key: "status", value: text("status")),
            (key: "type", value: text("type")),
            (key: "environment", value: text("environment")),
            (key: "createdDate", value: text("created_date")),
            (key: "startedDate", value: text("started_date")),
            (key: "finishedDate", value: text("finished_date")),
            (key: "durationSec", value: row["duration_sec"].map(JSONValue.number) ?? .null),
        ]))
    }
}
