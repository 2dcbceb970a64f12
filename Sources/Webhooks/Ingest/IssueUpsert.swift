import Postgres

/// `POST {conn}/issues` (API.md §3): create or replace an issue, its board links and, for
/// incidents, its `incidents` and `incident_assignees` rows — in one statement, so one round trip
/// and atomically.
struct IssueUpsert: Equatable, Sendable {
    var issueKey: String
    var title: String
    var status: String
    var originalStatus: String
    var createdDate: Timestamp
    var boardKey: String
    var url: String
    var description: String
    var epicKey: String
    var type: String
    var originalType: String
    var priority: String
    var severity: String
    var component: String
    var storyPoint: Double
    var resolutionDate: Timestamp?
    var updatedDate: Timestamp?
    var leadTimeMinutes: Int64
    var parentIssueKey: String
    var creatorId: String
    var creatorName: String
    var assigneeId: String
    var assigneeName: String
    var originalEstimateMinutes: Int64
    var timeSpentMinutes: Int64
    var timeRemainingMinutes: Int64
    /// When the request came in: the rows' `created_at` / `updated_at` and a new board's `created_date`.
    var arrival: Timestamp

    /// Reads a body; every problem goes to `causes` and the result is nil when there is any.
    /// `arrival` is when the request came in.
    static func decode(
        _ body: JSONObject, for webhook: DevLakeConnection, arrival: Timestamp = .now()
    ) -> Result<IssueUpsert, WebhookError> {
        var r = FieldReader(body, timeZone: webhook.timeZone)
        let maxId = webhook.maxKeyLength
        let issueKey = r.key("issue_key", in: webhook)
        let title = r.string("title", required: true)
        let status = r.enumeration("status", allowed: Vocabulary.issueStatuses, required: true)
        let originalStatus = r.string("original_status", required: true, maxLength: Width.short)
        let createdDate = r.timestamp("created_date", required: true)
        let boardKey = r.string("board_key", maxLength: maxId) ?? ""
        let url = r.string("url", maxLength: Width.key) ?? ""
        let description = r.string("description") ?? ""
        let epicKey = r.string("epic_key", maxLength: Width.key) ?? ""
        // `original_type` (varchar(500)) keeps the client's spelling; `type` (varchar(100)) the
        // upper-cased one, which can be longer ("ß" → "SS"), so that is what must fit.
        let originalType = r.string("type", maxLength: 500) ?? ""
        if originalType.uppercased().unicodeScalars.count > Width.short {
            r.fail("type", "is longer than \(Width.short) characters once upper-cased")
        }
        let priority = r.string("priority", maxLength: Width.key) ?? ""
        let severity = r.string("severity", maxLength: Width.key) ?? ""
        let component = r.string("component", maxLength: Width.key) ?? ""
        let storyPoint = r.double("story_point") ?? 0
        let resolutionDate = r.timestamp("resolution_date")
        let updatedDate = r.timestamp("updated_date")
        var leadTime = r.integer("lead_time_minutes") ?? 0
        let parentIssueKey = r.string("parent_issue_key", maxLength: maxId) ?? ""
        let creatorId = r.string("creator_id", maxLength: maxId) ?? ""
        let creatorName = r.string("creator_name", maxLength: Width.key) ?? ""
        let assigneeId = r.string("assignee_id", maxLength: maxId) ?? ""
        let assigneeName = r.string("assignee_name", maxLength: Width.key) ?? ""
        let estimate = r.integer("original_estimate_minutes") ?? 0
        let spent = r.integer("time_spent_minutes") ?? 0
        let remaining = r.integer("time_remaining_minutes") ?? 0

        // A lead time is never negative (as a deployment's finish never precedes its start).
        if let createdDate, let resolutionDate, resolutionDate < createdDate {
            r.fail("resolution_date", "is before \(r.spelling(of: "created_date"))")
        }
        if leadTime < 0 {
            r.fail("lead_time_minutes", "must not be negative")
        }
        guard r.causes.isEmpty, let issueKey, let title, let status, let originalStatus, let createdDate else {
            return .failure(.invalidBody(r.causes))
        }
        if leadTime == 0, let resolutionDate {
            leadTime = resolutionDate.minutes(since: createdDate)
        }
        return .success(IssueUpsert(
            issueKey: issueKey, title: title, status: status, originalStatus: originalStatus,
            createdDate: createdDate, boardKey: boardKey, url: url, description: description, epicKey: epicKey,
            type: originalType.uppercased(), originalType: originalType, priority: priority, severity: severity,
            component: component, storyPoint: storyPoint, resolutionDate: resolutionDate, updatedDate: updatedDate,
            leadTimeMinutes: leadTime, parentIssueKey: parentIssueKey, creatorId: creatorId, creatorName: creatorName,
            assigneeId: assigneeId, assigneeName: assigneeName, originalEstimateMinutes: estimate,
            timeSpentMinutes: spent, timeRemainingMinutes: remaining, arrival: arrival))
    }

