/// GitLab's project webhooks (`X-Gitlab-Event`) as the DevLake webhook API's operations
/// (issue 17; the field-by-field table and the decisions are docs/SOURCES.md, "GitLab").
///
/// As for GitHub, each mapped event becomes the body the API's route would have received, read
/// by that route's decoder. GitLab's older date forms (`2016-08-12 15:23:28 UTC`) are made
/// RFC 3339-like first (`GitSource.gitLabDate`).
enum GitLabMapping: SourceMapping {
    static let kind = SourceKind.gitlab

    static func map(_ event: SourceEvent, for webhook: DevLakeConnection, options: SourceOptions) throws(WebhookError) -> SourceOutcome {
        let body = event.body
        // The header names the hook; `object_kind` says the same in the body (a replayed event
        // may come without the header).
        let hook = event.headers[first: "X-Gitlab-Event"] ?? GitSource.text(body, "object_kind").map(hookName) ?? ""
        switch hook {
        case "Pipeline Hook":
            return try pipeline(body, webhook, options, arrival: event.arrival)
        case "Deployment Hook":
            return try deployment(body, webhook, options, arrival: event.arrival)
        case "Merge Request Hook":
            return try mergeRequest(body, webhook, arrival: event.arrival)
        case "Issue Hook", "Confidential Issue Hook":
            return try issue(body, webhook, arrival: event.arrival)
        case "":
            throw WebhookError.badRequest("a GitLab event needs its X-Gitlab-Event header", causes: ["X-Gitlab-Event: is required"])
        default:
            return .ignored("GitLab event \(hook) is not mapped")
        }
    }

    /// The header a body's `object_kind` comes with.
    static func hookName(_ kind: String) -> String {
        switch kind {
        case "pipeline": "Pipeline Hook"
        case "deployment": "Deployment Hook"
        case "merge_request": "Merge Request Hook"
        case "issue", "work_item": "Issue Hook"
        default: kind
        }
    }

    // MARK: - Pipeline Hook → a pipeline, its jobs as tasks, finished when the pipeline is

    /// Pipeline statuses after which it is over: the pipeline is finished after its tasks.
    static let finishedPipelineStatuses: Set = ["success", "failed", "canceled", "skipped"]

    /// A job is a task once it has started (running) or ended; jobs that never ran (created,
    /// pending, manual, scheduled, waiting_for_resource, preparing) are left out, since finishing
    /// the pipeline would abort them and make a successful pipeline ABORT.
    static func isTask(_ status: String?) -> Bool {
        guard let status else { return true }  // the decoder says it is required
        if status == "running" { return true }
        return ToolVocabulary.meaning(of: status)?.done ?? true
    }

    static func pipeline(
        _ native: JSONObject, _ webhook: DevLakeConnection, _ options: SourceOptions, arrival: Timestamp
    ) throws(WebhookError) -> SourceOutcome {
        let pipelineName = GitSource.text(native, "object_attributes.id")
        let status = GitSource.lowercased(GitSource.text(native, "object_attributes.status"))
        let isTag = GitSource.value(native, "object_attributes.tag") == .bool(true)
        var builds: [(position: Int, build: JSONObject)] = []
        if case .array(let elements) = GitSource.value(native, "builds") {
            for (position, element) in elements.enumerated() {
                if let build = element.objectValue, isTask(GitSource.lowercased(GitSource.text(build, "status"))) {
                    builds.append((position, build))
                }
            }
        }
        var operations: [any IngestOperation] = []
        var causes: [String] = []
        func task(_ body: DevLakeBody) {
            switch TaskUpsert.decode(body.object, for: webhook, arrival: arrival) {
            case .success(let task): operations.append(task)
            case .failure(let error):
                // A pipeline field's problem is every job's: said once.
                causes += body.renamed(error, event: "GitLab Pipeline Hook").causes.filter { !causes.contains($0) }
            }
        }
        func common(_ body: inout DevLakeBody) {
            body.set("pipeline_name", pipelineName.map(JSONValue.string), from: "object_attributes.id")
            body.copy("repo_id", from: "project.web_url")
            if !isTag { body.copy("branch", from: "object_attributes.ref") }
            body.copy("commit_sha", from: "object_attributes.sha")
        }
        for (position, build) in builds {
            var body = DevLakeBody(native)
            let path = "builds[\(position)]"
            common(&body)
            let name = GitSource.text(build, "name"), stage = GitSource.text(build, "stage")
            body.set("name", GitSource.value(build, "name"), from: "\(path).name")
            body.set("result", GitSource.value(build, "status"), from: "\(path).status")
            body.set("status", GitSource.value(build, "status"), from: "\(path).status")
            let type = GitSource.taskType([name, stage])
            body.set("type", .string(type))
            let tier = GitSource.text(build, "environment.deployment_tier"), environmentName = GitSource.text(build, "environment.name")
            let environment = EventEnvironment.known(environmentName, options: options) ?? EventEnvironment.named(tier, options: options)
                ?? GitSource.taskEnvironment([name, stage], type: type, options: options)
            body.set("environment", .string(environment))
            // A skipped job never started: it is dated by its creation.
            let started = GitSource.has(build, "started_at") ? "started_at" : "created_at"
            body.set("started_date", GitSource.gitLabDate(GitSource.value(build, started)), from: "\(path).\(started)")
            body.set("finished_date", GitSource.gitLabDate(GitSource.value(build, "finished_at")), from: "\(path).finished_at")
            task(body)
        }
        let finished = status.map { finishedPipelineStatuses.contains($0) } ?? false
        if builds.isEmpty && finished {
            // No job listed: the pipeline itself is the one task, so that there is a pipeline to finish.
            var body = DevLakeBody(native)
            common(&body)
            let name = GitSource.text(native, "object_attributes.name") ?? "pipeline"
            body.set("name", .string(name))
            body.copy("result", from: "object_attributes.status")
            body.copy("status", from: "object_attributes.status")
            let type = GitSource.taskType([name])
            body.set("type", .string(type))
            body.set("environment", .string(GitSource.taskEnvironment([name], type: type, options: options)))
            body.copy("started_date", from: "object_attributes.created_at", convert: GitSource.gitLabDate)
            body.copy("finished_date", from: "object_attributes.finished_at", convert: GitSource.gitLabDate)
            task(body)
        }
        if !causes.isEmpty {
            throw WebhookError(status: 400, message: "the GitLab Pipeline Hook event has \(causes.count == 1 ? "an invalid field" : "invalid fields")", causes: causes)
        }
        guard let pipelineName, !operations.isEmpty else {
            return .ignored("GitLab pipeline \(pipelineName ?? "") has no job that has started yet")
        }
        if finished { operations.append(PipelineFinish(pipelineName: pipelineName, arrival: arrival)) }
        return .write(operations)
    }

