import Postgres

/// `POST {conn}/deployments` (API.md §6): a deployment and its commits, in one statement.
///
/// Two body forms: DevLake v1.0's (`id`, `deploymentCommits`, camelCase) and the single-commit
/// form of v0.17–v0.20 (`repo_url`, `commit_sha`, `start_time`, `end_time`, `pipeline_id`, …).
/// Ids are namespaced by connection, so two connections sending the same id keep two
/// deployments. A commit without a result takes the deployment's. Re-posting the current form
/// replaces the deployment and its commit set; a single-commit post adds its commit to the
/// deployment and keeps what earlier posts wrote where it sends nothing (`sent`, migration 0007).
/// The `original_*` columns keep the client's spelling of what it posted (`failure`), as a task's
/// do (API.md §4); a value not posted is its default, upper-case.
struct DeploymentUpsert: Equatable, Sendable {
    struct Commit: Equatable {
        var repoUrl: String
        var commitSha: String
        var repoId: String
        var refName: String
        var name: String
        var displayTitle: String
        var commitMsg: String
        var result: String
        var originalResult: String
        var status: String
        var originalStatus: String
        var createdDate: Timestamp
        var startedDate: Timestamp
        var finishedDate: Timestamp
    }

    var id: String
    var name: String
    var displayTitle: String
    var url: String
    var result: String
    var originalResult: String
    var environment: String
    var originalEnvironment: String
    var createdDate: Timestamp
    var startedDate: Timestamp
    var finishedDate: Timestamp
    var commits: [Commit]
    /// The single-commit form's optional values as sent (nil: not sent, or `""`), which
    /// `lakehook_merge_deployment_commit` writes only when present; nil for the current form.
    var sent: Sent?
    /// When the request came in: the rows' `created_at` / `updated_at` (and the single-commit
    /// form's missing `end_time`, read at decoding).
    var arrival: Timestamp

    /// What a single-commit post sent of the values a later post of the same deployment or commit
    /// must not erase (API.md amendments: a field not sent never erases what another request wrote).
    struct Sent: Equatable {
        var displayTitle: String?
        var result: String?
        var originalResult: String?
        var environment: String?
        var originalEnvironment: String?
        var repoId: String?
        var refName: String?
        var commitMsg: String?
    }

    static let results = ["SUCCESS", "FAILURE", "ABORT"]
    /// `:<16 hex of md5(repoUrl)>:` between the deployment id and the sha.
    static let commitIdOverhead = 18

    /// Whether the commit row id `webhook:<conn>:<id>:<16 hex>:<sha>` fits its 255 characters.
    static func commitIdFits(id: String, sha: String, in webhook: DevLakeConnection) -> Bool {
        id.unicodeScalars.count + commitIdOverhead + sha.unicodeScalars.count <= webhook.maxKeyLength
    }

    static let commitIdTooLong = "together with the deployment id is longer than a 255-character commit id allows"

    /// `arrival` is when the request came in: the single-commit form's missing `end_time`.
    static func decode(
        _ body: JSONObject, for webhook: DevLakeConnection, arrival: Timestamp = .now()
    ) -> Result<DeploymentUpsert, WebhookError> {
        var r = FieldReader(body, timeZone: webhook.timeZone)
        if r.has("deploymentCommits") || !(r.has("commit_sha") || r.has("repo_url")) {
            return decodeCurrent(&r, webhook, arrival: arrival)
        }
        return decodeSingleCommit(&r, webhook, arrival: arrival)
    }

