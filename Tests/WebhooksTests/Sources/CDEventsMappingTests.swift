import Foundation
import HTTP
import Postgres
import Testing
@testable import Webhooks

@Suite("CDEvents v0.4 become DevLake deployments, incidents, pull requests and pipelines")
struct CDEventsMappingTests {
    func map(_ body: JSONObject, options: SourceOptions = SourceOptions(), headers: HTTPHeaders = HTTPHeaders()) throws -> SourceOutcome {
        try CDEventsMapping.map(SourceFixture.event(body, headers: headers), for: SourceFixture.connection, options: options)
    }

    func fixture(_ name: String) throws -> JSONObject { try SourceFixture.load("cdevents/\(name).json") }

    func deployment(_ name: String, options: SourceOptions = SourceOptions()) throws -> DeploymentUpsert {
        let operations = try map(fixture(name), options: options).operations
        try #require(operations.count == 1)
        return try #require(operations[0] as? DeploymentUpsert)
    }

    func firstCommit(_ body: JSONObject) throws -> DeploymentUpsert.Commit {
        let deployment = try #require(try map(body).operations.first as? DeploymentUpsert)
        return try #require(deployment.commits.first)
    }

    static let timestamp = Timestamp.native("2023-03-20T14:27:05.315384Z")!

    @Test(arguments: ["service_deployed", "service_upgraded", "service_rolledback"])
    func aServiceEventIsASuccessfulDeploymentOfItsArtifact(name: String) throws {
        let deployment = try deployment(name)
        #expect(deployment.id == "271069a8-fc18-44f1-b38f-9d70a1695819")
        #expect(deployment.name == "mySubject123")
        #expect(deployment.result == "SUCCESS")
        #expect(deployment.originalResult == String(name.dropFirst("service_".count)))
        // `test123` is a test environment by its word `test…`.
        #expect(deployment.environment == "TESTING")
        #expect(deployment.originalEnvironment == "test123")
        #expect(deployment.startedDate == Self.timestamp)
        #expect(deployment.finishedDate == Self.timestamp)
        #expect(deployment.createdDate == Self.timestamp)
        try #require(deployment.commits.count == 1)
        let commit = deployment.commits[0]
        // No commit in the artifact: the OCI image stands for one.
        #expect(commit.repoUrl == "pkg:oci/myapp")
        #expect(commit.commitSha == "sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427")
        #expect(commit.result == "SUCCESS")
        #expect(commit.originalResult == deployment.originalResult)
    }

    @Test func theConnectionsEnvironmentNamesComeFirst() throws {
        let deployment = try deployment("service_deployed", options: SourceOptions(environments: ["test123": "production"]))
        #expect(deployment.environment == "PRODUCTION")
        #expect(deployment.originalEnvironment == "test123")
        #expect(EventEnvironment.devLake("eu-prod-2", options: SourceOptions()) == "PRODUCTION")
        #expect(EventEnvironment.devLake("Staging", options: SourceOptions()) == "STAGING")
        #expect(EventEnvironment.devLake("k8s-cluster-a", options: SourceOptions()) == "DEVELOPMENT")
    }

    @Test func aPurlVcsUrlOrCustomDataNamesTheCommit() throws {
        let sha = "5f5e0c5e8f2b9bd1bd9a07d4b4dcd8bd7b5b6a11"
        var body = try fixture("service_deployed")
        body = body.setting("subject.content.artifactId", .string("pkg:oci/myapp@sha256%3A0b31?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Forg%2Fmyapp%40\(sha)"))
        var commit = try firstCommit(body)
        #expect(commit.repoUrl == "https://github.com/org/myapp")
        #expect(commit.commitSha == sha)
        body = body.setting("subject.content.artifactId", .string("pkg:github/org/myapp@\(sha)"))
        commit = try firstCommit(body)
        #expect(commit.repoUrl == "https://github.com/org/myapp")
        body = body.setting("customData", ["commitSha": .string(sha), "repoUrl": "https://gitlab.com/g/p", "refName": "main"])
        commit = try firstCommit(body)
        #expect(commit.repoUrl == "https://gitlab.com/g/p")
        #expect(commit.refName == "main")
    }

