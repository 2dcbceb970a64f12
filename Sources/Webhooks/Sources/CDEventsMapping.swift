import HTTP

/// CDEvents (spec v0.4, https://cdevents.dev) carried as CloudEvents: deployments, incidents, merged
/// changes and finished pipeline runs become what the DevLake routes write (docs/SOURCES.md,
/// "CDEvents"). The mapping reads the full CDEvent (`context`, `subject`, `customData`);
/// `structured(headers:body:)` builds it from a CloudEvent in binary mode.
enum CDEventsMapping: SourceMapping {
    static let kind = SourceKind.cdevents

    /// What an event type (`<subject>.<predicate>`) becomes.
    enum Kind: Equatable {
        case deployment, incidentOpened, incidentClosed, changeMerged, pipelineFinished
    }

    /// The mapped types, each at the major version v0.4 defines (any minor and patch accepted).
    static let kinds: [String: (major: String, kind: Kind)] = [
        "service.deployed": ("0", .deployment),
        "service.upgraded": ("0", .deployment),
        "service.rolledback": ("0", .deployment),
        "incident.detected": ("0", .incidentOpened),
        "incident.reported": ("0", .incidentOpened),
        "incident.resolved": ("0", .incidentClosed),
        "change.merged": ("0", .changeMerged),
        "pipelinerun.finished": ("0", .pipelineFinished),
    ]

    static let prefix = "dev.cdevents."
    static let type = NativePath("context.type")
    static let id = NativePath("context.id")
    static let source = NativePath("context.source")
    static let timestamp = NativePath("context.timestamp")
    static let subjectId = NativePath("subject.id")
    static let content = NativePath("subject.content")
    static let customData = NativePath("customData")

