import Foundation
import Testing
@testable import Webhooks

/// The product brief's four sample calls, bodies verbatim, through curl and the running server.
@Suite("The brief's sample calls")
struct BriefSampleCallsTests {
    static let issueBody = #"{"board_key":"DLK","url":"","issue_key":"DLK-1234","title":"a feature from DLK","description":"","epic_key":"","type":"BUG","status":"TODO","original_status":"created","story_point":0,"resolution_date":null,"created_date":"2020-01-01T12:00:00+00:00","updated_date":null,"lead_time_minutes":0,"parent_issue_key":"DLK-1200","priority":"","original_estimate_minutes":0,"time_spent_minutes":0,"time_remaining_minutes":0,"creator_id":"user1131","creator_name":"Nick name 1","assignee_id":"user1132","assignee_name":"Nick name 2","severity":"","component":""}"#
    static let taskBody = #"{"pipeline_name":"A123","name":"unit-test","result":"IN_PROGRESS","status":"IN_PROGRESS","type":"TEST","environment":"PRODUCTION","created_date":"2020-01-01T12:00:00+00:00","finished_date":"2020-01-01T12:59:59+00:00","repo_id":"devlake","branch":"main","commit_sha":"015e3d3b480e417aede5a1293bd61de9b0fd051d"}"#

