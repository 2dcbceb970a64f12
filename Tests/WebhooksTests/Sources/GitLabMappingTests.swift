import Foundation
import HTTP
import Postgres
import Testing
@testable import Webhooks

@Suite("GitLab events as DevLake operations")
struct GitLabMappingTests {
    let connection = SourceFixture.connection

    func map(_ hook: String, _ fixture: String, options: SourceOptions = SourceOptions()) throws -> SourceOutcome {
        try map(hook, SourceFixture.load("gitlab/\(fixture)"), options: options)
    }

    func map(_ hook: String, _ body: JSONObject, options: SourceOptions = SourceOptions()) throws -> SourceOutcome {
        try GitLabMapping.map(SourceFixture.event(body, [("X-Gitlab-Event", hook)]), for: connection, options: options)
    }

    @Test("a successful pipeline's started and ended jobs are tasks, then the pipeline is finished")
    func pipeline() throws {
        let operations = try SourceFixture.writes(try map("Pipeline Hook", "pipeline_hook.json"))
        // build 379 (staging, created) never ran: no task.
        let tasks = operations.compactMap { $0 as? TaskUpsert }
        #expect(tasks.map(\.name) == ["production", "test-image", "test-build", "build-image"])
        #expect(operations.count == 5)
        let finish = try #require(operations.last as? PipelineFinish)
        #expect(finish.pipelineName == "31")
        for task in tasks {
            #expect(task.pipelineName == "31")
            #expect(task.repoId == "http://192.168.64.1:3005/gitlab-org/gitlab-test")
            #expect(task.branch == "master")
            #expect(task.commitSha == "bcbb5ec396a2c0f828686f14fac9b80b780504f2")
        }
        let production = tasks[0]
        #expect(production.result == "")
        #expect(production.originalResult == "skipped")
        #expect(production.status == "DONE")
        #expect(production.type == "DEPLOYMENT")
        #expect(production.environment == "PRODUCTION")
        #expect(production.startedDate == .at("2016-08-12T15:23:28Z"))
        #expect(production.finishedDate == nil)
        let testImage = tasks[1]
        #expect(testImage.result == "SUCCESS")
        #expect(testImage.type == "TEST")
        #expect(testImage.startedDate == .at("2016-08-12T15:26:12Z"))
        #expect(testImage.finishedDate == .at("2016-08-12T15:26:29Z"))
        #expect(tasks[2].result == "FAILURE")
        #expect(tasks[2].originalResult == "failed")
        #expect(tasks[3].type == "BUILD")
    }

    @Test("a running pipeline's jobs are written, and the pipeline is not finished")
    func pipelineRunning() throws {
        let body = try SourceFixture.load("gitlab/pipeline_hook.json").setting("object_attributes.status", "running")
        let operations = try SourceFixture.writes(try map("Pipeline Hook", body))
        #expect(operations.count == 4)
        #expect(!operations.contains { $0 is PipelineFinish })
    }

    @Test("a connection's environment names decide a job's environment")
    func pipelineEnvironmentOverride() throws {
        let operations = try SourceFixture.writes(
            try map("Pipeline Hook", "pipeline_hook.json", options: SourceOptions(environments: ["production": "TESTING"])))
        #expect((operations.first as? TaskUpsert)?.environment == "TESTING")
    }

    @Test("a job without a name is a 400 naming builds[i].name")
    func pipelineBadJob() throws {
        var body = try SourceFixture.load("gitlab/pipeline_hook.json")
        guard case .array(var builds) = body["builds"], var first = builds[1].objectValue else { Issue.record("builds"); return }
        first = first.setting("name", nil)
        builds[1] = .object(first)
        body = body.setting("builds", .array(builds))
        let error = try #require(throws: WebhookError.self) { try map("Pipeline Hook", body) }
        #expect(error.status == 400)
        #expect(error.causes == ["builds[1].name (name): is required"])
    }