    private static func decodeCurrent(
        _ r: inout FieldReader, _ webhook: DevLakeConnection, arrival: Timestamp
    ) -> Result<DeploymentUpsert, WebhookError> {
        // v1.0 names; the aliases are what DevLake's Config UI showed in some versions before it.
        let id = r.string("id", alias: "pipeline_id", required: true, maxLength: webhook.maxKeyLength)
        let name = r.string("name", maxLength: Width.key)
        let displayTitle = r.string("displayTitle")
        let url = r.string("url")
        let result = r.toolWord("result", as: .deploymentResult) ?? ("SUCCESS", "SUCCESS")
        let environment = r.postedEnumeration("environment", allowed: Vocabulary.environments) ?? ("PRODUCTION", "PRODUCTION")
        let originalEnvironment = r.string("originalEnvironment", maxLength: Width.key)
        // The date order's cause names the dates as the client sent them.
        let startedField = r.chosen("startedDate", alias: "start_time")
        let finishedField = r.chosen("finishedDate", alias: "end_time")
        let startedDate = r.timestamp(startedField, required: true)
        let finishedDate = r.timestamp(finishedField, required: true)
        let createdDate = r.timestamp("createdDate", alias: "create_time")
        var commits: [Commit] = []
        for var c in r.objects("deploymentCommits", required: true) ?? [] {
            let repoUrl = c.string("repoUrl", required: true, maxLength: 500)
            let commitSha = c.string("commitSha", required: true, maxLength: Width.key)
            let repoId = c.string("repoId", maxLength: Width.key) ?? ""
            let refName = c.string("refName", maxLength: Width.key) ?? ""
            let commitName = c.string("name", maxLength: Width.key)
            let commitTitle = c.string("displayTitle")
            let commitMsg = c.string("commitMsg") ?? ""
            let commitResult = c.toolWord("result", as: .deploymentResult) ?? result
            let status = c.toolWord("status", as: .status) ?? ("DONE", "DONE")
            let commitCreated = c.timestamp("createdDate", alias: "create_time")
            let commitStarted = c.timestamp("startedDate", alias: "start_time")
            let commitFinished = c.timestamp("finishedDate", alias: "end_time")
            if let id, let commitSha, !Self.commitIdFits(id: id, sha: commitSha, in: webhook) {
                c.fail("commitSha", Self.commitIdTooLong)
            }
            r.absorb(c)
            guard let repoUrl, let commitSha, let startedDate, let finishedDate else { continue }
            commits.append(Commit(
                repoUrl: repoUrl, commitSha: commitSha, repoId: repoId, refName: refName,
                name: commitName ?? name ?? Self.nameFromTitle(displayTitle), displayTitle: commitTitle ?? displayTitle ?? "",
                commitMsg: commitMsg, result: commitResult.value, originalResult: commitResult.posted,
                status: status.value, originalStatus: status.posted,
                createdDate: commitCreated ?? createdDate ?? startedDate, startedDate: commitStarted ?? startedDate,
                finishedDate: commitFinished ?? finishedDate))
        }
        return finish(
            &r, id: id, name: name, displayTitle: displayTitle, url: url, result: result,
            environment: environment, originalEnvironment: originalEnvironment ?? environment.posted,
            createdDate: createdDate, startedDate: startedDate, finishedDate: finishedDate, commits: commits,
            dateFields: (started: startedField, finished: finishedField), arrival: arrival)
    }

