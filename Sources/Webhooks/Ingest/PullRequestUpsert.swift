import Postgres

/// `POST {conn}/pull_requests` (API.md §7, DevLake v1.0.3's fields): create or replace a pull
/// request `webhook:<conn>:<pullRequestKey>` whose base repository is the connection's.
struct PullRequestUpsert: Equatable, Sendable {
    var key: Int64
    var title: String
    var createdDate: Timestamp
    var status: String
    var originalStatus: String
    var description: String
    var url: String
    var authorName: String
    var authorId: String
    var mergedByName: String
    var mergedById: String
    var parentPrId: String
    var mergedDate: Timestamp?
    var closedDate: Timestamp?
    var type: String
    var component: String
    var mergeCommitSha: String
    var headRef: String
    var baseRef: String
    var baseCommitSha: String
    var headCommitSha: String
    var headRepoId: String
    var additions: Int64
    var deletions: Int64
    var isDraft: Bool
    /// When the request came in: the row's `created_at` / `updated_at`.
    var arrival: Timestamp

    static let statuses = ["OPEN", "CLOSED", "MERGED"]
    static let sha = 40

    /// `status` may be left out: it is then MERGED when a merge date is given, CLOSED when a close
    /// date is, else OPEN. `originalStatus` defaults to `status` as posted, else the derived one.
    /// `arrival` is when the request came in.
    static func decode(
        _ body: JSONObject, for webhook: DevLakeConnection, arrival: Timestamp = .now()
    ) -> Result<PullRequestUpsert, WebhookError> {
        var r = FieldReader(body, timeZone: webhook.timeZone)
        let key = r.integer("pullRequestKey", required: true)
        // A pull request's number is positive (GitHub's, GitLab's iid, Bitbucket's id start at 1);
        // 0 and negatives are a client's bug, not a key.
        if let key, key < 1 { r.fail("pullRequestKey", "must be a positive integer (got \(key))") }
        // `title` is what the pull request's own tools call it; `displayTitle` wins when both are given.
        let title = r.string("displayTitle", alias: "title", required: true)
        let createdDate = r.timestamp("createdDate", required: true)
        let status = r.postedEnumeration("status", allowed: statuses)
        let originalStatus = r.string("originalStatus", maxLength: Width.short)
        let description = r.string("description") ?? ""
        let url = r.string("url", maxLength: Width.key) ?? ""
        let authorName = r.string("authorName", maxLength: Width.short) ?? ""
        let authorId = r.string("authorId", maxLength: Width.short) ?? ""
        let mergedByName = r.string("mergedByName", maxLength: Width.short) ?? ""
        let mergedById = r.string("mergedById", maxLength: Width.short) ?? ""
        let parentPrId = r.string("parentPrId", maxLength: Width.short) ?? ""
        let mergedDate = r.timestamp("mergedDate")
        let closedDate = r.timestamp("closedDate")
        let type = r.string("type", maxLength: Width.short) ?? ""
        let component = r.string("component", maxLength: Width.short) ?? ""
        let mergeCommitSha = r.string("mergeCommitSha", maxLength: sha) ?? ""
        let headRef = r.string("headRef", maxLength: Width.key) ?? ""
        let baseRef = r.string("baseRef", maxLength: Width.key) ?? ""
        let baseCommitSha = r.string("baseCommitSha", maxLength: sha) ?? ""
        let headCommitSha = r.string("headCommitSha", maxLength: sha) ?? ""
        let headRepoId = r.string("headRepoId", maxLength: Width.key) ?? ""
        let additions = r.integer("additions") ?? 0
        let deletions = r.integer("deletions") ?? 0
        let isDraft = r.boolean("isDraft") ?? false
        guard r.causes.isEmpty, let key, let title, let createdDate else { return .failure(.invalidBody(r.causes)) }
        let derivedStatus = status?.value ?? (mergedDate != nil ? "MERGED" : closedDate != nil ? "CLOSED" : "OPEN")
        return .success(PullRequestUpsert(
            key: key, title: title, createdDate: createdDate, status: derivedStatus,
            originalStatus: originalStatus ?? status?.posted ?? derivedStatus, description: description, url: url,
            authorName: authorName, authorId: authorId, mergedByName: mergedByName, mergedById: mergedById,
            parentPrId: parentPrId, mergedDate: mergedDate, closedDate: closedDate, type: type, component: component,
            mergeCommitSha: mergeCommitSha, headRef: headRef, baseRef: baseRef, baseCommitSha: baseCommitSha,
            headCommitSha: headCommitSha, headRepoId: headRepoId, additions: additions, deletions: deletions,
            isDraft: isDraft, arrival: arrival))
    }

    /// Only an OPEN post can be late, so only it gets the statement that checks (`guardedStatement`).
    var statement: IngestStatement { status == "OPEN" ? Self.guardedStatement : Self.plainStatement }