    @Test("a successful deployment is a deployment of commit_url's sha to its environment")
    func deployment() throws {
        let deployment = try SourceFixture.only(try map("Deployment Hook", "deployment_hook.json"), as: DeploymentUpsert.self)
        #expect(deployment.id == "15")
        #expect(deployment.name == "root/test-deployment-webhooks:staging")
        #expect(deployment.displayTitle == "Add new file")
        #expect(deployment.url == "http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796")
        #expect(deployment.result == "SUCCESS")
        #expect(deployment.environment == "STAGING")
        #expect(deployment.originalEnvironment == "staging")
        #expect(deployment.startedDate == .at("2021-04-28T19:50:00Z"))
        #expect(deployment.finishedDate == .at("2021-04-28T19:50:00Z"))
        let commit = try #require(deployment.commits.first)
        #expect(commit.commitSha == "279484c09fbe69ededfced8c1bb6e6d24616b468")
        #expect(commit.repoUrl == "http://10.126.0.2:3000/root/test-deployment-webhooks")
    }

    @Test("failed and canceled deployments are FAILURE and ABORT; unfinished ones are ignored")
    func deploymentStatuses() throws {
        for (status, result) in [("failed", "FAILURE"), ("canceled", "ABORT")] {
            let body = try SourceFixture.load("gitlab/deployment_hook.json").setting("status", .string(status))
            #expect(try SourceFixture.only(try map("Deployment Hook", body), as: DeploymentUpsert.self).result == result)
        }
        for status in ["running", "created", "blocked"] {
            let body = try SourceFixture.load("gitlab/deployment_hook.json").setting("status", .string(status))
            #expect(SourceFixture.ignored(try map("Deployment Hook", body))?.contains(status) == true)
        }
    }

    @Test("an environment the names do not know falls back to its tier, then the connection's names")
    func deploymentEnvironment() throws {
        let review = try SourceFixture.load("gitlab/deployment_hook.json").setting("environment", "review/feature")
        #expect(try SourceFixture.only(try map("Deployment Hook", review), as: DeploymentUpsert.self).environment == "STAGING")
        let options = SourceOptions(environments: ["review/feature": "testing"])
        #expect(try SourceFixture.only(try map("Deployment Hook", review, options: options), as: DeploymentUpsert.self).environment == "TESTING")
    }

    @Test("a deployment without commit_url is a 400 naming it")
    func deploymentWithoutCommit() throws {
        let body = try SourceFixture.load("gitlab/deployment_hook.json").setting("commit_url", nil)
        let error = try #require(throws: WebhookError.self) { try map("Deployment Hook", body) }
        #expect(error.status == 400)
        #expect(error.causes == ["commit_url (deploymentCommits[0].commitSha): is required"])
    }

    @Test("an open merge request is an OPEN pull request with its branches and last commit")
    func mergeRequest() throws {
        let pr = try SourceFixture.only(try map("Merge Request Hook", "merge_request_hook.json"), as: PullRequestUpsert.self)
        #expect(pr.key == 1)
        #expect(pr.title == "MS-Viewport")
        #expect(pr.status == "OPEN")
        #expect(pr.originalStatus == "opened")
        #expect(pr.createdDate == .at("2013-12-03T17:23:34Z"))
        #expect(pr.url == "http://example.com/diaspora/merge_requests/1")
        #expect(pr.authorId == "51")
        #expect(pr.headRef == "ms-viewport")
        #expect(pr.baseRef == "master")
        #expect(pr.headCommitSha == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7")
        #expect(pr.headRepoId == "http://example.com/awesome_space/awesome_project")
        #expect(pr.mergedDate == nil && pr.closedDate == nil)
    }

    @Test("a merged merge request (state merged, action merge) is MERGED at its update, by the user")
    func mergeRequestMerged() throws {
        let body = try SourceFixture.load("gitlab/merge_request_hook.json")
            .setting("object_attributes.state", "merged").setting("object_attributes.action", "merge")
        let pr = try SourceFixture.only(try map("Merge Request Hook", body), as: PullRequestUpsert.self)
        #expect(pr.status == "MERGED")
        #expect(pr.mergedDate == .at("2013-12-03T17:23:34Z"))
        #expect(pr.mergedByName == "root")
    }

    @Test("issues that are not incidents are ignored; incidents are written")
    func incident() throws {
        #expect(SourceFixture.ignored(try map("Issue Hook", "issue_hook.json"))?.contains("issue") == true)
        let body = try SourceFixture.load("gitlab/issue_hook.json").setting("object_attributes.type", "Incident")
        let issue = try SourceFixture.only(try map("Issue Hook", body), as: IssueUpsert.self)
        #expect(issue.isIncident)
        #expect(issue.issueKey == "gitlabhq/gitlab-test#23")
        #expect(issue.title == "New API: create/update/delete file")
        #expect(issue.status == "TODO")
        #expect(issue.originalStatus == "opened")
        #expect(issue.severity == "high")
        #expect(issue.createdDate == .at("2013-12-03T17:15:43Z"))
        #expect(issue.assigneeId == "51")
        #expect(issue.assigneeName == "User1")
        #expect(issue.resolutionDate == nil)
    }