    // MARK: - Deployment Hook → a deployment and its commit

    /// Deployment statuses after which it is over; running, created and blocked ones are ignored.
    static let finalDeploymentStatuses: Set = ["success", "failed", "canceled"]

    static func deployment(
        _ native: JSONObject, _ webhook: DevLakeConnection, _ options: SourceOptions, arrival: Timestamp
    ) throws(WebhookError) -> SourceOutcome {
        guard let status = GitSource.lowercased(GitSource.text(native, "status")) else {
            throw WebhookError.badRequest("the GitLab Deployment Hook event has an invalid field", causes: ["status: is required"])
        }
        guard finalDeploymentStatuses.contains(status) else {
            return .ignored("GitLab deployment status \(status) is not final; a deployment is written when it succeeds, fails or is canceled")
        }
        let environmentName = GitSource.text(native, "environment")
        var body = DevLakeBody(native)
        body.copy("id", from: "deployment_id")
        if let project = GitSource.text(native, "project.path_with_namespace"), let environmentName {
            body.set("name", .string("\(project):\(environmentName)"))
        }
        body.copy("displayTitle", from: "commit_title")
        body.set("url", (GitSource.text(native, "deployable_url") ?? GitSource.text(native, "environment_external_url")).map(JSONValue.string))
        body.copy("result", from: "status")
        let environment = EventEnvironment.known(environmentName, options: options)
            ?? EventEnvironment.named(GitSource.text(native, "environment_tier"), options: options) ?? EventEnvironment.unmatched
        body.set("environment", .string(environment), from: "environment")
        body.set("originalEnvironment", environmentName.map(JSONValue.string), from: "environment")
        // The hook carries one date: when the status changed (start and finish alike).
        body.copy("startedDate", from: "status_changed_at", convert: GitSource.gitLabDate)
        body.copy("finishedDate", from: "status_changed_at", convert: GitSource.gitLabDate)
        var commit = DevLakeBody(native)
        commit.copy("repoUrl", from: "project.web_url")
        commit.copy("repoId", from: "project.web_url")
        // The full sha is the last segment of commit_url (`short_sha` has 8 characters only).
        let sha = GitSource.text(native, "commit_url").flatMap { url in url.split(separator: "/").last.map(String.init) }
        commit.set("commitSha", sha.map(JSONValue.string), from: "commit_url")
        commit.set("displayTitle", GitSource.value(native, "commit_title"))
        body.set("deploymentCommits", .array([.object(commit.object)]))
        body.nest("deploymentCommits", commit)
        let deployment = try body.decode("GitLab Deployment Hook") { DeploymentUpsert.decode($0, for: webhook, arrival: arrival) }
        return .write([deployment])
    }

    // MARK: - Merge Request Hook → a pull request

