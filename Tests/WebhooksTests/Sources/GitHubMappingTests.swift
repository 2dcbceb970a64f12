import Foundation
import HTTP
import Postgres
import Testing
@testable import Webhooks

/// The vendor payloads under Fixtures/Sources (their README says where each comes from).
@Suite("GitHub events as DevLake operations")
struct GitHubMappingTests {
    let connection = SourceFixture.connection

    func map(_ event: String, _ fixture: String, options: SourceOptions = SourceOptions()) throws -> SourceOutcome {
        try map(event, SourceFixture.load("github/\(fixture)"), options: options)
    }

    func map(_ event: String, _ body: JSONObject, options: SourceOptions = SourceOptions()) throws -> SourceOutcome {
        try GitHubMapping.map(SourceFixture.event(body, [("X-GitHub-Event", event)]), for: connection, options: options)
    }

    @Test("a successful deployment_status is a deployment of its commit to its environment")
    func deploymentStatus() throws {
        let deployment = try SourceFixture.only(try map("deployment_status", "deployment_status.json"), as: DeploymentUpsert.self)
        #expect(deployment.id == "145988746")
        #expect(deployment.name == "Codertocat/Hello-World:production")
        #expect(deployment.result == "SUCCESS")
        #expect(deployment.originalResult == "success")
        #expect(deployment.environment == "PRODUCTION")
        #expect(deployment.originalEnvironment == "production")
        #expect(deployment.createdDate == .at("2019-05-15T15:20:53Z"))
        #expect(deployment.startedDate == .at("2019-05-15T15:20:53Z"))
        #expect(deployment.finishedDate == .at("2019-05-15T15:20:55Z"))
        #expect(deployment.commits.count == 1)
        let commit = try #require(deployment.commits.first)
        #expect(commit.commitSha == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
        #expect(commit.repoUrl == "https://github.com/Codertocat/Hello-World")
        #expect(commit.refName == "master")
        #expect(commit.result == "SUCCESS")
        #expect(deployment.arrival == SourceFixture.arrival)
    }

    @Test("failure and error states are FAILURE deployments")
    func deploymentFailure() throws {
        for state in ["failure", "error"] {
            let body = try SourceFixture.load("github/deployment_status.json").setting("deployment_status.state", .string(state))
            let deployment = try SourceFixture.only(try map("deployment_status", body), as: DeploymentUpsert.self)
            #expect(deployment.result == "FAILURE")
            #expect(deployment.originalResult == state)
        }
    }

    @Test("unfinished and inactive deployment states are ignored")
    func deploymentUnfinished() throws {
        for state in ["pending", "queued", "in_progress", "waiting", "inactive"] {
            let body = try SourceFixture.load("github/deployment_status.json").setting("deployment_status.state", .string(state))
            let reason = SourceFixture.ignored(try map("deployment_status", body))
            #expect(reason?.contains(state) == true)
        }
    }

    @Test("a connection's environment names come before the built-in ones, and unknown names are DEVELOPMENT")
    func environmentOverride() throws {
        let options = SourceOptions(environments: ["production": "STAGING", "gh-pages": "production"])
        let overridden = try SourceFixture.only(try map("deployment_status", "deployment_status.json", options: options), as: DeploymentUpsert.self)
        #expect(overridden.environment == "STAGING")
        #expect(overridden.originalEnvironment == "production")
        let pages = try SourceFixture.load("github/deployment_status.json").setting("deployment.environment", "gh-pages")
        #expect(try SourceFixture.only(try map("deployment_status", pages, options: options), as: DeploymentUpsert.self).environment == "PRODUCTION")
        let unknown = try SourceFixture.only(try map("deployment_status", pages), as: DeploymentUpsert.self)
        #expect(unknown.environment == "DEVELOPMENT")
        #expect(unknown.originalEnvironment == "gh-pages")
        for (name, environment) in [("prod", "PRODUCTION"), ("Live", "PRODUCTION"), ("stage", "STAGING"), ("qa", "TESTING"), ("dev", "DEVELOPMENT")] {
            let body = try SourceFixture.load("github/deployment_status.json").setting("deployment.environment", .string(name))
            #expect(try SourceFixture.only(try map("deployment_status", body), as: DeploymentUpsert.self).environment == environment)
        }
    }

    @Test("a deployment without its sha is a 400 whose cause names deployment.sha")
    func deploymentMissingSha() throws {
        let body = try SourceFixture.load("github/deployment_status.json").setting("deployment.sha", nil)
        let error = try #require(throws: WebhookError.self) { try map("deployment_status", body) }
        #expect(error.status == 400)
        #expect(error.causes == ["deployment.sha (deploymentCommits[0].commitSha): is required"])
        #expect(error.message.contains("GitHub deployment_status"))
    }