    @Test("create an issue, close it, post a task and finish its pipeline, leaving the expected rows")
    func sampleCalls() throws {
        let server = TestServer.shared
        let (connection, key) = try server.newConnection("brief")
        let base = "http://127.0.0.1:\(server.port)/api/plugins/webhook/\(connection.id)"
        let auth = ["-H", "Authorization: Bearer \(key)"]

        // 1. Issue creating.
        let created = try curl(["\(base)/issues", "-X", "POST"] + auth + ["-d", Self.issueBody])
        #expect(created.status == 200, "\(created.body)")
        #expect(created.body.contains(#""success":true"#))
        let issueId = "webhook:\(connection.id):DLK-1234"
        let issue = try #require(try LakehookDatabase.rows("""
            SELECT issue_key, title, description, type, status, original_status, story_point, url, epic_key,
                   created_date = '2020-01-01T12:00:00Z'::timestamptz AS created_ok, resolution_date, updated_date,
                   lead_time_minutes, parent_issue_id, creator_id, creator_name, assignee_id, assignee_name,
                   priority, severity, component, original_estimate_minutes, time_spent_minutes, time_remaining_minutes,
                   _raw_data_table, _raw_data_params
            FROM issues WHERE id = $1
            """, [issueId]).first)
        #expect(issue["issue_key"] == "DLK-1234")
        #expect(issue["title"] == "a feature from DLK")
        #expect(issue["type"] == "BUG")
        #expect(issue["status"] == "TODO")
        #expect(issue["original_status"] == "created")
        #expect(issue["story_point"] == "0")
        #expect(issue["created_ok"] == "t")
        #expect(issue["resolution_date"] == nil)
        #expect(issue["updated_date"] == nil)
        #expect(issue["lead_time_minutes"] == "0")
        #expect(issue["parent_issue_id"] == "webhook:\(connection.id):DLK-1200")
        #expect(issue["creator_id"] == "webhook:\(connection.id):user1131")
        #expect(issue["creator_name"] == "Nick name 1")
        #expect(issue["assignee_id"] == "webhook:\(connection.id):user1132")
        #expect(issue["assignee_name"] == "Nick name 2")
        #expect(issue["description"] == "" && issue["url"] == "" && issue["epic_key"] == "")
        #expect(issue["priority"] == "" && issue["severity"] == "" && issue["component"] == "")
        #expect(issue["original_estimate_minutes"] == "0" && issue["time_spent_minutes"] == "0")
        #expect(issue["time_remaining_minutes"] == "0")
        #expect(issue["_raw_data_table"] == "webhook" && issue["_raw_data_params"] == String(connection.id))
        let boards = try LakehookDatabase.rows("SELECT id, name FROM boards WHERE id LIKE $1 ORDER BY id", ["webhook:\(connection.id)%"])
        #expect(boards.map { $0["id"] } == ["webhook:\(connection.id)", "webhook:\(connection.id):DLK"])
        #expect(boards.map { $0["name"] } == [connection.name, "DLK"])
        let links = try LakehookDatabase.rows("SELECT board_id FROM board_issues WHERE issue_id = $1 ORDER BY board_id", [issueId])
        #expect(links.map { $0["board_id"] } == ["webhook:\(connection.id)", "webhook:\(connection.id):DLK"])

        // 2. Issue closing (classic form with the board key).
        let closed = try curl(["\(base)/issue/DLK/DLK-1234/close", "-X", "POST"] + auth)
        #expect(closed.status == 200, "\(closed.body)")
        let afterClose = try #require(try LakehookDatabase.rows(
            "SELECT status, resolution_date IS NOT NULL AS resolved, lead_time_minutes > 0 AS lead FROM issues WHERE id = $1",
            [issueId]).first)
        #expect(afterClose["status"] == "DONE")
        #expect(afterClose["resolved"] == "t")
        #expect(afterClose["lead"] == "t")

        // 3. A task starting in a pipeline.
        let task = try curl(["\(base)/cicd_tasks", "-X", "POST"] + auth + ["-d", Self.taskBody])
        #expect(task.status == 200, "\(task.body)")
        let pipelineId = "webhook:\(connection.id):A123"
        let taskRow = try #require(try LakehookDatabase.rows("""
            SELECT name, pipeline_id, result, status, type, environment, duration_sec, cicd_scope_id,
                   started_date = '2020-01-01T12:00:00Z'::timestamptz AS started_ok,
                   finished_date = '2020-01-01T12:59:59Z'::timestamptz AS finished_ok
            FROM cicd_tasks WHERE id = $1
            """, ["\(pipelineId):unit-test"]).first)
        #expect(taskRow["pipeline_id"] == pipelineId)
        #expect(taskRow["result"] == "IN_PROGRESS" && taskRow["status"] == "IN_PROGRESS")
        #expect(taskRow["type"] == "TEST" && taskRow["environment"] == "PRODUCTION")
        #expect(taskRow["duration_sec"] == "3599")
        #expect(taskRow["started_ok"] == "t" && taskRow["finished_ok"] == "t")
        #expect(taskRow["cicd_scope_id"] == "webhook:\(connection.id)")
        let pipeline = try #require(try LakehookDatabase.rows(
            "SELECT status, result, cicd_scope_id, created_date = '2020-01-01T12:00:00Z'::timestamptz AS created_ok FROM cicd_pipelines WHERE id = $1",
            [pipelineId]).first)
        #expect(pipeline["status"] == "IN_PROGRESS" && pipeline["result"] == "")
        #expect(pipeline["created_ok"] == "t")
        let commit = try LakehookDatabase.rows(
            "SELECT branch, repo_id FROM cicd_pipeline_commits WHERE pipeline_id = $1 AND commit_sha = '015e3d3b480e417aede5a1293bd61de9b0fd051d'",
            [pipelineId])
        #expect(commit.first?["branch"] == "main" && commit.first?["repo_id"] == "devlake")

        // 4. Pipeline completed: the IN_PROGRESS task is aborted, and so is the pipeline.
        let finished = try curl(["\(base)/cicd_pipeline/A123/finish", "-X", "POST"] + auth + ["-d", ""])
        #expect(finished.status == 200, "\(finished.body)")
        let done = try #require(try LakehookDatabase.rows("""
            SELECT status, result, type, environment, duration_sec,
                   started_date = '2020-01-01T12:00:00Z'::timestamptz AS started_ok,
                   finished_date = '2020-01-01T12:59:59Z'::timestamptz AS finished_ok
            FROM cicd_pipelines WHERE id = $1
            """, [pipelineId]).first)
        #expect(done["status"] == "DONE")
        #expect(done["result"] == "ABORT")
        #expect(done["type"] == "TEST" && done["environment"] == "PRODUCTION")
        #expect(done["started_ok"] == "t" && done["finished_ok"] == "t")
        #expect(done["duration_sec"] == "3599")
        #expect(try LakehookDatabase.value("SELECT result || '/' || status FROM cicd_tasks WHERE pipeline_id = $1", [pipelineId]) == "ABORT/DONE")
    }

    @Test("the classic URL with curl's form content type and the CircleCI date format is accepted")
    func circleCIStyleTask() throws {
        let server = TestServer.shared
        let (connection, key) = try server.newConnection("circleci")
        let body = #"{"pipeline_name":"2020-01-01abc","name":"job-1","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","created_date":"2020-01-01T12:00:00+0000","finished_date":"2020-01-01T12:10:00+0000","repo_id":"https://github.com/x/y","branch":"main","commit_sha":"abc"}"#
        let reply = try curl([
            "http://127.0.0.1:\(server.port)/api/plugins/webhook/\(connection.id)/cicd_tasks", "-X", "POST",
            "-H", "Authorization: Bearer \(key)", "-d", body,
        ])
        #expect(reply.status == 200, "\(reply.body)")
        #expect(try LakehookDatabase.value(
            "SELECT duration_sec FROM cicd_tasks WHERE id = $1", ["webhook:\(connection.id):2020-01-01abc:job-1"]) == "600")
    }
}