    static func mergeRequest(_ native: JSONObject, _ webhook: DevLakeConnection, arrival: Timestamp) throws(WebhookError) -> SourceOutcome {
        let state = GitSource.lowercased(GitSource.text(native, "object_attributes.state"))
        let status: String? = switch state ?? "" {
        case "merged": "MERGED"
        case "closed": "CLOSED"
        case "opened", "locked": "OPEN"
        default: nil
        }
        var body = DevLakeBody(native)
        body.copy("pullRequestKey", from: "object_attributes.iid")
        body.copy("title", from: "object_attributes.title")
        body.copy("createdDate", from: "object_attributes.created_at", convert: GitSource.gitLabDate)
        body.set("status", status.map(JSONValue.string), from: "object_attributes.state")
        body.copy("originalStatus", from: "object_attributes.state")
        body.copy("description", from: "object_attributes.description")
        body.copy("url", from: "object_attributes.url")
        body.copy("authorId", from: "object_attributes.author_id")
        // GitLab sends merged_at / closed_at in recent versions; without them the update is the date.
        if status == "MERGED" {
            let merged = GitSource.has(native, "object_attributes.merged_at") ? "object_attributes.merged_at" : "object_attributes.updated_at"
            body.copy("mergedDate", from: merged, convert: GitSource.gitLabDate)
            body.copy("mergeCommitSha", from: "object_attributes.merge_commit_sha")
            if GitSource.text(native, "object_attributes.action") == "merge" {
                body.copy("mergedByName", from: "user.username")
                body.copy("mergedById", from: "user.id")
            }
        }
        if status == "CLOSED" {
            let closed = GitSource.has(native, "object_attributes.closed_at") ? "object_attributes.closed_at" : "object_attributes.updated_at"
            body.copy("closedDate", from: closed, convert: GitSource.gitLabDate)
        }
        body.copy("headRef", from: "object_attributes.source_branch")
        body.copy("baseRef", from: "object_attributes.target_branch")
        body.copy("headCommitSha", from: "object_attributes.last_commit.id")
        body.copy("headRepoId", from: "object_attributes.source.web_url")
        body.copy("isDraft", from: "object_attributes.draft")
        let pullRequest = try body.decode("GitLab Merge Request Hook") { PullRequestUpsert.decode($0, for: webhook, arrival: arrival) }
        return .write([pullRequest])
    }

    // MARK: - Issue Hook → incidents

    /// Only incidents (`object_attributes.type` Incident, or the older `issue_type` incident).
    static func issue(_ native: JSONObject, _ webhook: DevLakeConnection, arrival: Timestamp) throws(WebhookError) -> SourceOutcome {
        let type = GitSource.lowercased(GitSource.text(native, "object_attributes.type") ?? GitSource.text(native, "object_attributes.issue_type"))
        guard type == "incident" else {
            return .ignored("GitLab issue of type \(type ?? "(none)") is not an incident")
        }
        let state = GitSource.lowercased(GitSource.text(native, "object_attributes.state"))
        var body = DevLakeBody(native)
        let key = GitSource.text(native, "project.path_with_namespace").flatMap { project in
            GitSource.text(native, "object_attributes.iid").map { "\(project)#\($0)" }
        }
        body.set("issue_key", key.map(JSONValue.string), from: "object_attributes.iid")
        body.copy("title", from: "object_attributes.title")
        let status: String? = state == "closed" ? "DONE" : state == "opened" ? "TODO" : nil
        body.set("status", status.map(JSONValue.string), from: "object_attributes.state")
        body.copy("original_status", from: "object_attributes.state")
        body.copy("created_date", from: "object_attributes.created_at", convert: GitSource.gitLabDate)
        body.copy("updated_date", from: "object_attributes.updated_at", convert: GitSource.gitLabDate)
        if state == "closed" {
            let closed = GitSource.has(native, "object_attributes.closed_at") ? "object_attributes.closed_at" : "object_attributes.updated_at"
            body.copy("resolution_date", from: closed, convert: GitSource.gitLabDate)
        }
        body.copy("url", from: "object_attributes.url")
        body.copy("description", from: "object_attributes.description")
        body.set("type", .string("INCIDENT"))
        body.copy("severity", from: "object_attributes.severity")
        body.copy("creator_id", from: "object_attributes.author_id")
        if case .array(let ids) = GitSource.value(native, "object_attributes.assignee_ids"), let first = ids.first {
            body.set("assignee_id", first, from: "object_attributes.assignee_ids[0]")
        }
        if case .array(let assignees) = GitSource.value(native, "assignees"), let first = assignees.first?.objectValue {
            body.set("assignee_name", GitSource.value(first, "name"), from: "assignees[0].name")
        }
        let issue = try body.decode("GitLab Issue Hook") { IssueUpsert.decode($0, for: webhook, arrival: arrival) }
        return .write([issue])
    }
}