    @Test("a bad date is a 400 naming the native field")
    func deploymentBadDate() throws {
        let body = try SourceFixture.load("github/deployment_status.json").setting("deployment_status.updated_at", "yesterday")
        let error = try #require(throws: WebhookError.self) { try map("deployment_status", body) }
        #expect(error.status == 400)
        #expect(error.causes.count == 1)
        #expect(error.causes.first?.hasPrefix("deployment_status.updated_at (finishedDate): is not a valid date") == true)
    }

    @Test("a completed workflow_run is a task of its pipeline, then the pipeline finished")
    func workflowRunCompleted() throws {
        let operations = try SourceFixture.writes(try map("workflow_run", "workflow_run.completed.json"))
        #expect(operations.count == 2)
        let task = try #require(operations.first as? TaskUpsert)
        #expect(task.pipelineName == "289782451")
        #expect(task.name == "test")  // workflow_run.name is "": the workflow's name
        #expect(task.result == "SUCCESS")
        #expect(task.originalResult == "success")
        #expect(task.status == "DONE")
        #expect(task.type == "TEST")
        #expect(task.environment == "PRODUCTION")
        #expect(task.startedDate == .at("2020-10-05T16:33:49Z"))
        #expect(task.finishedDate == .at("2020-10-05T16:33:49Z"))
        #expect(task.repoId == "https://github.com/octo-org/octo-repo")
        #expect(task.branch == "master")
        #expect(task.commitSha == "3484a3fb816e0859fd6e1cea078d76385ff50625")
        let finish = try #require(operations.last as? PipelineFinish)
        #expect(finish.pipelineName == "289782451")
        #expect(finish.arrival == SourceFixture.arrival)
    }

    @Test("a re-run's pipeline is named after its attempt")
    func workflowRunAttempt() throws {
        let body = try SourceFixture.load("github/workflow_run.completed.json").setting("workflow_run.run_attempt", 2)
        let task = try #require(try SourceFixture.writes(try map("workflow_run", body)).first as? TaskUpsert)
        #expect(task.pipelineName == "289782451-2")
    }

    @Test("workflow_run actions other than completed are ignored")
    func workflowRunRequested() throws {
        let reason = SourceFixture.ignored(try map("workflow_run", "workflow_run.requested.json"))
        #expect(reason?.contains("requested") == true)
    }

    @Test("a completed workflow_job is a DONE task of its run's pipeline")
    func workflowJobCompleted() throws {
        let task = try SourceFixture.only(try map("workflow_job", "workflow_job.completed.success.with-organization.json"), as: TaskUpsert.self)
        #expect(task.pipelineName == "2202229078")
        #expect(task.name == "linters")
        #expect(task.result == "SUCCESS")
        #expect(task.status == "DONE")
        #expect(task.type == "LINT")
        #expect(task.startedDate == .at("2021-08-05T10:34:58Z"))
        #expect(task.finishedDate == .at("2021-08-05T10:38:16Z"))
        #expect(task.repoId == "https://github.com/Codertocat/Hello-World")
        #expect(task.branch == "main")
        #expect(task.commitSha == "3484a3fb816e0859fd6e1cea078d76385ff50625")
        let failed = try SourceFixture.only(try map("workflow_job", "workflow_job.completed.failure.with-organization.json"), as: TaskUpsert.self)
        #expect(failed.result == "FAILURE")
        #expect(failed.originalResult == "failure")
    }

    @Test("a deploying job (name deploy-staging) is a DEPLOYMENT task in the environment its name says")
    func workflowJobDeploy() throws {
        let body = try SourceFixture.load("github/workflow_job.completed.success.with-organization.json")
            .setting("workflow_job.name", "deploy-staging")
        let task = try SourceFixture.only(try map("workflow_job", body), as: TaskUpsert.self)
        #expect(task.type == "DEPLOYMENT")
        #expect(task.environment == "STAGING")
        let own = try SourceFixture.only(
            try map("workflow_job", body, options: SourceOptions(environments: ["staging": "PRODUCTION"])), as: TaskUpsert.self)
        #expect(own.environment == "PRODUCTION")
    }