    /// `dev.cdevents.service.deployed.0.2.0` → (`service.deployed`, `0`); nil when not a CDEvents type.
    static func parse(_ type: String) -> (name: String, major: String)? {
        guard type.hasPrefix(prefix) else { return nil }
        let parts = type.dropFirst(prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return ("\(parts[0]).\(parts[1])", String(parts[2]))
    }

    static func map(_ event: SourceEvent, for webhook: DevLakeConnection, options: SourceOptions) throws(WebhookError) -> SourceOutcome {
        let body = event.body
        guard let typeText = type.text(in: body) else { throw nativeFieldError(["\(type): is required"]) }
        guard let (name, major) = parse(typeText) else {
            return .ignored("\(typeText) is not a CDEvents type (dev.cdevents.<subject>.<predicate>.<version>)")
        }
        guard let mapped = kinds[name] else {
            return .ignored("CDEvent \(name) is not mapped (only \(kinds.keys.sorted().joined(separator: ", ")))")
        }
        guard mapped.major == major else {
            return .ignored("CDEvent \(typeText): version \(major).x of \(name) is not mapped (only \(mapped.major).x, CDEvents v0.4)")
        }
        guard content.object(in: body) != nil else { throw nativeFieldError(["\(content): is required"]) }
        let predicate = String(name.split(separator: ".")[1])
        switch mapped.kind {
        case .deployment:
            return .write([try deployment(body, predicate: predicate, webhook, options, arrival: event.arrival)])
        case .incidentOpened:
            return .write([try incident(body, predicate: predicate, webhook, arrival: event.arrival)])
        case .incidentClosed:
            return .write([try incidentClose(body, arrival: event.arrival)])
        case .changeMerged:
            return .write([try pullRequest(body, webhook, arrival: event.arrival)])
        case .pipelineFinished:
            return .write(try pipeline(body, webhook, arrival: event.arrival))
        }
    }

    // MARK: - Deployments

    /// `service.deployed` / `upgraded` / `rolledback` → a deployment of one commit (API.md §6),
    /// id = the event's id (a redelivery rewrites the same row). A rollback is a deployment that
    /// succeeded (it changed what runs); `original_result` keeps the predicate to tell them apart.
    static func deployment(
        _ body: JSONObject, predicate: String, _ webhook: DevLakeConnection, _ options: SourceOptions, arrival: Timestamp
    ) throws(WebhookError) -> DeploymentUpsert {
        var deployment = DevLakeBody(body)
        deployment.copy("id", from: id)
        deployment.copy("name", from: subjectId)
        deployment.copy("displayTitle", from: subjectId)
        deployment.derive("result", "SUCCESS", from: type.description)
        let environment = content.appending("environment.id")
        let environmentName = environment.text(in: body)
        deployment.derive("environment", environmentName.map { EventEnvironment.devLake($0, options: options) },
            from: environment.description)
        deployment.copy("originalEnvironment", from: environment)
        deployment.copy("createdDate", from: timestamp)
        deployment.copy("startedDate", from: timestamp)
        deployment.copy("finishedDate", from: timestamp)
        let artifactPath = content.appending("artifactId")
        let artifact = artifactPath.text(in: body)
        let commit = ArtifactCommit.derive(artifact: artifact, customData: customData.object(in: body))
        var causes: [String] = []
        if environmentName == nil { causes.append("\(environment): is required") }
        if artifact == nil && commit == nil { causes.append("\(artifactPath): is required") }
        if artifact != nil && commit == nil {
            causes.append("\(artifactPath): names no commit (a purl with a vcs_url qualifier, a git sha as its version,"
                + " customData.commitSha and repoUrl) nor any version that could stand for one")
        }
        if let commit {
            var commitObject: JSONObject = ["repoUrl": .string(commit.repoUrl), "commitSha": .string(commit.commitSha)]
            if let refName = commit.refName { commitObject.members.append((key: "refName", value: .string(refName))) }
            deployment.set("deploymentCommits", .array([.object(commitObject)]), from: commit.origin)
            deployment.set("deploymentCommits[0].repoUrl", nil, from: commit.origin)
            deployment.set("deploymentCommits[0].commitSha", nil, from: commit.origin)
            deployment.set("deploymentCommits[0].refName", nil, from: "\(customData).refName")
        }
        let result = DeploymentUpsert.decode(deployment.object, for: webhook, arrival: arrival)
        if case .failure(let error) = result {
            // Without a commit the decoder also misses `deploymentCommits`: said once, above.
            causes += deployment.renamed(error, event: "CDEvents service.\(predicate)").causes.filter { !$0.contains("deploymentCommits") }
        }
        guard causes.isEmpty else { throw nativeFieldError(causes) }
        var decoded = try deployment.decode("CDEvents service.\(predicate)") { _ in result }
        decoded.originalResult = predicate
        for index in decoded.commits.indices { decoded.commits[index].originalResult = predicate }
        return decoded
    }

    // MARK: - Incidents

    /// `incident.detected` / `reported` → an open incident (API.md §3), key = the subject's id.
    static func incident(
        _ body: JSONObject, predicate: String, _ webhook: DevLakeConnection, arrival: Timestamp
    ) throws(WebhookError) -> IssueUpsert {
        var issue = DevLakeBody(body)
        issue.copy("issue_key", from: subjectId)
        let description = content.appending("description")
        // The spec gives an incident no title: its description, else its id.
        if description.text(in: body) != nil {
            issue.copy("title", from: description)
        } else {
            issue.copy("title", from: subjectId)
        }
        issue.copy("description", from: description)
        issue.derive("status", "TODO", from: type.description)
        issue.derive("original_status", predicate, from: type.description)
        issue.derive("type", "INCIDENT", from: type.description)
        issue.copy("created_date", from: timestamp)
        issue.copy("updated_date", from: timestamp)
        issue.copy("component", from: content.appending("service.id"))
        issue.copy("url", from: content.appending("ticketURI"))
        issue.copy("priority", from: customData.appending("priority"))
        issue.copy("severity", from: customData.appending("severity"))
        return try issue.decode("CDEvents incident.\(predicate)") { IssueUpsert.decode($0, for: webhook, arrival: arrival) }
    }

    /// `incident.resolved` → the incident closed (API.md §8), resolved when the event says
    /// (`context.timestamp`, not later than the arrival), so a late delivery keeps the true time
    /// to restore.
    static func incidentClose(_ body: JSONObject, arrival: Timestamp) throws(WebhookError) -> IssueClose {
        var causes: [String] = []
        let key = subjectId.text(in: body)
        if key == nil { causes.append("\(subjectId): is required") }
        let resolved = Timestamp.native(timestamp.text(in: body))
        if resolved == nil {
            causes.append("\(timestamp): " + (timestamp.text(in: body) == nil ? "is required" : "must be a date"))
        }
        guard causes.isEmpty, let key, let resolved else { throw nativeFieldError(causes) }
        return IssueClose(issueKey: key, arrival: min(resolved, arrival))
    }

    // MARK: - Changes

    /// `change.merged` → a MERGED pull request (API.md §7), key = the change's number: the
    /// subject id when it is one, else its trailing digits (`PR-42`, `!42`).
    static func pullRequest(_ body: JSONObject, _ webhook: DevLakeConnection, arrival: Timestamp) throws(WebhookError) -> PullRequestUpsert {
        var change = DevLakeBody(body)
        let key = subjectId.text(in: body)
        change.derive("pullRequestKey", key.map(changeNumber), from: subjectId.description)
        change.copy("displayTitle", from: subjectId)
        change.copy("createdDate", from: timestamp)
        change.copy("mergedDate", from: timestamp)
        change.derive("status", "MERGED", from: type.description)
        change.derive("originalStatus", "merged", from: type.description)
        change.copy("headRepoId", from: content.appending("repository.id"))
        change.copy("url", from: content.appending("repository.source"))
        // v0.4's change has no commit: the sender's `customData.commitSha`, as for deployments,
        // makes it the merge commit DORA's lead time joins a deployment's commit on.
        change.copy("mergeCommitSha", from: customData.appending("commitSha"))
        return try change.decode("CDEvents change.merged") { PullRequestUpsert.decode($0, for: webhook, arrival: arrival) }
    }

    /// The change number in a subject id: the id when all digits, else its last run of digits,
    /// else the id itself (which the decoder then refuses as "must be an integer").
    static func changeNumber(_ id: String) -> String {
        let digits = id.reversed().prefix(while: { $0.isASCII && $0.isNumber })
        return digits.isEmpty ? id : String(digits.reversed())
    }

    // MARK: - Pipeline runs

    /// CDEvents' `outcome` → DevLake's task result; `original_result` keeps the outcome.
    static let outcomes = ["success": "SUCCESS", "failure": "FAILURE", "error": "FAILURE", "cancel": "ABORT"]

    /// `pipelinerun.finished` → one task (API.md §4) and the pipeline's finish (§5). The pipeline
    /// is the run (`subject.id`: a pipeline is finished once), its one task the pipeline's name.
    static func pipeline(_ body: JSONObject, _ webhook: DevLakeConnection, arrival: Timestamp) throws(WebhookError) -> [any IngestOperation] {
        var task = DevLakeBody(body)
        task.copy("pipeline_name", from: subjectId)
        let pipelineName = content.appending("pipelineName")
        task.copy("name", from: pipelineName.text(in: body) != nil ? pipelineName : subjectId)
        let outcomePath = content.appending("outcome")
        let outcome = outcomePath.text(in: body)
        task.derive("result", outcome.map { outcomes[$0.lowercased()] ?? $0 }, from: outcomePath.description)
        task.derive("status", "DONE", from: type.description)
        task.derive("type", "BUILD", from: type.description)
        task.derive("environment", "TESTING", from: type.description)
        task.copy("started_date", from: timestamp)
        task.copy("finished_date", from: timestamp)
        // v0.4's pipeline run names no commit: the sender's `customData.commitSha` (and
        // `repoUrl`), as for deployments, gives the run its commit, a change's start for lead time.
        let repoUrl = customData.appending("repoUrl")
        task.copy("repo_id", from: repoUrl.text(in: body) != nil ? repoUrl : source)
        task.copy("commit_sha", from: customData.appending("commitSha"))
        task.copy("branch", from: customData.appending("refName"))
        var upsert = try task.decode("CDEvents pipelinerun.finished") { TaskUpsert.decode($0, for: webhook, arrival: arrival) }
        if let outcome { upsert.originalResult = outcome }
        return [upsert, PipelineFinish(pipelineName: upsert.pipelineName, arrival: arrival)]
    }
}

extension CDEventsMapping {
    /// The CloudEvents attributes of the HTTP binding's binary mode and the CDEvents context
    /// fields they carry (CDEvents' cloudevents-binding.md: `id`, `source`, `type`, `time` are
    /// the CDEvent's; `subject` is the subject's id).
    static let contextHeaders: [(header: String, field: String)] = [
        ("ce-id", "id"), ("ce-source", "source"), ("ce-type", "type"), ("ce-time", "timestamp"),
    ]