    /// Both dates are optional, as in DevLake v0.16–v0.20 (a CircleCI orb sends no `end_time`):
    /// a missing `end_time` is the request's arrival — or `start_time` when that is later (a
    /// client's clock ahead of ours), so that a date the client did not send never makes the
    /// body's dates out of order — and a missing `start_time` is the end time.
    private static func decodeSingleCommit(
        _ r: inout FieldReader, _ webhook: DevLakeConnection, arrival: Timestamp
    ) -> Result<DeploymentUpsert, WebhookError> {
        let repoUrl = r.string("repo_url", required: true, maxLength: 500)
        let commitSha = r.string("commit_sha", required: true, maxLength: Width.key)
        let postedStart = r.timestamp("start_time")
        let postedEnd = r.timestamp("end_time")
        let finishedDate = postedEnd ?? max(arrival, postedStart ?? arrival)
        let startedDate = postedStart ?? finishedDate
        let pipelineId = r.string("pipeline_id", maxLength: webhook.maxKeyLength)
        let postedRefName = r.string("ref_name", maxLength: Width.key)
        let postedResult = r.toolWord("result", as: .deploymentResult)
        let postedEnvironment = r.postedEnumeration("environment", allowed: Vocabulary.environments)
        let postedRepoId = r.string("repo_id", maxLength: Width.key)
        let postedCommitMsg = r.string("commit_msg")
        let displayTitle = r.string("display_title")
        // `""` is no value here: a CI template's unset variable must not blank what another post wrote.
        func sent(_ text: String?) -> String? { text?.isEmpty == false ? text : nil }
        let sent = Sent(
            displayTitle: sent(displayTitle), result: postedResult?.value, originalResult: postedResult?.posted,
            environment: postedEnvironment?.value, originalEnvironment: postedEnvironment?.posted,
            repoId: sent(postedRepoId), refName: sent(postedRefName), commitMsg: sent(postedCommitMsg))
        let refName = postedRefName ?? "", repoId = postedRepoId ?? "", commitMsg = postedCommitMsg ?? ""
        let result = postedResult ?? ("SUCCESS", "SUCCESS")
        let environment = postedEnvironment ?? ("PRODUCTION", "PRODUCTION")
        var commits: [Commit] = []
        if let repoUrl, let commitSha {
            commits.append(Commit(
                repoUrl: repoUrl, commitSha: commitSha, repoId: repoId, refName: refName, name: Self.nameFromTitle(displayTitle),
                displayTitle: displayTitle ?? "", commitMsg: commitMsg, result: result.value,
                originalResult: result.posted, status: "DONE", originalStatus: "DONE",
                createdDate: startedDate, startedDate: startedDate, finishedDate: finishedDate))
        }
        let id = (pipelineId?.isEmpty == false ? pipelineId : nil) ?? commitSha
        if let id, let commitSha, !Self.commitIdFits(id: id, sha: commitSha, in: webhook) {
            r.fail("commit_sha", Self.commitIdTooLong)
        }
        return finish(
            &r, id: id, name: nil, displayTitle: displayTitle, url: nil, result: result,
            environment: environment, originalEnvironment: environment.posted, createdDate: nil, startedDate: startedDate,
            finishedDate: finishedDate, commits: commits, dateFields: (started: "start_time", finished: "end_time"),
            arrival: arrival
        ).map { deployment in
            var merged = deployment
            merged.sent = sent
            return merged
        }
    }

    /// A commit without a name of its own is named after the deployment's title (a text column),
    /// cut to the 255 characters of `cicd_deployment_commits.name`.
    static func nameFromTitle(_ title: String?) -> String {
        guard let title else { return "" }
        return String(String.UnicodeScalarView(title.unicodeScalars.prefix(Width.key)))
    }

    private static func finish(
        _ r: inout FieldReader, id: String?, name: String?, displayTitle: String?,
        url: String?, result: (value: String, posted: String), environment: (value: String, posted: String),
        originalEnvironment: String, createdDate: Timestamp?,
        startedDate: Timestamp?, finishedDate: Timestamp?, commits: [Commit],
        dateFields: (started: String, finished: String), arrival: Timestamp
    ) -> Result<DeploymentUpsert, WebhookError> {
        if let startedDate, let finishedDate, finishedDate < startedDate {
            r.fail(dateFields.finished, "is before \(r.spelling(of: dateFields.started))")
        }
        guard r.causes.isEmpty, let id, let startedDate, let finishedDate else { return .failure(.invalidBody(r.causes)) }
        // The same commit listed twice: the last listing wins (one row per repo and sha).
        var seen = Set<String>()
        let unique = commits.reversed().filter { seen.insert($0.repoUrl + "\u{0}" + $0.commitSha).inserted }.reversed()
        return .success(DeploymentUpsert(
            id: id, name: name ?? displayTitle ?? id, displayTitle: displayTitle ?? name ?? "", url: url ?? "",
            result: result.value, originalResult: result.posted, environment: environment.value,
            originalEnvironment: originalEnvironment,
            createdDate: createdDate ?? startedDate, startedDate: startedDate, finishedDate: finishedDate,
            commits: Array(unique), arrival: arrival))
    }

    /// The commits travel as one JSON parameter, read back with jsonb_to_recordset, so a
    /// deployment of any size is one statement. Commit ids are computed in SQL with md5().
    /// `lakehook_upsert_deployment` (migrations 0006, 0010) locks the deployment row before it
    /// replaces the commit set, each step in a fresh snapshot, so concurrent re-posts of one id end
    /// with exactly one request's commits. A deployment stored with a later finish than this
    /// post's is late: nothing is written, and one row answers with that finish.
    static let sql = """
        SELECT deployment_id, commit_id, n_deployments, \(SQLText.iso8601("stored_finished"))
        FROM lakehook_upsert_deployment($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        """

