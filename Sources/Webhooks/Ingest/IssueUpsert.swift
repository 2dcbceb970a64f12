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

    /// Reads a body; every problem goes to `causes` and the result is nil when there is any.
    static func decode(_ body: JSONObject, for connection: WebhookConnection) -> Result<IssueUpsert, WebhookError> {
        var r = FieldReader(body)
        let maxId = connection.maxKeyLength
        let issueKey = r.key("issue_key", in: connection)
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
            timeSpentMinutes: spent, timeRemainingMinutes: remaining))
    }

    var isIncident: Bool { type == "INCIDENT" }

    /// The issue is always linked to the connection's board (what project mappings and DevLake's
    /// dashboards join on) and, when the body names a board, to that board too.
    ///
    /// An incident and an issue of another type have statements of their own rather than one with
    /// `WHERE $32::boolean` switches: PostgreSQL sets up every data-modifying CTE of a statement
    /// whether it writes a row or not, and the incident's two upserts, set up for nothing, made a
    /// plain issue's statement cost a quarter more of the server's time (docs/PERFORMANCE.md).
    var sql: String { isIncident ? Self.incidentSQL : Self.issueSQL }

    /// Not an incident (any more): the issue, its boards and links; no incident rows.
    static let issueSQL = """
        WITH \(Self.issueAndLinks), not_incident AS (
            DELETE FROM incidents WHERE id = $1
        ), stale_assignees AS (
            DELETE FROM incident_assignees WHERE incident_id = $1
        )
        SELECT \(Self.issueCounts), 0 AS incidents, 0 AS incident_assignees
        """

    /// An incident: the issue, its boards and links, its `incidents` row and its assignee.
    static let incidentSQL = """
        WITH \(Self.issueAndLinks), incident AS (
            INSERT INTO incidents (
                id, incident_key, title, description, status, original_status, url, resolution_date,
                created_date, updated_date, lead_time_minutes, original_estimate_minutes, time_spent_minutes,
                time_remaining_minutes, creator_id, creator_name, parent_incident_id, priority, severity,
                urgency, component, original_project, "table", scope_id, assignee_id, assignee_name,
                _raw_data_table, _raw_data_params)
            SELECT
                $1, $7, $8, $13, $9, $10, $12, $21::timestamptz,
                $11::timestamptz, $22::timestamptz, $23::bigint, $29::bigint, $30::bigint,
                $31::bigint, $25, $26, $24, $17, $18,
                '', $19, '', 'boards', $2, $27, $28,
                'webhook', $4
            ON CONFLICT (id) DO UPDATE SET
                incident_key = EXCLUDED.incident_key, title = EXCLUDED.title,
                description = EXCLUDED.description, status = EXCLUDED.status,
                original_status = EXCLUDED.original_status, url = EXCLUDED.url,
                resolution_date = EXCLUDED.resolution_date, created_date = EXCLUDED.created_date,
                updated_date = EXCLUDED.updated_date, lead_time_minutes = EXCLUDED.lead_time_minutes,
                original_estimate_minutes = EXCLUDED.original_estimate_minutes,
                time_spent_minutes = EXCLUDED.time_spent_minutes,
                time_remaining_minutes = EXCLUDED.time_remaining_minutes,
                creator_id = EXCLUDED.creator_id, creator_name = EXCLUDED.creator_name,
                parent_incident_id = EXCLUDED.parent_incident_id, priority = EXCLUDED.priority,
                severity = EXCLUDED.severity, component = EXCLUDED.component,
                assignee_id = EXCLUDED.assignee_id, assignee_name = EXCLUDED.assignee_name,
                updated_at = now()
            RETURNING 1
        ), stale_assignees AS (
            DELETE FROM incident_assignees WHERE incident_id = $1 AND assignee_id IS DISTINCT FROM $27
        ), assignee AS (
            INSERT INTO incident_assignees (incident_id, assignee_id, assignee_name, _raw_data_table, _raw_data_params)
            SELECT $1, $27, $28, 'webhook', $4 WHERE $27 <> ''
            ON CONFLICT (incident_id, assignee_id) DO UPDATE SET assignee_name = EXCLUDED.assignee_name, updated_at = now()
            RETURNING 1
        )
        SELECT \(Self.issueCounts), (SELECT count(*) FROM incident) AS incidents,
            (SELECT count(*) FROM assignee) AS incident_assignees
        """

    /// The CTEs both statements start with: the boards, the issue, its board links.
    private static let issueAndLinks = """
        connection_board AS (
            INSERT INTO boards (id, name, type, created_date, _raw_data_table, _raw_data_params)
            VALUES ($2, $3, 'webhook', now(), 'webhook', $4)
            ON CONFLICT (id) DO NOTHING
            RETURNING 1
        ), key_board AS (
            INSERT INTO boards (id, name, type, created_date, _raw_data_table, _raw_data_params)
            SELECT $5::varchar, $6, 'webhook', now(), 'webhook', $4 WHERE $5::varchar IS NOT NULL
            ON CONFLICT (id) DO NOTHING
            RETURNING 1
        ), issue AS (
            INSERT INTO issues (
                id, issue_key, title, status, original_status, created_date, url, description, epic_key,
                type, original_type, priority, severity, component, story_point, resolution_date, updated_date,
                lead_time_minutes, parent_issue_id, creator_id, creator_name, assignee_id, assignee_name,
                original_estimate_minutes, time_spent_minutes, time_remaining_minutes,
                icon_url, original_project, urgency, is_subtask, fix_versions, _raw_data_table, _raw_data_params)
            VALUES (
                $1, $7, $8, $9, $10, $11::timestamptz, $12, $13, $14,
                $15, $16, $17, $18, $19, $20::float8, $21::timestamptz, $22::timestamptz,
                $23::bigint, $24, $25, $26, $27, $28,
                $29::bigint, $30::bigint, $31::bigint,
                '', '', '', false, '', 'webhook', $4)
            ON CONFLICT (id) DO UPDATE SET
                issue_key = EXCLUDED.issue_key, title = EXCLUDED.title, status = EXCLUDED.status,
                original_status = EXCLUDED.original_status, created_date = EXCLUDED.created_date,
                url = EXCLUDED.url, description = EXCLUDED.description, epic_key = EXCLUDED.epic_key,
                type = EXCLUDED.type, original_type = EXCLUDED.original_type, priority = EXCLUDED.priority,
                severity = EXCLUDED.severity, component = EXCLUDED.component, story_point = EXCLUDED.story_point,
                resolution_date = EXCLUDED.resolution_date, updated_date = EXCLUDED.updated_date,
                lead_time_minutes = EXCLUDED.lead_time_minutes, parent_issue_id = EXCLUDED.parent_issue_id,
                creator_id = EXCLUDED.creator_id, creator_name = EXCLUDED.creator_name,
                assignee_id = EXCLUDED.assignee_id, assignee_name = EXCLUDED.assignee_name,
                original_estimate_minutes = EXCLUDED.original_estimate_minutes,
                time_spent_minutes = EXCLUDED.time_spent_minutes,
                time_remaining_minutes = EXCLUDED.time_remaining_minutes,
                updated_at = now()
            RETURNING id
        ), stale_links AS (
            DELETE FROM board_issues
            WHERE issue_id = $1 AND board_id <> $2 AND board_id IS DISTINCT FROM $5::varchar
        ), links AS (
            INSERT INTO board_issues (board_id, issue_id, _raw_data_table, _raw_data_params)
            SELECT board, $1, 'webhook', $4 FROM unnest(ARRAY[$2::varchar, $5::varchar]) AS board
            WHERE board IS NOT NULL
            ON CONFLICT (board_id, issue_id) DO NOTHING
            RETURNING 1
        )
        """

    private static let issueCounts = """
        (SELECT count(*) FROM issue) AS issues,
            (SELECT count(*) FROM connection_board) + (SELECT count(*) FROM key_board) AS boards,
            (SELECT count(*) FROM links) AS board_issues
        """

    func binds(for connection: WebhookConnection) -> [String?] {
        func prefixed(_ value: String) -> String { value.isEmpty ? "" : connection.rowId(value) }
        return [
            connection.rowId(issueKey),                          // $1
            connection.scopeId,                                  // $2
            connection.name,                                     // $3
            connection.rawDataParams,                            // $4
            boardKey.isEmpty ? nil : connection.rowId(boardKey), // $5
            boardKey,                                            // $6
            issueKey, title, status, originalStatus,             // $7–$10
            createdDate.postgresText, url, description, epicKey, // $11–$14
            type, originalType, priority, severity, component,   // $15–$19
            storyPoint.bind, resolutionDate.bind, updatedDate.bind, // $20–$22
            String(leadTimeMinutes), prefixed(parentIssueKey),   // $23–$24
            prefixed(creatorId), creatorName, prefixed(assigneeId), assigneeName, // $25–$28
            String(originalEstimateMinutes), String(timeSpentMinutes), String(timeRemainingMinutes), // $29–$31
        ]
    }

    func answer(_ result: PostgresResult, for connection: WebhookConnection) throws -> WriteResult {
        let row = result.rows.first
        return WriteResult(
            data: .object(["id": .string(connection.rowId(issueKey))]),
            rows: WriteResult.counts(row, ["issues", "boards", "board_issues", "incidents", "incident_assignees"]))
    }
}
