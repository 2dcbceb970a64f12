import Foundation
import HTTP
import Testing
@testable import Webhooks

/// Issue 17, item 5: one history, sent once as a tool's own signed events (the vendors' example
/// payloads of Fixtures/Sources with their ids, commits and dates set to the history's) and once
/// as the DevLake-webhook calls a team would write for it, gives the same `dora_report`: every
/// metric's value, level, numerator, denominator and ids (row ids without their connection).
@Suite("Native sources: the same history as native events and as DevLake calls gives the same DORA")
struct SourceDoraEquivalenceTests {
    let server = TestServer.shared
    static let from = "2024-03-04", to = "2024-04-01"

    // MARK: - The history

    static func sha(_ label: String) -> String {
        HMAC.hex(HMAC.sha256(key: Array("equivalence".utf8), message: Array(label.utf8))).prefix(40).description
    }

    /// A merged pull request (merge request, change).
    struct Change { var number: Int; var sha: String; var created: String; var merged: String }
    /// A CI run of one job on a commit.
    struct Run { var id: Int; var sha: String; var started: String; var finished: String }
    struct Deployment { var id: Int; var sha: String; var environment: String; var started: String; var finished: String; var success = true }
    struct Incident { var number: Int; var created: String; var resolved: String? }

    /// Four weeks: a change with a pull request and CI, one with CI only, one with a pull
    /// request only; a production deployment that fails and is recovered by the next; a staging
    /// one; a redeploy of an old commit; three incidents, two caused and resolved, one open.
    static let changes = [
        Change(number: 11, sha: sha("a"), created: "2024-03-04T09:00:00Z", merged: "2024-03-04T15:00:00Z"),
        Change(number: 12, sha: sha("c"), created: "2024-03-11T10:00:00Z", merged: "2024-03-12T10:00:00Z"),
    ]
    static let runs = [
        Run(id: 101, sha: sha("a"), started: "2024-03-04T15:05:00Z", finished: "2024-03-04T15:20:00Z"),
        Run(id: 102, sha: sha("b"), started: "2024-03-05T08:00:00Z", finished: "2024-03-05T08:10:00Z"),
    ]
    static let deployments = [
        Deployment(id: 9001, sha: sha("a"), environment: "production", started: "2024-03-05T10:00:00Z", finished: "2024-03-05T10:30:00Z"),
        Deployment(id: 9002, sha: sha("b"), environment: "production", started: "2024-03-06T10:00:00Z", finished: "2024-03-06T10:20:00Z", success: false),
        Deployment(id: 9003, sha: sha("b"), environment: "production", started: "2024-03-07T09:00:00Z", finished: "2024-03-07T09:30:00Z"),
        Deployment(id: 9004, sha: sha("c"), environment: "staging", started: "2024-03-12T11:00:00Z", finished: "2024-03-12T11:10:00Z"),
        Deployment(id: 9005, sha: sha("c"), environment: "production", started: "2024-03-13T11:00:00Z", finished: "2024-03-13T11:30:00Z"),
        Deployment(id: 9006, sha: sha("a"), environment: "production", started: "2024-03-20T10:00:00Z", finished: "2024-03-20T10:15:00Z"),
    ]
    static let incidents = [
        Incident(number: 1, created: "2024-03-07T12:00:00Z", resolved: "2024-03-07T18:00:00Z"),
        Incident(number: 2, created: "2024-03-14T08:00:00Z", resolved: "2024-03-15T08:00:00Z"),
        Incident(number: 3, created: "2024-03-25T09:00:00Z", resolved: nil),
    ]

    // MARK: - The DevLake side

