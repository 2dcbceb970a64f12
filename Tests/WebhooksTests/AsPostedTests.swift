import Foundation
import Testing
@testable import Webhooks

/// API.md §4: a task's `original_result` / `original_status` are stored as posted, while
/// `result` / `status` hold the upper-cased enumeration. Both were upper-cased (`"success"` →
/// `original_result = 'SUCCESS'`). The other routes' `original_*` columns follow the same rule:
/// the client's spelling when it sent the value, the default otherwise.
@Suite("original_* columns keep the client's spelling")
struct AsPostedTests {
    let server = TestServer.shared

    @Test("a task's original_result and original_status are the posted text; a finish leaves them so")
    func task() throws {
        let (connection, key) = try server.newConnection("posted-task")
        let base = "/api/plugins/webhook/\(connection.id)"
        let body = #"{"pipeline_name":"p","name":"t","result":"success","status":"Done","type":"build","environment":"production","started_date":"2024-01-01T00:00:00Z","repo_id":"r"}"#
        let reply = try server.post("\(base)/cicd_tasks", body, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        let columns = "SELECT result || ' ' || original_result || ' ' || status || ' ' || original_status FROM cicd_tasks WHERE id = $1"
        #expect(try LakehookDatabase.value(columns, [connection.rowId("p:t")]) == "SUCCESS success DONE Done")
        let running = body.replacingOccurrences(of: #""name":"t","result":"success","status":"Done""#,
                                                with: #""name":"u","result":"In_Progress","status":"in_progress""#)
        #expect(try server.post("\(base)/cicd_tasks", running, key: key).status == 200)
        #expect(try server.post("\(base)/cicd_pipeline/p/finish", key: key).status == 200)
        // The finish derives result and status; what the client posted stays what it posted.
        #expect(try LakehookDatabase.value(columns, [connection.rowId("p:u")]) == "ABORT In_Progress DONE in_progress")
    }

    @Test("a deployment's and its commits' original_result, original_status and original_environment are the posted text")
    func deployment() throws {
        let (connection, key) = try server.newConnection("posted-deploy")
        let body = #"{"id":"d","result":"failure","environment":"staging","startedDate":"2024-01-01T00:00:00Z","finishedDate":"2024-01-01T00:10:00Z","deploymentCommits":[{"repoUrl":"u","commitSha":"a"},{"repoUrl":"u","commitSha":"b","result":"Success","status":"in_progress"}]}"#
        let reply = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/deployments", body, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try LakehookDatabase.value("""
            SELECT result || ' ' || original_result || ' ' || environment || ' ' || original_environment
            FROM cicd_deployments WHERE id = $1
            """, [connection.rowId("d")]) == "FAILURE failure STAGING staging")
        let commits = try LakehookDatabase.rows("""
            SELECT result || ' ' || original_result || ' ' || status || ' ' || original_status || ' ' || original_environment
            FROM cicd_deployment_commits WHERE cicd_deployment_id = $1 ORDER BY commit_sha
            """, [connection.rowId("d")]).map { $0[0] }
        #expect(commits == ["FAILURE failure DONE DONE staging", "SUCCESS Success IN_PROGRESS in_progress staging"])

        // Nothing posted: the defaults, upper-case.
        let defaults = #"{"repo_url":"u","commit_sha":"c","start_time":"2024-01-01T00:00:00Z","end_time":"2024-01-01T00:10:00Z","result":"abort"}"#
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/deployments", defaults, key: key).status == 200)
        #expect(try LakehookDatabase.value("""
            SELECT original_result || ' ' || original_environment FROM cicd_deployments WHERE id = $1
            """, [connection.rowId("c")]) == "abort PRODUCTION")
    }

    @Test("a pull request without originalStatus keeps its posted status as original_status")
    func pullRequest() throws {
        let (connection, key) = try server.newConnection("posted-pr")
        let path = "/api/rest/plugins/webhook/connections/\(connection.id)/pull_requests"
        let posted = #"{"pullRequestKey":1,"displayTitle":"t","createdDate":"2024-01-01T00:00:00Z","status":"merged"}"#
        let own = #"{"pullRequestKey":2,"displayTitle":"t","createdDate":"2024-01-01T00:00:00Z","status":"merged","originalStatus":"accepted"}"#
        let derived = #"{"pullRequestKey":3,"displayTitle":"t","createdDate":"2024-01-01T00:00:00Z","closedDate":"2024-01-02T00:00:00Z"}"#
        for body in [posted, own, derived] { #expect(try server.post(path, body, key: key).status == 200) }
        let rows = try LakehookDatabase.rows(
            "SELECT status || ' ' || original_status FROM pull_requests WHERE base_repo_id = $1 ORDER BY pull_request_key",
            [connection.scopeId]).map { $0[0] }
        #expect(rows == ["MERGED merged", "MERGED accepted", "CLOSED CLOSED"])
    }

    @Test("an issue's original_status and original_type are the posted text")
    func issue() throws {
        let (connection, key) = try server.newConnection("posted-issue")
        let body = #"{"issue_key":"K","title":"t","status":"in_progress","original_status":"Doing","type":"Incident","created_date":"2024-01-01"}"#
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/issues", body, key: key).status == 200)
        #expect(try LakehookDatabase.value(
            "SELECT status || ' ' || original_status || ' ' || type || ' ' || original_type FROM issues WHERE id = $1",
            [connection.rowId("K")]) == "IN_PROGRESS Doing INCIDENT Incident")
    }
}