    @Test("an in_progress workflow_job is an IN_PROGRESS task without a finish")
    func workflowJobInProgress() throws {
        let task = try SourceFixture.only(try map("workflow_job", "workflow_job.in_progress.json"), as: TaskUpsert.self)
        #expect(task.name == "Analyze (javascript)")
        #expect(task.result == "IN_PROGRESS")
        #expect(task.status == "IN_PROGRESS")
        #expect(task.finishedDate == nil)
        #expect(task.startedDate == .at("2021-09-13T02:21:13Z"))
    }

    @Test("queued and waiting workflow_jobs are ignored")
    func workflowJobQueued() throws {
        for action in ["queued", "waiting"] {
            let body = try SourceFixture.load("github/workflow_job.in_progress.json").setting("action", .string(action))
            #expect(SourceFixture.ignored(try map("workflow_job", body))?.contains(action) == true)
        }
    }

    @Test("an opened pull_request is an OPEN pull request with its refs and shas")
    func pullRequestOpened() throws {
        let pr = try SourceFixture.only(try map("pull_request", "pull_request.opened.json"), as: PullRequestUpsert.self)
        #expect(pr.key == 2)
        #expect(pr.title == "Update the README with new information.")
        #expect(pr.status == "OPEN")
        #expect(pr.originalStatus == "open")
        #expect(pr.createdDate == .at("2019-05-15T15:20:33Z"))
        #expect(pr.url == "https://github.com/Codertocat/Hello-World/pull/2")
        #expect(pr.authorName == "Codertocat")
        #expect(pr.authorId == "21031067")
        #expect(pr.headRef == "changes")
        #expect(pr.baseRef == "master")
        #expect(pr.headCommitSha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821")
        #expect(pr.baseCommitSha == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
        #expect(pr.headRepoId == "https://github.com/Codertocat/Hello-World")
        #expect(pr.mergeCommitSha == "")
        #expect(pr.additions == 1 && pr.deletions == 1 && !pr.isDraft)
    }

    @Test("a pull request closed without merging is CLOSED, and keeps no merge commit")
    func pullRequestClosed() throws {
        let pr = try SourceFixture.only(try map("pull_request", "pull_request.closed.json"), as: PullRequestUpsert.self)
        #expect(pr.status == "CLOSED")
        #expect(pr.closedDate == .at("2019-05-15T15:21:18Z"))
        #expect(pr.mergedDate == nil)
        #expect(pr.mergeCommitSha == "")
    }

    @Test("a merged pull request (closed.json with merged true and merged_at) is MERGED with its merge commit")
    func pullRequestMerged() throws {
        let body = try SourceFixture.load("github/pull_request.closed.json")
            .setting("pull_request.merged", true).setting("pull_request.merged_at", "2019-05-15T15:21:18Z")
        let pr = try SourceFixture.only(try map("pull_request", body), as: PullRequestUpsert.self)
        #expect(pr.status == "MERGED")
        #expect(pr.originalStatus == "merged")
        #expect(pr.mergedDate == .at("2019-05-15T15:21:18Z"))
        #expect(pr.mergeCommitSha == "c4295bd74fb0f4fda03689c3df3f2803b658fd85")
    }

    @Test("issues without the incident label are ignored; with it they are incidents")
    func issueLabel() throws {
        #expect(SourceFixture.ignored(try map("issues", "issues.opened.json"))?.contains("incident") == true)
        let issue = try SourceFixture.only(
            try map("issues", "issues.opened.json", options: SourceOptions(incidentLabel: "BUG")), as: IssueUpsert.self)
        #expect(issue.issueKey == "Codertocat/Hello-World#1")
        #expect(issue.isIncident)
        #expect(issue.title == "Spelling error in the README file")
        #expect(issue.status == "TODO")
        #expect(issue.originalStatus == "open")
        #expect(issue.createdDate == .at("2019-05-15T15:20:18Z"))
        #expect(issue.resolutionDate == nil)
        #expect(issue.url == "https://github.com/Codertocat/Hello-World/issues/1")
        #expect(issue.creatorName == "Codertocat")
        #expect(issue.assigneeName == "Codertocat")
    }

    @Test("a reopened incident keeps no resolution date, though GitHub keeps closed_at")
    func issueReopened() throws {
        let issue = try SourceFixture.only(
            try map("issues", "issues.reopened.json", options: SourceOptions(incidentLabel: "bug")), as: IssueUpsert.self)
        #expect(issue.status == "TODO")
        #expect(issue.resolutionDate == nil)
        #expect(issue.updatedDate == .at("2021-10-11T16:40:56Z"))
    }