    @Test(arguments: ["incident_detected", "incident_reported"])
    func aDetectedOrReportedIncidentIsAnOpenIncident(name: String) throws {
        let operations = try map(fixture(name)).operations
        let issue = try #require(operations.first as? IssueUpsert)
        #expect(operations.count == 1)
        #expect(issue.issueKey == "incident-123")
        #expect(issue.isIncident)
        #expect(issue.title == "Response time above threshold of 100ms")
        #expect(issue.description == "Response time above threshold of 100ms")
        #expect(issue.status == "TODO")
        #expect(issue.originalStatus == String(name.dropFirst("incident_".count)))
        #expect(issue.createdDate == Timestamp.native("2022-11-11T13:52:20.079Z"))
        #expect(issue.updatedDate == issue.createdDate)
        #expect(issue.component == "myApp")
        if name == "incident_reported" {
            #expect(issue.url == "https://my-issues.example/incidents/ticket-345")
            #expect(issue.priority == "critical")
            #expect(issue.severity == "medium")
        }
    }

    @Test func aResolvedIncidentClosesItWhenTheEventSays() throws {
        let operations = try map(fixture("incident_resolved")).operations
        let close = try #require(operations.first as? IssueClose)
        #expect(operations.count == 1)
        #expect(close.issueKey == "incident-123")
        #expect(close.arrival == Timestamp.native("2022-11-11T13:52:20.079Z"))
    }

    @Test func aMergedChangeIsAMergedPullRequest() throws {
        let operations = try map(fixture("change_merged")).operations
        let pull = try #require(operations.first as? PullRequestUpsert)
        #expect(pull.key == 123)
        #expect(pull.title == "mySubject123")
        #expect(pull.status == "MERGED")
        #expect(pull.createdDate == Self.timestamp)
        #expect(pull.mergedDate == Self.timestamp)
        #expect(pull.headRepoId == "TestRepo/TestOrg")
        #expect(pull.url == "https://example.org")
    }

    @Test func customDataGivesAMergedChangeAndAPipelineRunTheirCommit() throws {
        let sha = "3484a3fb816e0859fd6e1cea078d76385ff50625"
        let customData: JSONValue = ["commitSha": .string(sha), "repoUrl": "https://github.com/org/repo", "refName": "main"]
        #expect(try #require(try map(fixture("change_merged")).operations.first as? PullRequestUpsert).mergeCommitSha == "")
        var change = try fixture("change_merged")
        change.members.append((key: "customData", value: customData))
        #expect(try #require(try map(change).operations.first as? PullRequestUpsert).mergeCommitSha == sha)
        var run = try fixture("pipelinerun_finished")
        run.members.append((key: "customData", value: customData))
        let task = try #require(try map(run).operations.first as? TaskUpsert)
        #expect(task.commitSha == sha)
        #expect(task.repoId == "https://github.com/org/repo")
        #expect(task.branch == "main")
    }

    @Test func aFinishedPipelineRunIsATaskAndThePipelinesFinish() throws {
        let operations = try map(fixture("pipelinerun_finished")).operations
        try #require(operations.count == 2)
        let task = try #require(operations[0] as? TaskUpsert)
        let finish = try #require(operations[1] as? PipelineFinish)
        #expect(task.pipelineName == "mySubject123")
        #expect(task.name == "myPipeline")
        #expect(task.result == "FAILURE")
        #expect(task.originalResult == "failure")
        #expect(task.status == "DONE")
        #expect(task.type == "BUILD")
        #expect(task.startedDate == Self.timestamp)
        #expect(task.finishedDate == Self.timestamp)
        #expect(task.repoId == "/event/source/123")
        #expect(finish.pipelineName == "mySubject123")
        for (outcome, result) in [("success", "SUCCESS"), ("error", "FAILURE"), ("cancel", "ABORT")] {
            let body = try fixture("pipelinerun_finished").setting("subject.content.outcome", .string(outcome))
            let task = try #require(try map(body).operations.first as? TaskUpsert)
            #expect(task.result == result)
            #expect(task.originalResult == outcome)
        }
    }

    @Test func otherTypesAndOtherMajorVersionsAreIgnored() throws {
        #expect(try map(fixture("pipelinerun_started")).ignoredReason?.contains("not mapped") == true)
        let future = try fixture("service_deployed").setting("context.type", "dev.cdevents.service.deployed.1.0.0")
        #expect(try map(future).ignoredReason?.contains("version 1.x") == true)
        let minor = try fixture("service_deployed").setting("context.type", "dev.cdevents.service.deployed.0.3.1")
        #expect(try map(minor).operations.count == 1)
    }