    static let plainStatement = IngestStatement(body: upsert + "\nRETURNING 1 AS pull_requests")

    /// A late post (issue 16): the pull request is stored MERGED or CLOSED, this OPEN post has its
    /// `createdDate` and neither a merge nor a close date later than the stored row's dates. The
    /// upsert's WHERE keeps the row (locked, its latest version); `kept` then reads it for the
    /// reason (FOR SHARE reads the version the upsert saw, not the snapshot's), and only then.
    static let guardedStatement = IngestStatement(
        ctes: """
            upserted AS (
                \(upsert)
                WHERE stored.status IS NULL OR stored.status NOT IN ('MERGED', 'CLOSED')
                    OR stored.created_date IS DISTINCT FROM EXCLUDED.created_date
                    OR GREATEST(EXCLUDED.merged_date, EXCLUDED.closed_date)
                        > GREATEST(stored.created_date, stored.merged_date, stored.closed_date)
                RETURNING 1
            ), kept AS (
                SELECT k.status, \(SQLText.utc("GREATEST(k.merged_date, k.closed_date)")) AS ended
                FROM pull_requests k WHERE k.id = $1 AND NOT EXISTS (SELECT FROM upserted)
                FOR SHARE
            )
            """,
        body: """
            SELECT (SELECT count(*) FROM upserted) AS pull_requests, NOT EXISTS (SELECT FROM upserted) AS late,
                (SELECT status FROM kept) AS stored_status, (SELECT ended FROM kept) AS stored_ended
            """,
        stale: "(SELECT late FROM written)")

    private static let upsert = """
        INSERT INTO pull_requests AS stored (
            id, base_repo_id, head_repo_id, status, original_status, title, description, url, author_name,
            author_id, merged_by_name, merged_by_id, parent_pr_id, pull_request_key, created_date, merged_date,
            closed_date, type, component, merge_commit_sha, base_commit_sha, head_commit_sha, head_ref, base_ref,
            additions, deletions, is_draft, _raw_data_table, _raw_data_params, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::bigint, $15::timestamptz,
            $16::timestamptz, $17::timestamptz, $18, $19, $20, $21, $22, $23, $24, $25::bigint, $26::bigint,
            $27::boolean, 'webhook', $28, $29::timestamptz, $29::timestamptz)
        ON CONFLICT (id) DO UPDATE SET
            head_repo_id = EXCLUDED.head_repo_id, status = EXCLUDED.status, original_status = EXCLUDED.original_status,
            title = EXCLUDED.title, description = EXCLUDED.description, url = EXCLUDED.url,
            author_name = EXCLUDED.author_name, author_id = EXCLUDED.author_id,
            merged_by_name = EXCLUDED.merged_by_name, merged_by_id = EXCLUDED.merged_by_id,
            parent_pr_id = EXCLUDED.parent_pr_id, created_date = EXCLUDED.created_date,
            merged_date = EXCLUDED.merged_date, closed_date = EXCLUDED.closed_date, type = EXCLUDED.type,
            component = EXCLUDED.component, merge_commit_sha = EXCLUDED.merge_commit_sha,
            base_commit_sha = EXCLUDED.base_commit_sha, head_commit_sha = EXCLUDED.head_commit_sha,
            head_ref = EXCLUDED.head_ref, base_ref = EXCLUDED.base_ref, additions = EXCLUDED.additions,
            deletions = EXCLUDED.deletions, is_draft = EXCLUDED.is_draft, updated_at = EXCLUDED.updated_at
        """

    func binds(for webhook: DevLakeConnection) -> [String?] {
        [
            webhook.rowId(String(key)), webhook.scopeId, headRepoId, status, originalStatus, title,       // $1–$6
            description, url, authorName, authorId, mergedByName, mergedById, parentPrId,               // $7–$13
            String(key), createdDate.postgresText, mergedDate.bind, closedDate.bind, type, component,   // $14–$19
            mergeCommitSha, baseCommitSha, headCommitSha, headRef, baseRef,                              // $20–$24
            String(additions), String(deletions), isDraft ? "true" : "false", webhook.rawDataParams,    // $25–$28
            arrival.postgresText,                                                                        // $29
        ]
    }

    func answer(_ result: PostgresResult, for webhook: DevLakeConnection) throws -> WriteResult {
        let data: JSONObject = ["id": .string(webhook.rowId(String(key)))]
        if let row = result.rows.first, row["late"] == "t" {
            let stored = row["stored_status"] ?? "MERGED or CLOSED"
            let ended = row["stored_ended"].map { " at \(SQLText.storedDate($0))" } ?? ""
            return .late(data, reason: "the stored pull request is \(stored)\(ended); this OPEN post has the same createdDate"
                + " (\(createdDate.iso8601)) and no later merge or close date; it is unchanged", tables: ["pull_requests"])
        }
        return WriteResult(data: .object(data), rows: ["pull_requests": 1])
    }
}