    /// The history as DevLake-webhook calls, on a connection of a project of its own.
    /// `singleDateDeployments`, `singleDateRuns`: the tool knows one date per deployment (GitLab's
    /// deployment hook, CDEvents) or run (CDEvents), so the team's script sends it as start and
    /// finish alike. `failures`: whether the tool can say a deployment failed.
    func devLake(
        _ label: String, incidentKey: (Int) -> String, changeCreated: (Change) -> String = { $0.created },
        singleDateDeployments: Bool = false, singleDateRuns: Bool = false, failures: Bool = true,
        task: (name: String, type: String) = ("CI", "BUILD")
    ) throws -> String {
        let project = DoraCheck.unique("eq-\(label)-devlake")
        let connection = try TestServer.shared.createConnection(DoraCheck.unique("eq-\(label)"), project: project)
        for change in Self.changes {
            try connection.post("/pull_requests", #"{"pullRequestKey":\#(change.number),"displayTitle":"PR","createdDate":"\#(changeCreated(change))","status":"MERGED","mergeCommitSha":"\#(change.sha)","mergedDate":"\#(change.merged)"}"#)
        }
        for run in Self.runs {
            try connection.pipeline(String(run.id), commit: run.sha, tasks: [
                DoraConnection.Task(name: task.name, type: task.type, environment: "PRODUCTION",
                                    started: singleDateRuns ? run.finished : run.started, finished: run.finished),
            ])
        }
        for deployment in Self.deployments where failures || deployment.success {
            try connection.post("/deployments", #"{"id":"\#(deployment.id)","result":"\#(deployment.success ? "SUCCESS" : "FAILURE")","environment":"\#(deployment.environment.uppercased())","startedDate":"\#(singleDateDeployments ? deployment.finished : deployment.started)","finishedDate":"\#(deployment.finished)","deploymentCommits":[{"repoUrl":"https://git.example.com/shop","commitSha":"\#(deployment.sha)"}]}"#)
        }
        for incident in Self.incidents {
            try connection.incident(incidentKey(incident.number), created: incident.created, resolved: incident.resolved)
        }
        return project
    }

    // MARK: - The native side

    func sourceConnection(_ kind: SourceKind, _ label: String) throws -> (DevLakeConnection, String) {
        let project = DoraCheck.unique("eq-\(label)-native")
        let connection = try server.service.store.create(name: DoraCheck.unique("eq-\(label)"), project: project, source: kind).0
        return (connection, project)
    }

    /// Posts a native event signed as its sender signs it; it must be written (200).
    func send(_ kind: SourceKind, _ connection: DevLakeConnection, _ event: JSONObject, _ headers: [(String, String)] = []) throws {
        let body = Array(JSONValue.object(event).serialized().utf8)
        let secret = try #require(connection.signingSecret)
        var signed = headers + [("Content-Type", "application/json")]
        switch kind {
        case .github:
            signed.append(("X-Hub-Signature-256", "sha256=" + HMAC.hex(HMAC.sha256(key: Array(secret.utf8), message: body))))
        case .gitlab:
            signed.append(("X-Gitlab-Token", secret))
        case .pagerduty:
            signed.append(("X-PagerDuty-Signature", "v1=" + HMAC.hex(HMAC.sha256(key: Array(secret.utf8), message: body))))
        case .cdevents:
            let id = "msg_\(UUID().uuidString)", now = Int64(Date().timeIntervalSince1970)
            signed += [("webhook-id", id), ("webhook-timestamp", String(now)),
                       ("webhook-signature", SourceSignature.standardWebhooksSignature(secret: secret, id: id, timestamp: now, body: body))]
        case .devlake:
            Issue.record("not a source")
        }
        let reply = try server.request(
            "POST", "/api/plugins/webhook/sources/\(kind.rawValue)/\(connection.id)",
            body: String(decoding: body, as: UTF8.self), headers: signed)
        #expect(reply.status == 200, "\(kind.rawValue) \(headers): \(reply.status) \(reply.text)")
    }

    /// The same report for both projects, with row ids compared without their connection; and
    /// a report with something in it (deployments, changes with a start, failures).
    func expectSameReport(native: String, devLake: String, failures: Int64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        func normalized(_ project: String) throws -> [ExpectedMetric] {
            try DoraCheck.sql(project, from: Self.from, to: Self.to).map { metric in
                var metric = metric
                // Without their connection; sorted, since the two sides' connection ids order them differently.
                metric.ids = metric.ids.map { $0.replacing(/^webhook:\d+:/, with: "") }.sorted()
                return metric
            }
        }
        let nativeReport = try normalized(native), devLakeReport = try normalized(devLake)
        DoraCheck.same(nativeReport, devLakeReport, "native \(native) vs DevLake \(devLake)", sourceLocation: sourceLocation)
        let byName = Dictionary(uniqueKeysWithValues: devLakeReport.map { ($0.metric, $0) })
        #expect((byName["deployment_frequency"]?.numerator ?? 0) >= 3, "deployment days", sourceLocation: sourceLocation)
        #expect((byName["lead_time_for_changes"]?.numerator ?? 0) >= 2, "changes with a start", sourceLocation: sourceLocation)
        #expect(byName["change_failure_rate"]?.numerator == failures, "failures", sourceLocation: sourceLocation)
        #expect((byName["failed_deployment_recovery_time"]?.numerator ?? 0) >= 1, "recovered failures", sourceLocation: sourceLocation)
    }

    // MARK: - GitHub

    @Test("GitHub: pull_request, workflow_run, deployment_status and labelled issues give DevLake's report")
    func github() throws {
        let (github, project) = try sourceConnection(.github, "github")
        let repository = "Codertocat/Hello-World"
        let pullRequest = try SourceFixture.load("github/pull_request.closed.json")
        for change in Self.changes {
            try send(.github, github, pullRequest
                .setting("pull_request.number", .integer(Int64(change.number)))
                .setting("pull_request.created_at", .string(change.created))
                .setting("pull_request.merged", .bool(true))
                .setting("pull_request.merged_at", .string(change.merged))
                .setting("pull_request.closed_at", .string(change.merged))
                .setting("pull_request.merge_commit_sha", .string(change.sha)),
                [("X-GitHub-Event", "pull_request")])
        }
        let workflowRun = try SourceFixture.load("github/workflow_run.completed.json")
        for run in Self.runs {
            try send(.github, github, workflowRun
                .setting("workflow_run.id", .integer(Int64(run.id)))
                .setting("workflow_run.name", .string("CI"))
                .setting("workflow_run.head_sha", .string(run.sha))
                .setting("workflow_run.run_started_at", .string(run.started))
                .setting("workflow_run.updated_at", .string(run.finished)),
                [("X-GitHub-Event", "workflow_run")])
        }
        let deploymentStatus = try SourceFixture.load("github/deployment_status.json")
        for deployment in Self.deployments {
            try send(.github, github, deploymentStatus
                .setting("deployment.id", .integer(Int64(deployment.id)))
                .setting("deployment.sha", .string(deployment.sha))
                .setting("deployment.environment", .string(deployment.environment))
                .setting("deployment.created_at", .string(deployment.started))
                .setting("deployment_status.state", .string(deployment.success ? "success" : "failure"))
                .setting("deployment_status.created_at", .string(deployment.finished))
                .setting("deployment_status.updated_at", .string(deployment.finished)),
                [("X-GitHub-Event", "deployment_status")])
        }
        let issue = try SourceFixture.load("github/issues.opened.json")
        let incidentLabel: JSONValue = .array([.object(["name": .string("incident")])])
        for incident in Self.incidents {
            let opened = issue
                .setting("issue.number", .integer(Int64(incident.number)))
                .setting("issue.labels", incidentLabel)
                .setting("issue.created_at", .string(incident.created))
                .setting("issue.updated_at", .string(incident.created))
            try send(.github, github, opened, [("X-GitHub-Event", "issues")])
            if let resolved = incident.resolved {
                try send(.github, github, opened
                    .setting("action", .string("closed"))
                    .setting("issue.state", .string("closed"))
                    .setting("issue.closed_at", .string(resolved))
                    .setting("issue.updated_at", .string(resolved)),
                    [("X-GitHub-Event", "issues")])
            }
        }
        let devLake = try devLake("github", incidentKey: { "\(repository)#\($0)" })
        try expectSameReport(native: project, devLake: devLake, failures: 4)
    }

    // MARK: - GitLab

    /// GitLab's hooks date with `2024-03-04 15:05:00 UTC`: the history's dates in that form.
    static func gitLabDate(_ iso: String) -> JSONValue {
        .string(iso.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC"))
    }

    @Test("GitLab: merge request, pipeline, deployment and incident hooks give DevLake's report")
    func gitlab() throws {
        let (gitlab, project) = try sourceConnection(.gitlab, "gitlab")
        let mergeRequest = try SourceFixture.load("gitlab/merge_request_hook.json")
        for change in Self.changes {
            try send(.gitlab, gitlab, mergeRequest
                .setting("object_attributes.iid", .integer(Int64(change.number)))
                .setting("object_attributes.state", .string("merged"))
                .setting("object_attributes.action", .string("merge"))
                .setting("object_attributes.created_at", Self.gitLabDate(change.created))
                .setting("object_attributes.updated_at", Self.gitLabDate(change.merged))
                .setting("object_attributes.merged_at", Self.gitLabDate(change.merged))
                .setting("object_attributes.merge_commit_sha", .string(change.sha)),
                [("X-Gitlab-Event", "Merge Request Hook")])
        }
        let pipeline = try SourceFixture.load("gitlab/pipeline_hook.json")
        guard case .array(let builds)? = pipeline["builds"], let testJob = builds.compactMap(\.objectValue)
            .first(where: { GitSource.text($0, "name") == "test-image" })
        else { Issue.record("the fixture's test-image job"); return }
        for run in Self.runs {
            let job = testJob
                .setting("started_at", Self.gitLabDate(run.started))
                .setting("finished_at", Self.gitLabDate(run.finished))
            try send(.gitlab, gitlab, pipeline
                .setting("object_attributes.id", .integer(Int64(run.id)))
                .setting("object_attributes.sha", .string(run.sha))
                .setting("object_attributes.created_at", Self.gitLabDate(run.started))
                .setting("object_attributes.finished_at", Self.gitLabDate(run.finished))
                .setting("builds", .array([.object(job)])),
                [("X-Gitlab-Event", "Pipeline Hook")])
        }
        let deploymentHook = try SourceFixture.load("gitlab/deployment_hook.json")
        for deployment in Self.deployments {
            try send(.gitlab, gitlab, deploymentHook
                .setting("deployment_id", .integer(Int64(deployment.id)))
                .setting("status", .string(deployment.success ? "success" : "failed"))
                .setting("status_changed_at", Self.gitLabDate(deployment.finished))
                .setting("environment", .string(deployment.environment))
                .setting("environment_tier", .string(deployment.environment))
                .setting("commit_url", .string("http://10.126.0.2:3000/root/test-deployment-webhooks/-/commit/\(deployment.sha)")),
                [("X-Gitlab-Event", "Deployment Hook")])
        }
        let issueHook = try SourceFixture.load("gitlab/issue_hook.json")
        for incident in Self.incidents {
            let opened = issueHook
                .setting("object_attributes.iid", .integer(Int64(incident.number)))
                .setting("object_attributes.type", .string("Incident"))
                .setting("object_attributes.created_at", Self.gitLabDate(incident.created))
                .setting("object_attributes.updated_at", Self.gitLabDate(incident.created))
            try send(.gitlab, gitlab, opened, [("X-Gitlab-Event", "Issue Hook")])
            if let resolved = incident.resolved {
                try send(.gitlab, gitlab, opened
                    .setting("object_attributes.state", .string("closed"))
                    .setting("object_attributes.action", .string("close"))
                    .setting("object_attributes.closed_at", Self.gitLabDate(resolved))
                    .setting("object_attributes.updated_at", Self.gitLabDate(resolved)),
                    [("X-Gitlab-Event", "Issue Hook")])
            }
        }
        let devLake = try devLake("gitlab", incidentKey: { "gitlabhq/gitlab-test#\($0)" }, singleDateDeployments: true, task: ("test-image", "TEST"))
        try expectSameReport(native: project, devLake: devLake, failures: 4)
    }

    // MARK: - PagerDuty

    @Test("PagerDuty: incidents triggered and resolved, deployments from a DevLake connection of the same project, give DevLake's report")
    func pagerDuty() throws {
        let (pagerDuty, project) = try sourceConnection(.pagerduty, "pagerduty")
        // PagerDuty knows incidents only: the project's changes and deployments come from its CI,
        // here a DevLake connection of the same project (the calls the other side makes too).
        let ci = try TestServer.shared.createConnection(DoraCheck.unique("eq-pagerduty-ci"), project: project)
        for change in Self.changes {
            try ci.post("/pull_requests", #"{"pullRequestKey":\#(change.number),"displayTitle":"PR","createdDate":"\#(change.created)","status":"MERGED","mergeCommitSha":"\#(change.sha)","mergedDate":"\#(change.merged)"}"#)
        }
        for run in Self.runs {
            try ci.pipeline(String(run.id), commit: run.sha, tasks: [
                DoraConnection.Task(name: "CI", type: "BUILD", environment: "PRODUCTION", started: run.started, finished: run.finished),
            ])
        }
        for deployment in Self.deployments {
            try ci.post("/deployments", #"{"id":"\#(deployment.id)","result":"\#(deployment.success ? "SUCCESS" : "FAILURE")","environment":"\#(deployment.environment.uppercased())","startedDate":"\#(deployment.started)","finishedDate":"\#(deployment.finished)","deploymentCommits":[{"repoUrl":"https://git.example.com/shop","commitSha":"\#(deployment.sha)"}]}"#)
        }
        let triggered = try SourceFixture.load("pagerduty/triggered_v3.json")
        let resolvedEvent = try SourceFixture.load("pagerduty/resolved_v3.json")
        for incident in Self.incidents {
            let id = JSONValue.string("PINC\(incident.number)")
            // Each event has its own id (PagerDuty's delivery key: a redelivery is answered once).
            try send(.pagerduty, pagerDuty, triggered
                .setting("event.id", .string(UUID().uuidString))
                .setting("event.data.id", id)
                .setting("event.data.created_at", .string(incident.created))
                .setting("event.occurred_at", .string(incident.created)))
            if let resolved = incident.resolved {
                try send(.pagerduty, pagerDuty, resolvedEvent
                    .setting("event.id", .string(UUID().uuidString))
                    .setting("event.data.id", id)
                    .setting("event.data.created_at", .string(incident.created))
                    .setting("event.occurred_at", .string(resolved)))
            }
        }
        let devLake = try devLake("pagerduty", incidentKey: { "PINC\($0)" })
        try expectSameReport(native: project, devLake: devLake, failures: 4)
    }

    // MARK: - CDEvents

    @Test("CDEvents: change.merged, pipelinerun.finished, service.deployed/rolledback and incidents give DevLake's report")
    func cdevents() throws {
        let (cdevents, project) = try sourceConnection(.cdevents, "cdevents")
        let repository: JSONObject = ["repoUrl": .string("https://git.example.com/shop")]
        func commit(_ sha: String) -> JSONValue {
            var data = repository
            data.members.append((key: "commitSha", value: .string(sha)))
            return .object(data)
        }
        let merged = try SourceFixture.load("cdevents/change_merged.json")
        for change in Self.changes {
            try send(.cdevents, cdevents, merged
                .setting("context.id", .string(UUID().uuidString))
                .setting("context.timestamp", .string(change.merged))
                .setting("subject.id", .string("PR-\(change.number)"))
                .setting("customData", commit(change.sha)))
        }
        let finished = try SourceFixture.load("cdevents/pipelinerun_finished.json")
        for run in Self.runs {
            try send(.cdevents, cdevents, finished
                .setting("context.id", .string(UUID().uuidString))
                .setting("context.timestamp", .string(run.finished))
                .setting("subject.id", .string(String(run.id)))
                .setting("subject.content.pipelineName", .string("CI"))
                .setting("subject.content.outcome", .string("success"))
                .setting("customData", commit(run.sha)))
        }
        // CDEvents v0.4 has no failed deployment: a service.* event is one that happened. The
        // redeploy of an old commit is a rollback.
        let deployed = try SourceFixture.load("cdevents/service_deployed.json")
        let rolledBack = try SourceFixture.load("cdevents/service_rolledback.json")
        for deployment in Self.deployments where deployment.success {
            try send(.cdevents, cdevents, (deployment.id == 9006 ? rolledBack : deployed)
                .setting("context.id", .string(String(deployment.id)))
                .setting("context.timestamp", .string(deployment.finished))
                .setting("subject.content.environment.id", .string(deployment.environment))
                .setting("customData", commit(deployment.sha)))
        }
        let detected = try SourceFixture.load("cdevents/incident_detected.json")
        let resolvedEvent = try SourceFixture.load("cdevents/incident_resolved.json")
        for incident in Self.incidents {
            try send(.cdevents, cdevents, detected
                .setting("context.id", .string(UUID().uuidString))
                .setting("context.timestamp", .string(incident.created))
                .setting("subject.id", .string("incident-\(incident.number)")))
            if let resolved = incident.resolved {
                try send(.cdevents, cdevents, resolvedEvent
                    .setting("context.id", .string(UUID().uuidString))
                    .setting("context.timestamp", .string(resolved))
                    .setting("subject.id", .string("incident-\(incident.number)")))
            }
        }
        // A change's creation is unknown to change.merged: the merge time stands in; a run has
        // one date, its finish.
        let devLake = try devLake(
            "cdevents", incidentKey: { "incident-\($0)" }, changeCreated: { $0.merged }, singleDateDeployments: true, singleDateRuns: true,
            failures: false)
        try expectSameReport(native: project, devLake: devLake, failures: 3)
    }
}
