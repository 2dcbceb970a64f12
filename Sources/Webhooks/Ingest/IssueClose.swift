import Postgres

/// `POST {conn}/issue/:issueKey/close` and the classic `.../issue/:boardKey/:issueKey/close`
/// (API.md §8): status DONE, a resolution date when it had none (DevLake sets none, which empties
/// every recovery-time chart), the lead time when it was 0; the same on its incident row.
/// Closing twice is harmless: the second close finds a resolution date and keeps it.
struct IssueClose: Equatable, Sendable {
    var issueKey: String

    static let sql = """
        WITH issue AS (
            UPDATE issues SET
                status = 'DONE',
                resolution_date = COALESCE(resolution_date, now()),
                lead_time_minutes = CASE
                    WHEN COALESCE(lead_time_minutes, 0) = 0 AND created_date IS NOT NULL
                    THEN trunc(extract(epoch FROM COALESCE(resolution_date, now()) - created_date) / 60)::bigint
                    ELSE lead_time_minutes END,
                updated_at = now()
            WHERE id = $1
            RETURNING id, status, resolution_date, lead_time_minutes
        ), incident AS (
            UPDATE incidents SET
                status = issue.status,
                resolution_date = issue.resolution_date,
                lead_time_minutes = issue.lead_time_minutes,
                updated_at = now()
            FROM issue WHERE incidents.id = issue.id
            RETURNING 1
        )
        SELECT id, status, \(SQLText.iso8601("resolution_date")), lead_time_minutes,
            1 AS issues, (SELECT count(*) FROM incident) AS incidents
        FROM issue
        """

    func binds(for connection: WebhookConnection) -> [String?] { [connection.rowId(issueKey)] }

    func answer(_ result: PostgresResult, for connection: WebhookConnection) throws -> WriteResult {
        guard let row = result.rows.first else {
            throw WebhookError.notFound("unknown issue \"\(issueKey)\"")
        }
        let data: JSONValue = .object([
            "id": row["id"].map(JSONValue.string) ?? .null,
            "status": row["status"].map(JSONValue.string) ?? .null,
            "resolutionDate": row["resolution_date"].map(JSONValue.string) ?? .null,
            "leadTimeMinutes": row["lead_time_minutes"].map(JSONValue.number) ?? .null,
        ])
        return WriteResult(data: data, rows: WriteResult.counts(row, ["issues", "incidents"]))
    }
}
