import Postgres

/// `POST {conn}/issue/:issueKey/close` and the classic `.../issue/:boardKey/:issueKey/close`
/// (API.md §8): status DONE, a resolution date when it had none (DevLake sets none, which empties
/// every recovery-time chart), the lead time when it was 0; the same on its incident row.
/// Closing twice is harmless: the second close finds a resolution date and keeps it.
struct IssueClose: Equatable, Sendable {
    var issueKey: String
    /// When the request came in: the resolution date of an issue that had none, and `updated_at`.
    var arrival: Timestamp = .now()

    /// One call of `lakehook_close_issue` (migrations 0006, 0010): the issue row is locked first
    /// and its incident row updated in a fresh snapshot, so an incident that a concurrent upsert
    /// has just created is closed too. A resolution before the issue's creation keeps lead time 0.
    static let sql = """
        SELECT id, status, \(SQLText.iso8601("resolution_date")), lead_time_minutes,
            n_issues AS issues, n_incidents AS incidents
        FROM lakehook_close_issue($1, $2)
        """

    func binds(for webhook: DevLakeConnection) -> [String?] { [webhook.rowId(issueKey), arrival.postgresText] }

    func answer(_ result: PostgresResult, for webhook: DevLakeConnection) throws -> WriteResult {
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
