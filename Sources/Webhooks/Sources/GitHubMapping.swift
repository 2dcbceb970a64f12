/// GitHub's repository webhooks (`X-GitHub-Event`) as the DevLake webhook API's operations
/// (issue 17; the field-by-field table and the decisions are docs/SOURCES.md, "GitHub").
///
/// Each mapped event is turned into the body the API's route would have received and read by
/// that route's decoder, so validation, ToolVocabulary and row ids are exactly the API's.
enum GitHubMapping: SourceMapping {
    static let kind = SourceKind.github

    static func map(_ event: SourceEvent, for webhook: DevLakeConnection, options: SourceOptions) throws(WebhookError) -> SourceOutcome {
        guard let name = event.headers[first: "X-GitHub-Event"], !name.isEmpty else {
            throw WebhookError.badRequest("a GitHub event needs its X-GitHub-Event header", causes: ["X-GitHub-Event: is required"])
        }
        let body = event.body
        let action = GitSource.text(body, "action")
        switch name {
        case "ping":
            return .ping
        case "deployment_status":
            return try deploymentStatus(body, webhook, options, arrival: event.arrival)
        case "workflow_run":
            guard action == "completed" else { return .ignored("GitHub workflow_run action \(action ?? "(none)") is not mapped; only completed is") }
            return try workflowRun(body, webhook, options, arrival: event.arrival)
        case "workflow_job":
            return try workflowJob(body, webhook, options, action: action, arrival: event.arrival)
        case "pull_request":
            return try pullRequest(body, webhook, arrival: event.arrival)
        case "issues":
            return try issue(body, webhook, options, action: action, arrival: event.arrival)
        default:
            return .ignored("GitHub event \(name) is not mapped")
        }
    }

    // MARK: - deployment_status → a deployment and its commit

    /// The states after which a deployment is over; the others (pending, queued, in_progress,
    /// waiting) are ignored: a DevLake deployment is written once it has finished. `inactive`
    /// (a newer deployment to the environment superseded this one) is ignored too: the
    /// deployment's own final state was written when it came.
    static let finalDeploymentStates: Set = ["success", "failure", "error"]

    static func deploymentStatus(
        _ native: JSONObject, _ webhook: DevLakeConnection, _ options: SourceOptions, arrival: Timestamp
    ) throws(WebhookError) -> SourceOutcome {
        guard let state = GitSource.lowercased(GitSource.text(native, "deployment_status.state")) else {
            throw WebhookError.badRequest(
                "the GitHub deployment_status event has an invalid field", causes: ["deployment_status.state: is required"])
        }
        if !finalDeploymentStates.contains(state) {
            return .ignored("GitHub deployment_status state \(state) is not final; a deployment is written when it succeeds or fails")
        }
        let environmentName = GitSource.text(native, "deployment.environment") ?? GitSource.text(native, "deployment_status.environment")
        var body = DevLakeBody(native)
        body.copy("id", from: "deployment.id")
        if let repository = GitSource.text(native, "repository.full_name"), let environmentName {
            body.set("name", .string("\(repository):\(environmentName)"))
        }
        body.copy("displayTitle", from: "deployment.description")
        let url = ["deployment_status.target_url", "deployment_status.log_url", "deployment_status.environment_url"]
            .lazy.compactMap { GitSource.text(native, $0) }.first
        body.set("url", url.map(JSONValue.string))
        body.copy("result", from: "deployment_status.state")
        body.set("environment", .string(EventEnvironment.known(environmentName, options: options) ?? EventEnvironment.unmatched), from: "deployment.environment")
        body.set("originalEnvironment", environmentName.map(JSONValue.string), from: "deployment.environment")
        body.copy("createdDate", from: "deployment.created_at")
        body.copy("startedDate", from: "deployment.created_at")
        let finished = GitSource.has(native, "deployment_status.updated_at") ? "deployment_status.updated_at" : "deployment_status.created_at"
        body.copy("finishedDate", from: finished)
        var commit = DevLakeBody(native)
        commit.copy("repoUrl", from: "repository.html_url")
        commit.copy("repoId", from: "repository.html_url")
        commit.copy("commitSha", from: "deployment.sha")
        commit.copy("refName", from: "deployment.ref")
        body.set("deploymentCommits", .array([.object(commit.object)]))
        body.nest("deploymentCommits", commit)
        let deployment = try body.decode("GitHub deployment_status") { DeploymentUpsert.decode($0, for: webhook, arrival: arrival) }
        return .write([deployment])
    }