    /// The full CDEvent (`context`, `subject`, `customData`) of a CloudEvent in binary mode:
    /// `ce-*` headers carry the context, the body the CDEvent (as the CDEvents binding requires)
    /// or only its subject, or only the subject's content. Fields the body has win over headers;
    /// the headers fill what it lacks. A body that already is a structured CloudEvent
    /// (`specversion` and `data`) is read from its `data` the same way, its attributes as headers.
    static func structured(headers: HTTPHeaders, body: JSONObject) -> JSONObject {
        if body["specversion"] != nil, let data = body["data"]?.objectValue {
            var attributes = HTTPHeaders()
            for (name, value) in body.members {
                if case .string(let text) = value { attributes.add(name: "ce-\(name)", value: text) }
            }
            return structured(headers: attributes, body: data)
        }
        var context = body["context"]?.objectValue ?? JSONObject()
        for (header, field) in contextHeaders where context[field] == nil || context[field] == .null {
            if let value = headers[first: header] { context.members.append((key: field, value: .string(value))) }
        }
        var subject: JSONObject
        if let given = body["subject"]?.objectValue {
            subject = given
        } else if body["content"] != nil {
            subject = body
        } else {
            subject = ["content": .object(body)]
        }
        if subject["id"] == nil || subject["id"] == .null, let id = headers[first: "ce-subject"] {
            subject.members.insert((key: "id", value: .string(id)), at: 0)
        }
        var event: JSONObject = ["context": .object(context), "subject": .object(subject)]
        if body["subject"] != nil {
            for member in body.members where member.key != "context" && member.key != "subject" {
                event.members.append(member)
            }
        }
        return event
    }
}