    @Test("a closed incident (state closed, action close) is DONE, resolved at its update")
    func incidentClosed() throws {
        let body = try SourceFixture.load("gitlab/issue_hook.json").setting("object_attributes.issue_type", "incident")
            .setting("object_attributes.type", nil).setting("object_attributes.state", "closed")
            .setting("object_attributes.action", "close")
        let issue = try SourceFixture.only(try map("Issue Hook", body), as: IssueUpsert.self)
        #expect(issue.status == "DONE")
        #expect(issue.resolutionDate == .at("2013-12-03T17:15:43Z"))
    }

    @Test("other hooks are ignored, naming the hook; the body's object_kind stands in for a missing header")
    func others() throws {
        #expect(SourceFixture.ignored(try map("Push Hook", "issue_hook.json")) == "GitLab event Push Hook is not mapped")
        let body = try SourceFixture.load("gitlab/deployment_hook.json")
        let outcome = try GitLabMapping.map(SourceFixture.event(body, []), for: connection, options: SourceOptions())
        #expect(try SourceFixture.only(outcome, as: DeploymentUpsert.self).id == "15")
    }

    @Test("GitLab's older dates are read: UTC suffix and a spaced offset")
    func dates() {
        #expect(GitSource.gitLabDate("2016-08-12 15:23:28 UTC") == "2016-08-12 15:23:28Z")
        #expect(GitSource.gitLabDate("2021-04-28 21:50:00 +0200") == "2021-04-28 21:50:00+0200")
        #expect(GitSource.gitLabDate("2013-12-03T17:23:34Z") == "2013-12-03T17:23:34Z")
    }

    @Test("the operations of GitLab's fixtures write the DevLake rows")
    func writesRows() throws {
        let (connection, _) = try DevLakeConnectionStore(pool: LakehookDatabase.pool).create(name: "gitlab-\(UUID().uuidString.prefix(13))")
        func operations(_ hook: String, _ body: JSONObject) throws -> [any IngestOperation] {
            try SourceFixture.writes(
                try GitLabMapping.map(SourceFixture.event(body, [("X-Gitlab-Event", hook)]), for: connection, options: SourceOptions()))
        }
        let all = try operations("Pipeline Hook", SourceFixture.load("gitlab/pipeline_hook.json"))
            + operations("Deployment Hook", SourceFixture.load("gitlab/deployment_hook.json"))
            + operations("Merge Request Hook", SourceFixture.load("gitlab/merge_request_hook.json"))
            + operations("Issue Hook", SourceFixture.load("gitlab/issue_hook.json").setting("object_attributes.type", "Incident"))
        try LakehookDatabase.pool.transaction { db in
            for operation in all { _ = try operation.write(db, for: connection) }
        }
        let pipeline = try #require(try LakehookDatabase.rows(
            "SELECT result, status FROM cicd_pipelines WHERE id = $1", [connection.rowId("31")]).first)
        #expect(pipeline["result"] == "FAILURE")  // test-build failed
        #expect(pipeline["status"] == "DONE")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_tasks WHERE pipeline_id = $1", [connection.rowId("31")]) == 4)
        let deployment = try #require(try LakehookDatabase.rows(
            "SELECT result, environment FROM cicd_deployments WHERE id = $1", [connection.rowId("15")]).first)
        #expect(deployment["result"] == "SUCCESS")
        #expect(deployment["environment"] == "STAGING")
        #expect(try LakehookDatabase.value(
            "SELECT commit_sha FROM cicd_deployment_commits WHERE cicd_deployment_id = $1", [connection.rowId("15")])
            == "279484c09fbe69ededfced8c1bb6e6d24616b468")
        #expect(try LakehookDatabase.value("SELECT status FROM pull_requests WHERE id = $1", [connection.rowId("1")]) == "OPEN")
        #expect(try LakehookDatabase.value("SELECT severity FROM incidents WHERE id = $1", [connection.rowId("gitlabhq/gitlab-test#23")]) == "high")
    }
}