    var isIncident: Bool { type == "INCIDENT" }

    /// The issue is always linked to the connection's board (what project mappings and DevLake's
    /// dashboards join on) and, when the body names a board, to that board too.
    ///
    /// The write is one call of `lakehook_upsert_issue` (migrations 0006, 0010): one statement for
    /// the client, but inside it the issue row is locked before its children are replaced, each in
    /// a fresh snapshot, so concurrent re-posts of one key end as exactly one of them wrote it. An
    /// incident and any other issue call it with a literal flag, so each has a statement (and a
    /// cached plan) of its own.
    ///
    /// A late post (the stored `updated_date` is later than the posted one) writes nothing, and
    /// the function answers the stored date (`stored_updated`).
    var statement: IngestStatement { isIncident ? Self.incidentStatement : Self.issueStatement }

    private static let stale = "(SELECT stored_updated FROM written) IS NOT NULL"
    static let issueStatement = IngestStatement(body: issueSQL, stale: stale)
    static let incidentStatement = IngestStatement(body: incidentSQL, stale: stale)

    /// Not an incident (any more): the issue, its boards and links; its incident rows removed.
    static let issueSQL = """
        SELECT \(Self.written) FROM lakehook_upsert_issue(false,
            $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
            $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32)
        """

    /// An incident: the issue, its boards and links, its `incidents` row and its assignee.
    static let incidentSQL = """
        SELECT \(Self.written) FROM lakehook_upsert_issue(true,
            $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
            $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32)
        """

    /// The function's counts, named after their tables.
    private static let written = """
        n_issues AS issues, n_boards AS boards, n_board_issues AS board_issues, n_incidents AS incidents,
            n_incident_assignees AS incident_assignees, \(SQLText.iso8601("stored_updated"))
        """

    func binds(for webhook: DevLakeConnection) -> [String?] {
        func prefixed(_ value: String) -> String { value.isEmpty ? "" : webhook.rowId(value) }
        return [
            webhook.rowId(issueKey),                             // $1
            webhook.scopeId,                                     // $2
            webhook.name,                                        // $3
            webhook.rawDataParams,                               // $4
            boardKey.isEmpty ? nil : webhook.rowId(boardKey),    // $5
            boardKey,                                            // $6
            issueKey, title, status, originalStatus,             // $7–$10
            createdDate.postgresText, url, description, epicKey, // $11–$14
            type, originalType, priority, severity, component,   // $15–$19
            storyPoint.bind, resolutionDate.bind, updatedDate.bind, // $20–$22
            String(leadTimeMinutes), prefixed(parentIssueKey),   // $23–$24
            prefixed(creatorId), creatorName, prefixed(assigneeId), assigneeName, // $25–$28
            String(originalEstimateMinutes), String(timeSpentMinutes), String(timeRemainingMinutes), // $29–$31
            arrival.postgresText,                                // $32
        ]
    }

    static let tables = ["issues", "boards", "board_issues", "incidents", "incident_assignees"]

    func answer(_ result: PostgresResult, for webhook: DevLakeConnection) throws -> WriteResult {
        let row = result.rows.first
        let data: JSONObject = ["id": .string(webhook.rowId(issueKey))]
        if let stored = row?["stored_updated"] {
            return .late(data, reason: "the stored issue was updated at \(SQLText.storedDate(stored)), later than this post's"
                + " updated_date \(updatedDate.map(\.iso8601) ?? "none"); it is unchanged", tables: Self.tables)
        }
        return WriteResult(data: .object(data), rows: WriteResult.counts(row, Self.tables))
    }

    /// SQLSTATE LH001 (migration 0010): a later update of the issue committed between the
    /// function's late check and its row lock; it wrote nothing, and a run once more finds the
    /// post late.
    func runsAgain(after error: PostgresError) -> Bool {
        error.sqlState == Self.laterUpdateWhileWaiting
    }

    static let laterUpdateWhileWaiting = "LH001"
}