    var commitsJSON: String {
        JSONValue.array(commits.map { c in
            .object(JSONObject(members: [
                (key: "repo_url", value: .string(c.repoUrl)), (key: "commit_sha", value: .string(c.commitSha)),
                (key: "repo_id", value: .string(c.repoId)), (key: "ref_name", value: .string(c.refName)),
                (key: "name", value: .string(c.name)), (key: "display_title", value: .string(c.displayTitle)),
                (key: "commit_msg", value: .string(c.commitMsg)), (key: "result", value: .string(c.result)),
                (key: "original_result", value: .string(c.originalResult)), (key: "status", value: .string(c.status)),
                (key: "original_status", value: .string(c.originalStatus)),
                (key: "created_date", value: .string(c.createdDate.iso8601)),
                (key: "started_date", value: .string(c.startedDate.iso8601)),
                (key: "finished_date", value: .string(c.finishedDate.iso8601)),
            ]))
        }).serialized()
    }

    /// The single-commit form (`sent` is set): this commit is added to the deployment, or updated
    /// in it, and its other commits stay, as DevLake v0.17–v0.20 upserted the one commit row; a
    /// value not sent keeps what the rows hold (`lakehook_merge_deployment_commit`, migrations
    /// 0007, 0010). Each row moves forward only: the deployment, or the commit, stored with a
    /// later finish than this post's is kept; the post is late when both are.
    static let mergeSQL = """
        SELECT deployment_id, commit_id, n_deployments, \(SQLText.iso8601("stored_finished"))
        FROM lakehook_merge_deployment_commit(
            $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
        """

    var statement: IngestStatement { sent == nil ? Self.upsertStatement : Self.mergeStatement }

    private static let stale = "EXISTS (SELECT FROM written WHERE stored_finished IS NOT NULL)"
    static let upsertStatement = IngestStatement(body: sql, stale: stale)
    static let mergeStatement = IngestStatement(body: mergeSQL, stale: stale)

    func binds(for webhook: DevLakeConnection) -> [String?] {
        if let sent, let commit = commits.first {
            return [
                webhook.rowId(id), webhook.scopeId, webhook.rawDataParams,                                // $1–$3
                sent.displayTitle, name, sent.displayTitle, sent.result, sent.originalResult,           // $4–$8
                sent.environment, sent.originalEnvironment, startedDate.postgresText,                   // $9–$11
                finishedDate.postgresText, commit.repoUrl, commit.commitSha, sent.repoId, sent.refName, // $12–$16
                sent.commitMsg, sent.displayTitle.map(Self.nameFromTitle),                              // $17–$18
                arrival.postgresText,                                                                   // $19
            ]
        }
        return [
            webhook.rowId(id), webhook.scopeId, name, displayTitle, url, result, environment,       // $1–$7
            originalEnvironment, createdDate.postgresText, startedDate.postgresText,              // $8–$10
            finishedDate.postgresText, webhook.rawDataParams, commitsJSON,                        // $11–$13
            originalResult, arrival.postgresText,                                                 // $14–$15
        ]
    }

    func answer(_ result: PostgresResult, for webhook: DevLakeConnection) throws -> WriteResult {
        let rows = result.rows
        let commitIds = rows.compactMap { $0["commit_id"] }
        let data: JSONObject = ["id": .string(webhook.rowId(id)), "commitIds": .array(commitIds.map(JSONValue.string))]
        if let stored = rows.first?["stored_finished"] {
            return .late(data, reason: "the stored deployment finished at \(SQLText.storedDate(stored)), later than this"
                + " post's finish \(finishedDate.iso8601); it is unchanged", tables: Self.tables)
        }
        return WriteResult(
            data: .object(data),
            rows: ["cicd_deployments": rows.first?["n_deployments"].flatMap { Int($0) } ?? 0, "cicd_deployment_commits": commitIds.count])
    }

    static let tables = ["cicd_deployments", "cicd_deployment_commits"]
}
