import Postgres

/// `POST {conn}/deployments` (API.md §6): a deployment and its commits, in one statement.
///
/// Two body forms: DevLake v1.0's (`id`, `deploymentCommits`, camelCase) and the single-commit
/// form of v0.17–v0.20 (`repo_url`, `commit_sha`, `start_time`, `end_time`, `pipeline_id`, …).
/// Ids are namespaced by connection, so two connections sending the same id keep two
/// deployments. A commit without a result takes the deployment's. Re-posting replaces the commit
/// set. The `original_*` columns keep the client's spelling of what it posted (`failure`), as a
/// task's do (API.md §4); a value not posted is its default, upper-case.
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

    static let results = ["SUCCESS", "FAILURE", "ABORT"]
    static let statuses = ["DONE", "IN_PROGRESS"]
    /// `:<16 hex of md5(repoUrl)>:` between the deployment id and the sha.
    static let commitIdOverhead = 18

    /// Whether the commit row id `webhook:<conn>:<id>:<16 hex>:<sha>` fits its 255 characters.
    static func commitIdFits(id: String, sha: String, in connection: WebhookConnection) -> Bool {
        id.unicodeScalars.count + commitIdOverhead + sha.unicodeScalars.count <= connection.maxKeyLength
    }

    static let commitIdTooLong = "together with the deployment id is longer than a 255-character commit id allows"

    static func decode(_ body: JSONObject, for connection: WebhookConnection) -> Result<DeploymentUpsert, WebhookError> {
        var r = FieldReader(body, timeZone: connection.timeZone)
        if r.has("deploymentCommits") || !(r.has("commit_sha") || r.has("repo_url")) {
            return decodeCurrent(&r, connection)
        }
        return decodeSingleCommit(&r, connection)
    }

    private static func decodeCurrent(_ r: inout FieldReader, _ connection: WebhookConnection) -> Result<DeploymentUpsert, WebhookError> {
        // v1.0 names; the aliases are what DevLake's Config UI showed in some versions before it.
        let id = r.string("id", alias: "pipeline_id", required: true, maxLength: connection.maxKeyLength)
        let name = r.string("name", maxLength: Width.key)
        let displayTitle = r.string("displayTitle")
        let url = r.string("url")
        let result = r.postedEnumeration("result", allowed: results) ?? ("SUCCESS", "SUCCESS")
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
            let commitResult = c.postedEnumeration("result", allowed: results) ?? result
            let status = c.postedEnumeration("status", allowed: statuses) ?? ("DONE", "DONE")
            let commitCreated = c.timestamp("createdDate", alias: "create_time")
            let commitStarted = c.timestamp("startedDate", alias: "start_time")
            let commitFinished = c.timestamp("finishedDate", alias: "end_time")
            if let id, let commitSha, !Self.commitIdFits(id: id, sha: commitSha, in: connection) {
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
            dateFields: (started: startedField, finished: finishedField))
    }

    private static func decodeSingleCommit(_ r: inout FieldReader, _ connection: WebhookConnection) -> Result<DeploymentUpsert, WebhookError> {
        let repoUrl = r.string("repo_url", required: true, maxLength: 500)
        let commitSha = r.string("commit_sha", required: true, maxLength: Width.key)
        let startedDate = r.timestamp("start_time", required: true)
        let finishedDate = r.timestamp("end_time", required: true)
        let pipelineId = r.string("pipeline_id", maxLength: connection.maxKeyLength)
        let refName = r.string("ref_name", maxLength: Width.key) ?? ""
        let result = r.postedEnumeration("result", allowed: results) ?? ("SUCCESS", "SUCCESS")
        let environment = r.postedEnumeration("environment", allowed: Vocabulary.environments) ?? ("PRODUCTION", "PRODUCTION")
        let repoId = r.string("repo_id", maxLength: Width.key) ?? ""
        let commitMsg = r.string("commit_msg") ?? ""
        let displayTitle = r.string("display_title")
        var commits: [Commit] = []
        if let repoUrl, let commitSha, let startedDate, let finishedDate {
            commits.append(Commit(
                repoUrl: repoUrl, commitSha: commitSha, repoId: repoId, refName: refName, name: Self.nameFromTitle(displayTitle),
                displayTitle: displayTitle ?? "", commitMsg: commitMsg, result: result.value,
                originalResult: result.posted, status: "DONE", originalStatus: "DONE",
                createdDate: startedDate, startedDate: startedDate, finishedDate: finishedDate))
        }
        let id = (pipelineId?.isEmpty == false ? pipelineId : nil) ?? commitSha
        if let id, let commitSha, !Self.commitIdFits(id: id, sha: commitSha, in: connection) {
            r.fail("commit_sha", Self.commitIdTooLong)
        }
        return finish(
            &r, id: id, name: nil, displayTitle: displayTitle, url: nil, result: result,
            environment: environment, originalEnvironment: environment.posted, createdDate: nil, startedDate: startedDate,
            finishedDate: finishedDate, commits: commits, dateFields: (started: "start_time", finished: "end_time"))
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
        dateFields: (started: String, finished: String)
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
            commits: Array(unique)))
    }

    /// The commits travel as one JSON parameter, read back with jsonb_to_recordset, so a
    /// deployment of any size is one statement. Commit ids are computed in SQL with md5().
    /// `lakehook_upsert_deployment` (migration 0006) locks the deployment row before it replaces
    /// the commit set, each step in a fresh snapshot, so concurrent re-posts of one id end with
    /// exactly one request's commits.
    static let sql = """
        SELECT deployment_id, commit_id
        FROM lakehook_upsert_deployment($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
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

    func binds(for connection: WebhookConnection) -> [String?] {
        [
            connection.rowId(id), connection.scopeId, name, displayTitle, url, result, environment, // $1–$7
            originalEnvironment, createdDate.postgresText, startedDate.postgresText,              // $8–$10
            finishedDate.postgresText, connection.rawDataParams, commitsJSON,                     // $11–$13
            originalResult,                                                                       // $14
        ]
    }

    func answer(_ result: PostgresResult, for connection: WebhookConnection) throws -> WriteResult {
        let rows = result.rows
        return WriteResult(
            data: .object([
                "id": .string(connection.rowId(id)),
                "commitIds": .array(rows.compactMap { $0["commit_id"] }.map(JSONValue.string)),
            ]),
            rows: ["cicd_deployments": 1, "cicd_deployment_commits": rows.count])
    }
}
