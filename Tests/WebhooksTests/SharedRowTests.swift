import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// API.md amendments (2026-12-03), issue 15: a column of a row that several requests write is
/// overwritten only by a value the client sent. Broke: a second task of a pipeline and commit
/// without `branch` blanked the `cicd_pipeline_commits.branch` the first had written; a
/// single-commit deployment post deleted the commits posted before under the same `pipeline_id`
/// and blanked the first post's title, ref, repo id, message, result and environment.
@Suite("Shared rows keep what others wrote")
struct SharedRowTests {
    let server = TestServer.shared

    func task(_ connection: DevLakeConnection, _ key: String, name: String, extra: String) throws {
        let body = #"{"pipeline_name":"p","name":"\#(name)","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-01T00:00:00Z","repo_id":"shop","commit_sha":"abc"\#(extra)}"#
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/cicd_tasks", body, key: key)
        #expect(reply.status == 200, "\(reply.text)")
    }

    func branch(_ connection: DevLakeConnection) throws -> String? {
        try LakehookDatabase.value(
            "SELECT branch FROM cicd_pipeline_commits WHERE pipeline_id = $1 AND commit_sha = 'abc'", [connection.rowId("p")])
    }

    @Test("a second task of the same pipeline and commit without a branch keeps the branch the first wrote")
    func pipelineCommitBranch() throws {
        let (connection, key) = try server.newConnection("shared-branch")
        try task(connection, key, name: "build", extra: #","branch":"main""#)
        try task(connection, key, name: "test", extra: "")
        #expect(try branch(connection) == "main")
        try task(connection, key, name: "lint", extra: #","branch":"""#)
        #expect(try branch(connection) == "main")
        // A branch that is sent still wins.
        try task(connection, key, name: "deploy", extra: #","branch":"release""#)
        #expect(try branch(connection) == "release")
    }

    func deploy(_ connection: DevLakeConnection, _ key: String, _ fields: String) throws {
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/deployments", "{\(fields)}", key: key)
        #expect(reply.status == 200, "\(fields): \(reply.text)")
    }

    static let deploymentColumns = "name, display_title, result, original_result, environment, original_environment"
    static let commitColumns = deploymentColumns + ", commit_msg, ref_name, repo_id, repo_url"

    func deployment(_ connection: DevLakeConnection, _ id: String) throws -> [String] {
        let row = try #require(try LakehookDatabase.rows(
            "SELECT \(Self.deploymentColumns) FROM cicd_deployments WHERE id = $1", [connection.rowId(id)]).first)
        return (0..<6).map { row[$0] ?? "NULL" }
    }

    func commits(_ connection: DevLakeConnection, _ id: String) throws -> [String: [String]] {
        var byCommit: [String: [String]] = [:]
        for row in try LakehookDatabase.rows(
            "SELECT commit_sha, \(Self.commitColumns) FROM cicd_deployment_commits WHERE cicd_deployment_id = $1", [connection.rowId(id)]) {
            byCommit[row[0]!] = (1...10).map { row[$0] ?? "NULL" }
        }
        return byCommit
    }

    @Test("single-commit posts under one pipeline_id keep every commit, as DevLake v0.17-v0.20 did")
    func commitsAccumulate() throws {
        let (connection, key) = try server.newConnection("shared-commits")
        try deploy(connection, key, #""pipeline_id":"rel-1","repo_url":"https://git.example.com/api","commit_sha":"a1","start_time":"2024-01-01T10:00:00Z","end_time":"2024-01-01T10:05:00Z""#)
        try deploy(connection, key, #""pipeline_id":"rel-1","repo_url":"https://git.example.com/web","commit_sha":"b2","start_time":"2024-01-01T10:00:00Z","end_time":"2024-01-01T10:06:00Z""#)
        #expect(try commits(connection, "rel-1").keys.sorted() == ["a1", "b2"])
        // The deployment carries the latest post's dates.
        #expect(try LakehookDatabase.value(
            "SELECT finished_date = '2024-01-01T10:06:00Z' AND duration_sec = 360 FROM cicd_deployments WHERE id = $1",
            [connection.rowId("rel-1")]) == "t")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_deployments WHERE cicd_scope_id = $1", [connection.scopeId]) == 1)
    }

    @Test("a later single-commit post that leaves out display_title, ref_name, repo_id, commit_msg, result and environment keeps them")
    func omittedFieldsKept() throws {
        let (connection, key) = try server.newConnection("shared-fields")
        let full = #""pipeline_id":"rel-2","repo_url":"u","commit_sha":"c1","display_title":"Release 2","ref_name":"main","repo_id":"shop","commit_msg":"fix: it","result":"failed","environment":"staging","start_time":"2024-01-01T10:00:00Z","end_time":"2024-01-01T10:05:00Z""#
        try deploy(connection, key, full)
        let first = try deployment(connection, "rel-2")
        #expect(first == ["Release 2", "Release 2", "FAILURE", "failed", "STAGING", "staging"])
        let firstCommit = ["Release 2", "Release 2", "FAILURE", "failed", "STAGING", "staging", "fix: it", "main", "shop", "u"]
        #expect(try commits(connection, "rel-2") == ["c1": firstCommit])

        // The same commit again, with nothing optional (and "" where a template's variable was unset).
        try deploy(connection, key, #""pipeline_id":"rel-2","repo_url":"u","commit_sha":"c1","ref_name":"","repo_id":"","display_title":"""#)
        #expect(try deployment(connection, "rel-2") == first)
        #expect(try commits(connection, "rel-2") == ["c1": firstCommit])

        // Another commit of the deployment takes the deployment's result and environment as they stand.
        try deploy(connection, key, #""pipeline_id":"rel-2","repo_url":"u","commit_sha":"c2""#)
        #expect(try commits(connection, "rel-2")["c2"] == ["", "", "FAILURE", "failed", "STAGING", "staging", "", "", "", "u"])

        // Values that are sent still win, on the deployment and on the commit.
        try deploy(connection, key, #""pipeline_id":"rel-2","repo_url":"u","commit_sha":"c1","display_title":"Release 2.1","ref_name":"hotfix","repo_id":"shop2","commit_msg":"fix: more","result":"SUCCESS","environment":"PRODUCTION""#)
        #expect(try deployment(connection, "rel-2") == ["Release 2.1", "Release 2.1", "SUCCESS", "SUCCESS", "PRODUCTION", "PRODUCTION"])
        #expect(try commits(connection, "rel-2")["c1"]
            == ["Release 2.1", "Release 2.1", "SUCCESS", "SUCCESS", "PRODUCTION", "PRODUCTION", "fix: more", "hotfix", "shop2", "u"])
        #expect(try commits(connection, "rel-2")["c2"]?[2] == "FAILURE")
    }

    @Test("a new single-commit deployment without optional values takes the defaults")
    func defaultsOnInsert() throws {
        let (connection, key) = try server.newConnection("shared-defaults")
        try deploy(connection, key, #""pipeline_id":"rel-3","repo_url":"u","commit_sha":"d1""#)
        #expect(try deployment(connection, "rel-3") == ["rel-3", "", "SUCCESS", "SUCCESS", "PRODUCTION", "PRODUCTION"])
        #expect(try commits(connection, "rel-3") == ["d1": ["", "", "SUCCESS", "SUCCESS", "PRODUCTION", "PRODUCTION", "", "", "", "u"]])
    }

    @Test("the single-commit form binds NULL for what it did not send; the deploymentCommits form replaces the whole deployment")
    func sentValues() throws {
        let connection = DevLakeConnection(id: 1, name: "sent", apiKeyHash: "", apiKeyHint: "")
        func decode(_ json: String) throws -> DeploymentUpsert {
            let body = try #require(try JSONParser.parse(Array(json.utf8)).objectValue)
            return try DeploymentUpsert.decode(body, for: connection).get()
        }
        let single = try decode(#"{"repo_url":"u","commit_sha":"s","ref_name":"","result":"Succeeded"}"#)
        #expect(single.sent == DeploymentUpsert.Sent(result: "SUCCESS", originalResult: "Succeeded"))
        #expect(single.sql == DeploymentUpsert.mergeSQL)
        let binds = single.binds(for: connection)
        #expect(binds.count == 19 && binds[3] == nil && binds[4] == "s" && binds[6] == "SUCCESS" && binds[15] == nil)
        let current = try decode(#"{"id":"d","startedDate":"2024-01-01","finishedDate":"2024-01-01","deploymentCommits":[{"repoUrl":"u","commitSha":"s"}]}"#)
        #expect(current.sent == nil && current.sql == DeploymentUpsert.sql)
    }
}
