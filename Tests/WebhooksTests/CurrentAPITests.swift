import Foundation
import Testing
@testable import Webhooks

/// DevLake v1.0's API (API.md §6, §7, §3 incidents): camelCase bodies through `/api/rest/...`
/// with a Bearer key, as its Config UI shows them.
@Suite("DevLake v1.0 API")
struct CurrentAPITests {
    let server = TestServer.shared

    static func deployment(id: String = "deploy-42", result: String = "SUCCESS", commits: [(repo: String, sha: String, result: String?)]) -> String {
        let list = commits.map { c in
            let result = c.result.map { #","result":"\#($0)""# } ?? ""
            return #"{"repoUrl":"\#(c.repo)","refName":"main","startedDate":"2023-01-01T12:00:00+00:00","finishedDate":"2023-01-01T12:30:00+00:00","commitSha":"\#(c.sha)","commitMsg":"fix: things"\#(result)}"#
        }.joined(separator: ",")
        return #"{"id":"\#(id)","createdDate":"2023-01-01T11:00:00+00:00","startedDate":"2023-01-01T12:00:00+00:00","finishedDate":"2023-01-01T13:00:00+00:00","environment":"PRODUCTION","result":"\#(result)","displayTitle":"release 42","name":"Deploy 42","deploymentCommits":[\#(list)]}"#
    }

    static func md5Prefix(_ text: String) throws -> String {
        try #require(try LakehookDatabase.value("SELECT left(md5($1), 16)", [text]))
    }

    @Test("a deployment of two commits in two repos writes the deployment and both commits with namespaced ids")
    func deploymentWithTwoCommits() throws {
        let (connection, key) = try server.newConnection("deploy")
        let body = Self.deployment(commits: [
            (repo: "https://github.com/acme/api", sha: "015e3d3b480e417aede5a1293bd61de9b0fd051d", result: nil),
            (repo: "https://github.com/acme/web", sha: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", result: nil),
        ])
        let reply = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/deployments", body, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        let deploymentId = "webhook:\(connection.id):deploy-42"
        #expect(reply.data?["id"] == .string(deploymentId))
        let deployment = try #require(try LakehookDatabase.rows("""
            SELECT name, display_title, result, status, environment, cicd_scope_id, duration_sec,
                   started_date = '2023-01-01T12:00:00Z'::timestamptz AS started_ok,
                   created_date = '2023-01-01T11:00:00Z'::timestamptz AS created_ok
            FROM cicd_deployments WHERE id = $1
            """, [deploymentId]).first)
        #expect(deployment["name"] == "Deploy 42" && deployment["display_title"] == "release 42")
        #expect(deployment["result"] == "SUCCESS" && deployment["status"] == "DONE" && deployment["environment"] == "PRODUCTION")
        #expect(deployment["cicd_scope_id"] == connection.scopeId && deployment["duration_sec"] == "3600")
        #expect(deployment["started_ok"] == "t" && deployment["created_ok"] == "t")

        let commits = try LakehookDatabase.rows("""
            SELECT id, commit_sha, cicd_deployment_id, cicd_scope_id, result, environment, original_environment,
                   repo_url, ref_name, commit_msg, duration_sec
            FROM cicd_deployment_commits WHERE cicd_deployment_id = $1 ORDER BY repo_url
            """, [deploymentId])
        #expect(commits.count == 2)
        let apiId = "\(deploymentId):\(try Self.md5Prefix("https://github.com/acme/api")):015e3d3b480e417aede5a1293bd61de9b0fd051d"
        #expect(commits.first?["id"] == apiId)
        for commit in commits {
            #expect(commit["cicd_scope_id"] == connection.scopeId && commit["result"] == "SUCCESS")
            #expect(commit["environment"] == "PRODUCTION" && commit["original_environment"] == "PRODUCTION")
            #expect(commit["ref_name"] == "main" && commit["commit_msg"] == "fix: things" && commit["duration_sec"] == "1800")
        }
        #expect(reply.data?["commitIds"] == .array(commits.compactMap { $0["id"] }.sorted().map(JSONValue.string)))
    }

    @Test("the same deployment id from two connections gives two deployments")
    func namespacedIds() throws {
        let (first, firstKey) = try server.newConnection("ns-a")
        let (second, secondKey) = try server.newConnection("ns-b")
        let body = Self.deployment(id: "shared-id", commits: [(repo: "r", sha: "abc", result: nil)])
        #expect(try server.post("/api/rest/plugins/webhook/connections/\(first.id)/deployments", body, key: firstKey).status == 200)
        #expect(try server.post("/api/rest/plugins/webhook/connections/\(second.id)/deployments", body, key: secondKey).status == 200)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_deployments WHERE id IN ($1, $2)",
            [first.rowId("shared-id"), second.rowId("shared-id")]) == 2)
    }

    @Test("a FAILURE deployment's commits are FAILURE unless they carry their own result")
    func failureInherited() throws {
        let (connection, key) = try server.newConnection("fail")
        let body = Self.deployment(result: "failure", commits: [(repo: "r1", sha: "s1", result: nil), (repo: "r2", sha: "s2", result: "SUCCESS")])
        #expect(try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/deployments", body, key: key).status == 200)
        let results = try LakehookDatabase.rows(
            "SELECT commit_sha, result FROM cicd_deployment_commits WHERE cicd_scope_id = $1 ORDER BY commit_sha", [connection.scopeId])
        #expect(results.map { $0["result"] } == ["FAILURE", "SUCCESS"])
        #expect(try LakehookDatabase.value("SELECT result FROM cicd_deployments WHERE id = $1", [connection.rowId("deploy-42")]) == "FAILURE")
    }

    @Test("re-posting a deployment with one commit fewer leaves exactly the new commit set")
    func repostReplacesCommits() throws {
        let (connection, key) = try server.newConnection("repost")
        let path = "/api/rest/plugins/webhook/connections/\(connection.id)/deployments"
        #expect(try server.post(path, Self.deployment(commits: [(repo: "r", sha: "a", result: nil), (repo: "r", sha: "b", result: nil), (repo: "q", sha: "c", result: nil)]), key: key).status == 200)
        #expect(try server.post(path, Self.deployment(result: "FAILURE", commits: [(repo: "r", sha: "a", result: nil), (repo: "q", sha: "c", result: nil)]), key: key).status == 200)
        let commits = try LakehookDatabase.rows(
            "SELECT commit_sha, result FROM cicd_deployment_commits WHERE cicd_deployment_id = $1 ORDER BY commit_sha",
            [connection.rowId("deploy-42")])
        #expect(commits.map { $0["commit_sha"] } == ["a", "c"])
        #expect(commits.map { $0["result"] } == ["FAILURE", "FAILURE"])
    }

    @Test("the v0.17 single-commit snake_case deployment body works")
    func singleCommitForm() throws {
        let (connection, key) = try server.newConnection("v017")
        let body = #"{"pipeline_id":"pipe-7","repo_url":"https://github.com/apache/incubator-devlake","display_title":"deploy 7","commit_sha":"015e3d3b480e417aede5a1293bd61de9b0fd051d","start_time":"2020-01-01T12:00:00+00:00","end_time":"2020-01-01T12:10:00+00:00","environment":"staging","ref_name":"main"}"#
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/deployments", body, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        let row = try #require(try LakehookDatabase.rows(
            "SELECT environment, result, display_title, duration_sec FROM cicd_deployments WHERE id = $1", [connection.rowId("pipe-7")]).first)
        #expect(row["environment"] == "STAGING" && row["result"] == "SUCCESS" && row["display_title"] == "deploy 7" && row["duration_sec"] == "600")
        #expect(try LakehookDatabase.value(
            "SELECT repo_url || ' ' || ref_name FROM cicd_deployment_commits WHERE cicd_deployment_id = $1",
            [connection.rowId("pipe-7")]) == "https://github.com/apache/incubator-devlake main")
        // Without a pipeline_id, the commit sha is the deployment id.
        let noId = #"{"repo_url":"r","commit_sha":"deadbeef","start_time":"2020-01-01T12:00:00Z","end_time":"2020-01-01T12:10:00Z"}"#
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/deployments", noId, key: key).status == 200)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_deployments WHERE id = $1", [connection.rowId("deadbeef")]) == 1)
    }

    @Test("deployment bodies with problems list them all and write nothing")
    func badDeployment() throws {
        let (connection, key) = try server.newConnection("baddeploy")
        let before = try LakehookDatabase.footprint(of: connection)
        let body = #"{"result":"MAYBE","startedDate":"soon","deploymentCommits":[{"repoUrl":"r"},{"commitSha":"x"}]}"#
        let reply = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/deployments", body, key: key)
        #expect(reply.status == 400)
        #expect(Set(reply.causes) == [
            "id: is required", "result: must be one of SUCCESS, FAILURE, ABORT, or a CI/CD tool's word for one (Jenkins, GitHub Actions,"
                + " GitLab CI, CircleCI, Bitbucket, Azure Pipelines, Argo CD: docs/API-VOCABULARY.md)",
            "startedDate: is not a valid date (expected RFC 3339, e.g. 2020-01-01T12:00:00+00:00)",
            "finishedDate: is required", "deploymentCommits[0].commitSha: is required", "deploymentCommits[1].repoUrl: is required",
        ], "\(reply.causes)")
        let empty = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/deployments",
            #"{"id":"x","startedDate":"2023-01-01","finishedDate":"2023-01-01","deploymentCommits":[]}"#, key: key)
        #expect(empty.status == 400 && empty.causes.first?.hasPrefix("deploymentCommits:") == true)
        #expect(try LakehookDatabase.footprint(of: connection) == before)
    }

    @Test("a pull request in DevLake v1.0.3's fields")
    func pullRequest() throws {
        let (connection, key) = try server.newConnection("pr")
        let body = #"{"pullRequestKey":123,"displayTitle":"Add webhook receiver","createdDate":"2024-05-01T09:00:00Z","status":"MERGED","originalStatus":"merged","description":"adds it","url":"https://git.example.com/acme/api/pull/123","authorName":"ada","authorId":"u-1","mergedByName":"bob","mergedById":"u-2","mergedDate":"2024-05-02T10:00:00Z","type":"feature","component":"api","mergeCommitSha":"015e3d3b480e417aede5a1293bd61de9b0fd051d","headRef":"feature/x","baseRef":"main","baseCommitSha":"1111111111111111111111111111111111111111","headCommitSha":"2222222222222222222222222222222222222222","headRepoId":"acme/api","additions":120,"deletions":"7","isDraft":false}"#
        let reply = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/pull_requests", body, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        let row = try #require(try LakehookDatabase.rows("""
            SELECT base_repo_id, head_repo_id, status, title, pull_request_key, merged_by_name, additions, deletions, is_draft,
                   merged_date = '2024-05-02T10:00:00Z'::timestamptz AS merged_ok, merge_commit_sha
            FROM pull_requests WHERE id = $1
            """, [connection.rowId("123")]).first)
        #expect(row["base_repo_id"] == connection.scopeId && row["head_repo_id"] == "acme/api")
        #expect(row["status"] == "MERGED" && row["title"] == "Add webhook receiver" && row["pull_request_key"] == "123")
        #expect(row["merged_by_name"] == "bob" && row["additions"] == "120" && row["deletions"] == "7" && row["is_draft"] == "f")
        #expect(row["merged_ok"] == "t" && row["merge_commit_sha"] == "015e3d3b480e417aede5a1293bd61de9b0fd051d")
        let bad = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/pull_requests",
            #"{"pullRequestKey":"12a","status":"DRAFT","mergeCommitSha":"\#(String(repeating: "f", count: 41))"}"#, key: key)
        #expect(bad.status == 400 && bad.causes.count == 5, "\(bad.causes)")
    }

    @Test("DevLake v1.0's incident example writes an incident; close resolves it; a type change removes it")
    func incidentExample() throws {
        let (connection, key) = try server.newConnection("inc")
        let base = "/api/rest/plugins/webhook/connections/\(connection.id)"
        let body = #"{"issueKey":"DLK-1234","title":"an incident from DLK","type":"INCIDENT","originalStatus":"TODO","status":"TODO","createdDate":"2020-01-01T12:00:00+00:00","updatedDate":"2020-01-01T12:00:00+00:00"}"#
        #expect(try server.post("\(base)/issues", body, key: key).status == 200)
        let incident = try #require(try LakehookDatabase.rows(
            "SELECT incident_key, title, status, resolution_date FROM incidents WHERE id = $1", [connection.rowId("DLK-1234")]).first)
        #expect(incident["incident_key"] == "DLK-1234" && incident["title"] == "an incident from DLK" && incident["status"] == "TODO")
        #expect(incident["resolution_date"] == nil)
        #expect(try server.post("\(base)/issue/DLK-1234/close", key: key).status == 200)
        #expect(try LakehookDatabase.value(
            "SELECT status || ' ' || (resolution_date IS NOT NULL) || ' ' || (lead_time_minutes > 0) FROM incidents WHERE id = $1",
            [connection.rowId("DLK-1234")]) == "DONE true true")
        let retyped = body.replacingOccurrences(of: "INCIDENT", with: "BUG")
        #expect(try server.post("\(base)/issues", retyped, key: key).status == 200)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM incidents WHERE id = $1", [connection.rowId("DLK-1234")]) == 0)
    }
}