    // MARK: - workflow_run / workflow_job → a pipeline and its tasks

    /// The pipeline of a run: its id, and `-<attempt>` for a re-run (a finished pipeline takes no
    /// more tasks, so each attempt is a pipeline of its own).
    static func pipelineName(runId: String?, attempt: String?) -> JSONValue? {
        guard let runId else { return nil }
        guard let attempt, attempt != "1", attempt != "0" else { return .string(runId) }
        return .string("\(runId)-\(attempt)")
    }

    /// `workflow_run` completed: the run as one task (so a connection that sends runs only has
    /// a pipeline), then the pipeline finished, deriving its result from its tasks.
    static func workflowRun(
        _ native: JSONObject, _ webhook: DevLakeConnection, _ options: SourceOptions, arrival: Timestamp
    ) throws(WebhookError) -> SourceOutcome {
        let name = GitSource.text(native, "workflow_run.name") ?? GitSource.text(native, "workflow.name")
        var body = DevLakeBody(native)
        let pipeline = pipelineName(runId: GitSource.text(native, "workflow_run.id"), attempt: GitSource.text(native, "workflow_run.run_attempt"))
        body.set("pipeline_name", pipeline, from: "workflow_run.id")
        body.set("name", name.map(JSONValue.string), from: "workflow_run.name")
        body.copy("result", from: "workflow_run.conclusion")
        body.copy("status", from: "workflow_run.status")
        let type = GitSource.taskType([name])
        body.set("type", .string(type))
        body.set("environment", .string(GitSource.taskEnvironment([name], type: type, options: options)))
        let started = GitSource.has(native, "workflow_run.run_started_at") ? "workflow_run.run_started_at" : "workflow_run.created_at"
        body.copy("started_date", from: started)
        body.copy("finished_date", from: "workflow_run.updated_at")
        body.copy("repo_id", from: "repository.html_url")
        body.copy("branch", from: "workflow_run.head_branch")
        body.copy("commit_sha", from: "workflow_run.head_sha")
        let task = try body.decode("GitHub workflow_run") { TaskUpsert.decode($0, for: webhook, arrival: arrival) }
        return .write([task, PipelineFinish(pipelineName: task.pipelineName, arrival: arrival)])
    }

    /// `workflow_job`: in_progress and completed jobs are tasks of their run's pipeline; queued
    /// and waiting jobs have not started and are ignored.
    static func workflowJob(
        _ native: JSONObject, _ webhook: DevLakeConnection, _ options: SourceOptions, action: String?, arrival: Timestamp
    ) throws(WebhookError) -> SourceOutcome {
        guard action == "in_progress" || action == "completed" else {
            return .ignored("GitHub workflow_job action \(action ?? "(none)") is not mapped; in_progress and completed are")
        }
        let name = GitSource.text(native, "workflow_job.name")
        var body = DevLakeBody(native)
        let pipeline = pipelineName(runId: GitSource.text(native, "workflow_job.run_id"), attempt: GitSource.text(native, "workflow_job.run_attempt"))
        body.set("pipeline_name", pipeline, from: "workflow_job.run_id")
        body.copy("name", from: "workflow_job.name")
        // An unfinished job has no conclusion: its status (in_progress) is its result.
        body.copy("result", from: action == "completed" ? "workflow_job.conclusion" : "workflow_job.status")
        body.copy("status", from: "workflow_job.status")
        let type = GitSource.taskType([name])
        body.set("type", .string(type))
        body.set("environment", .string(GitSource.taskEnvironment([name], type: type, options: options)))
        body.copy("started_date", from: "workflow_job.started_at")
        if action == "completed" { body.copy("finished_date", from: "workflow_job.completed_at") }
        body.copy("repo_id", from: "repository.html_url")
        body.copy("branch", from: "workflow_job.head_branch")
        body.copy("commit_sha", from: "workflow_job.head_sha")
        let task = try body.decode("GitHub workflow_job") { TaskUpsert.decode($0, for: webhook, arrival: arrival) }
        return .write([task])
    }

    // MARK: - pull_request → a pull request