    @Test("a closed incident (reopened.json with action closed, state closed) is DONE, resolved at closed_at")
    func issueClosed() throws {
        let body = try SourceFixture.load("github/issues.reopened.json").setting("action", "closed").setting("issue.state", "closed")
        let issue = try SourceFixture.only(try map("issues", body, options: SourceOptions(incidentLabel: "bug")), as: IssueUpsert.self)
        #expect(issue.status == "DONE")
        #expect(issue.originalStatus == "closed")
        #expect(issue.resolutionDate == .at("2021-07-05T18:07:10Z"))
        #expect(issue.leadTimeMinutes == 1)
    }

    @Test("taking the incident label off writes the issue as no incident any more")
    func issueUnlabeled() throws {
        let body = try SourceFixture.load("github/issues.opened.json").setting("action", "unlabeled")
            .setting("issue.labels", []).setting("label", ["name": "bug"])
        let issue = try SourceFixture.only(try map("issues", body, options: SourceOptions(incidentLabel: "bug")), as: IssueUpsert.self)
        #expect(!issue.isIncident)
    }

    @Test("ping is a ping; other events are ignored, naming the event")
    func pingAndOthers() throws {
        guard case .ping = try map("ping", "ping.json") else { Issue.record("ping"); return }
        #expect(SourceFixture.ignored(try map("push", "ping.json")) == "GitHub event push is not mapped")
    }

    @Test("an event without X-GitHub-Event is a 400")
    func missingHeader() throws {
        let body = try SourceFixture.load("github/ping.json")
        let error = try #require(throws: WebhookError.self) {
            try GitHubMapping.map(SourceFixture.event(body, []), for: connection, options: SourceOptions())
        }
        #expect(error.status == 400)
    }

    @Test("the operations of GitHub's fixtures write the DevLake rows")
    func writesRows() throws {
        let (connection, _) = try DevLakeConnectionStore(pool: LakehookDatabase.pool).create(name: "github-\(UUID().uuidString.prefix(13))")
        let options = SourceOptions(incidentLabel: "bug")
        func operations(_ event: String, _ fixture: String) throws -> [any IngestOperation] {
            let body = try SourceFixture.load("github/\(fixture)")
            return try SourceFixture.writes(
                try GitHubMapping.map(SourceFixture.event(body, [("X-GitHub-Event", event)]), for: connection, options: options))
        }
        let all = try operations("deployment_status", "deployment_status.json")
            + operations("workflow_job", "workflow_job.completed.failure.with-organization.json")
            + operations("workflow_run", "workflow_run.completed.json")
            + operations("pull_request", "pull_request.closed.json")
            + operations("issues", "issues.opened.json")
        try LakehookDatabase.pool.transaction { db in
            for operation in all { _ = try operation.write(db, for: connection) }
        }
        let deployment = try #require(try LakehookDatabase.rows(
            "SELECT result, environment, to_char(finished_date AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') AS finished FROM cicd_deployments WHERE id = $1",
            [connection.rowId("145988746")]).first)
        #expect(deployment["result"] == "SUCCESS")
        #expect(deployment["environment"] == "PRODUCTION")
        #expect(deployment["finished"] == "2019-05-15T15:20:55")
        let commit = try #require(try LakehookDatabase.rows(
            "SELECT commit_sha, repo_url FROM cicd_deployment_commits WHERE cicd_deployment_id = $1", [connection.rowId("145988746")]).first)
        #expect(commit["commit_sha"] == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
        #expect(commit["repo_url"] == "https://github.com/Codertocat/Hello-World")
        let job = try #require(try LakehookDatabase.rows(
            "SELECT result, status FROM cicd_tasks WHERE id = $1", [connection.rowId("2202229078:linters")]).first)
        #expect(job["result"] == "FAILURE")
        #expect(job["status"] == "DONE")
        let pipeline = try #require(try LakehookDatabase.rows(
            "SELECT result, status FROM cicd_pipelines WHERE id = $1", [connection.rowId("289782451")]).first)
        #expect(pipeline["result"] == "SUCCESS")
        #expect(pipeline["status"] == "DONE")
        #expect(try LakehookDatabase.value(
            "SELECT branch FROM cicd_pipeline_commits WHERE pipeline_id = $1 AND commit_sha = $2",
            [connection.rowId("289782451"), "3484a3fb816e0859fd6e1cea078d76385ff50625"]) == "master")
        #expect(try LakehookDatabase.value("SELECT status FROM pull_requests WHERE id = $1", [connection.rowId("2")]) == "CLOSED")
        #expect(try LakehookDatabase.value("SELECT status FROM incidents WHERE id = $1", [connection.rowId("Codertocat/Hello-World#1")]) == "TODO")
    }
}