    @Test func missingFieldsAreA400WhoseCausesNameTheCDEventsFields() throws {
        var body = try fixture("service_deployed")
        body = body.setting("subject.content", ["artifactId": "pkg:oci/myapp"])
        body = body.setting("context.timestamp", nil)
        let error = #expect(throws: WebhookError.self) { try map(body) }
        #expect(error?.status == 400)
        let causes = error?.causes ?? []
        #expect(causes.contains("subject.content.environment.id: is required"))
        #expect(causes.contains { $0.hasPrefix("subject.content.artifactId: names no commit") })
        #expect(causes.contains("context.timestamp (startedDate): is required"))

        let pipeline = try fixture("pipelinerun_finished").setting("subject.content.outcome", nil)
        let pipelineError = #expect(throws: WebhookError.self) { try map(pipeline) }
        #expect(pipelineError?.causes == ["subject.content.outcome (result): is required"])
    }

    /// The binary mode's headers, from a structured event's own context (as the CDEvents binding sets them).
    func binaryHeaders(_ event: JSONObject) -> HTTPHeaders {
        let context = event["context"]?.objectValue ?? JSONObject()
        func text(_ value: JSONValue?) -> String { if case .string(let s)? = value { return s } else { return "" } }
        return HTTPHeaders([
            ("ce-specversion", "1.0"), ("ce-id", text(context["id"])), ("ce-source", text(context["source"])),
            ("ce-type", text(context["type"])), ("ce-time", text(context["timestamp"])),
            ("ce-subject", text(event["subject"]?.objectValue?["id"])), ("Content-Type", "application/json"),
        ])
    }

    @Test(arguments: ["service_deployed", "incident_reported", "incident_resolved", "change_merged", "pipelinerun_finished"])
    func binaryAndStructuredModesMapAlike(name: String) throws {
        let event = try fixture(name)
        let headers = binaryHeaders(event)
        // The whole CDEvent as the body (what the CDEvents binding requires): the same event.
        #expect(CDEventsMapping.structured(headers: headers, body: event) == event)
        // The headers alone carry the context: the body is the subject, or only its content.
        let subject = try #require(event["subject"]?.objectValue)
        let content = try #require(subject["content"]?.objectValue)
        for body in [subject, content] {
            var rebuilt = CDEventsMapping.structured(headers: headers, body: body)
            #expect(rebuilt["context"]?.objectValue?["type"] == event["context"]?.objectValue?["type"])
            #expect(rebuilt["subject"]?.objectValue?["id"] == subject["id"])
            rebuilt.members += event.members.filter { $0.key == "customData" }
            #expect(try describe(map(rebuilt)) == describe(map(event)))
        }
        // A structured CloudEvent envelope (`specversion`, `data`).
        let envelope: JSONObject = ["specversion": "1.0", "type": "x", "data": .object(event)]
        #expect(CDEventsMapping.structured(headers: HTTPHeaders(), body: envelope) == event)
    }

    /// What the operations are, to compare two mappings.
    func describe(_ outcome: SourceOutcome) -> String {
        outcome.operations.map { String(describing: $0) }.joined(separator: "\n")
    }

    @Test func theOperationsWriteADeploymentThatReadsBack() throws {
        let (connection, _) = try DevLakeConnectionStore(pool: LakehookDatabase.pool).create(name: "cdevents-\(UUID().uuidString.prefix(8))")
        let outcome = try CDEventsMapping.map(
            SourceFixture.event(fixture("service_rolledback")), for: connection, options: SourceOptions(environments: ["test123": "staging"]))
        try LakehookDatabase.pool.transaction { db in
            for operation in outcome.operations { _ = try operation.write(db, for: connection) }
        }
        let id = connection.rowId("271069a8-fc18-44f1-b38f-9d70a1695819")
        let row = try #require(try LakehookDatabase.rows(
            "SELECT name, result, original_result, environment, original_environment, cicd_scope_id,"
                + " to_char(finished_date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM cicd_deployments WHERE id = $1", [id]).first)
        #expect(row[0] == "mySubject123")
        #expect(row[1] == "SUCCESS")
        #expect(row[2] == "rolledback")
        #expect(row[3] == "STAGING")
        #expect(row[4] == "test123")
        #expect(row[5] == connection.scopeId)
        #expect(row[6] == "2023-03-20 14:27:05.315384")
        let commit = try #require(try LakehookDatabase.rows(
            "SELECT commit_sha, repo_url, environment, result FROM cicd_deployment_commits WHERE cicd_deployment_id = $1", [id]).first)
        #expect(commit[0] == "sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427")
        #expect(commit[1] == "pkg:oci/myapp")
        #expect(commit[2] == "STAGING")
        #expect(commit[3] == "SUCCESS")
    }
}