    /// Every action carries the whole pull request, so every action upserts it.
    static func pullRequest(_ native: JSONObject, _ webhook: DevLakeConnection, arrival: Timestamp) throws(WebhookError) -> SourceOutcome {
        let merged = GitSource.value(native, "pull_request.merged") == .bool(true) || GitSource.has(native, "pull_request.merged_at")
        let state = GitSource.lowercased(GitSource.text(native, "pull_request.state"))
        var body = DevLakeBody(native)
        body.copy("pullRequestKey", from: "pull_request.number")
        body.copy("title", from: "pull_request.title")
        body.copy("createdDate", from: "pull_request.created_at")
        let status: String? = merged ? "MERGED" : state == "closed" ? "CLOSED" : state == "open" ? "OPEN" : nil
        body.set("status", status.map(JSONValue.string), from: "pull_request.state")
        body.set("originalStatus", (merged ? "merged" : state).map(JSONValue.string), from: "pull_request.state")
        body.copy("description", from: "pull_request.body")
        body.copy("url", from: "pull_request.html_url")
        body.copy("authorName", from: "pull_request.user.login")
        body.copy("authorId", from: "pull_request.user.id")
        body.copy("mergedByName", from: "pull_request.merged_by.login")
        body.copy("mergedById", from: "pull_request.merged_by.id")
        body.copy("mergedDate", from: "pull_request.merged_at")
        body.copy("closedDate", from: "pull_request.closed_at")
        // An open pull request's merge_commit_sha is GitHub's test merge, not a commit of the base.
        if merged { body.copy("mergeCommitSha", from: "pull_request.merge_commit_sha") }
        body.copy("headRef", from: "pull_request.head.ref")
        body.copy("baseRef", from: "pull_request.base.ref")
        body.copy("headCommitSha", from: "pull_request.head.sha")
        body.copy("baseCommitSha", from: "pull_request.base.sha")
        body.copy("headRepoId", from: "pull_request.head.repo.html_url")
        body.copy("additions", from: "pull_request.additions")
        body.copy("deletions", from: "pull_request.deletions")
        body.copy("isDraft", from: "pull_request.draft")
        let pullRequest = try body.decode("GitHub pull_request") { PullRequestUpsert.decode($0, for: webhook, arrival: arrival) }
        return .write([pullRequest])
    }

    // MARK: - issues → incidents

    /// Issues labelled `options.incidentLabel` (any case) are incidents, open or closed; an
    /// `unlabeled` event that takes the label off writes the issue as no incident any more (its
    /// incident row goes); other issues are ignored, and so is `deleted`.
    static func issue(
        _ native: JSONObject, _ webhook: DevLakeConnection, _ options: SourceOptions, action: String?, arrival: Timestamp
    ) throws(WebhookError) -> SourceOutcome {
        let wanted = GitSource.lowercased(options.incidentLabel)
        var labels: [String] = []
        if case .array(let elements) = GitSource.value(native, "issue.labels") {
            labels = elements.compactMap { element in element.objectValue.flatMap { GitSource.lowercased(GitSource.text($0, "name")) } }
        }
        let labelled = labels.contains { $0 == wanted }
        let unlabelled = action == "unlabeled" && GitSource.lowercased(GitSource.text(native, "label.name")) == wanted && !labelled
        guard action != "deleted" else { return .ignored("GitHub issues action deleted is not mapped") }
        guard labelled || unlabelled else {
            return .ignored("GitHub issue without the label \(options.incidentLabel) is not an incident")
        }
        let state = GitSource.lowercased(GitSource.text(native, "issue.state"))
        var body = DevLakeBody(native)
        let key = GitSource.text(native, "repository.full_name").flatMap { repository in
            GitSource.text(native, "issue.number").map { "\(repository)#\($0)" }
        }
        body.set("issue_key", key.map(JSONValue.string), from: "issue.number")
        body.copy("title", from: "issue.title")
        let status: String? = state == "closed" ? "DONE" : state == "open" ? "TODO" : nil
        body.set("status", status.map(JSONValue.string), from: "issue.state")
        body.copy("original_status", from: "issue.state")
        body.copy("created_date", from: "issue.created_at")
        body.copy("updated_date", from: "issue.updated_at")
        // A reopened issue keeps GitHub's closed_at; only a closed one is resolved.
        if state == "closed" { body.copy("resolution_date", from: "issue.closed_at") }
        body.copy("url", from: "issue.html_url")
        body.copy("description", from: "issue.body")
        body.set("type", .string(labelled ? "INCIDENT" : "ISSUE"))
        body.copy("creator_id", from: "issue.user.id")
        body.copy("creator_name", from: "issue.user.login")
        body.copy("assignee_id", from: "issue.assignee.id")
        body.copy("assignee_name", from: "issue.assignee.login")
        let issue = try body.decode("GitHub issues") { IssueUpsert.decode($0, for: webhook, arrival: arrival) }
        return .write([issue])
    }
}
