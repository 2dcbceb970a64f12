import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// Issue 16 (API.md amendments): a late event never moves data backwards. A post older than the
/// stored row, by the dates it carries, changes nothing, answers 200 with `data.applied = false`
/// and a reason naming both dates (or statuses), and is journaled `stale`; a post that is not
/// older is applied and answered as before. Each rule: new, late, then a later (or undated) post.
@Suite("Late events never move data backwards")
struct LateEventTests {
    let server = TestServer.shared

    /// An answered post and the request id its journal row carries.
    struct Posted {
        var reply: Reply
        var requestId: String

        var applied: JSONValue? { reply.data?["applied"] }
        var reason: String {
            if case .string(let text)? = reply.data?["reason"] { return text }
            return ""
        }
    }

    @discardableResult
    func post(_ connection: DevLakeConnection, _ key: String, _ route: String, _ body: String) throws -> Posted {
        let requestId = "late-\(UUID().uuidString)"
        let reply = try server.request(
            "POST", "/api/plugins/webhook/\(connection.id)/\(route)", body: body, key: key, headers: [("X-Request-ID", requestId)])
        #expect(reply.status == 200, "\(route) \(body): \(reply.text)")
        return Posted(reply: reply, requestId: requestId)
    }

    /// The journal's outcome of a request.
    func outcome(_ posted: Posted) throws -> String? {
        try LakehookDatabase.value("SELECT outcome FROM webhook_events WHERE request_id = $1", [posted.requestId])
    }

    /// Expects a late post's answer and journal row.
    func expectLate(_ posted: Posted, naming dates: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(posted.applied == .bool(false), "\(posted.reply.text)", sourceLocation: sourceLocation)
        #expect(posted.reply.data?["id"] != nil, sourceLocation: sourceLocation)
        for date in dates {
            #expect(posted.reason.contains(date), "the reason \"\(posted.reason)\" names \(date)", sourceLocation: sourceLocation)
        }
        #expect(try outcome(posted) == "stale", sourceLocation: sourceLocation)
    }

    /// Expects an applied post's answer (as before issue 16: no `applied`, no `reason`) and journal row.
    func expectApplied(_ posted: Posted, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(posted.applied == nil && posted.reply.data?["reason"] == nil, "\(posted.reply.text)", sourceLocation: sourceLocation)
        #expect(try outcome(posted) == "applied", sourceLocation: sourceLocation)
    }

    /// The rows `condition` selects in `table`, whole, as JSON text in a stable order.
    static func rows(_ table: String, where condition: String, _ binds: [String?]) throws -> [String] {
        try LakehookDatabase.rows("SELECT row_to_json(t)::text FROM \(table) t WHERE \(condition) ORDER BY 1", binds).compactMap { $0[0] }
    }

    // MARK: - Issues and incidents

    static func issue(_ fields: String) -> String {
        #"{"issue_key":"L-1","original_status":"open","created_date":"2024-01-01T08:00:00Z",\#(fields)}"#
    }

    func issueRows(_ connection: DevLakeConnection) throws -> [String] {
        let id = connection.rowId("L-1")
        return try Self.rows("issues", where: "id = $1", [id]) + Self.rows("incidents", where: "id = $1", [id])
            + Self.rows("incident_assignees", where: "incident_id = $1", [id]) + Self.rows("board_issues", where: "issue_id = $1", [id])
            + Self.rows("boards", where: "_raw_data_params = $1", [connection.rawDataParams])
    }

    @Test("an incident updated later than the post keeps its issue, incident, assignee and links; a post as late or later is applied")
    func issueUpdatedLater() throws {
        let (connection, key) = try server.newConnection("late-issue")
        try expectApplied(post(connection, key, "issues", Self.issue(
            #""title":"current","status":"IN_PROGRESS","type":"INCIDENT","assignee_id":"u1","board_key":"b1","updated_date":"2024-01-01T10:00:00Z""#)))
        let stored = try issueRows(connection)
        let footprint = try LakehookDatabase.footprint(of: connection)

        let late = try post(connection, key, "issues", Self.issue(
            #""title":"old","status":"TODO","type":"BUG","assignee_id":"u2","board_key":"b-late","updated_date":"2024-01-01T09:00:00Z""#))
        try expectLate(late, naming: ["2024-01-01T10:00:00Z", "2024-01-01T09:00:00Z"])
        #expect(try issueRows(connection) == stored)
        #expect(try LakehookDatabase.footprint(of: connection) == footprint)

        // The same updated_date is not earlier: applied.
        try expectApplied(post(connection, key, "issues", Self.issue(
            #""title":"same","status":"IN_PROGRESS","type":"INCIDENT","assignee_id":"u1","board_key":"b1","updated_date":"2024-01-01T10:00:00Z""#)))
        #expect(try LakehookDatabase.value("SELECT title FROM incidents WHERE id = $1", [connection.rowId("L-1")]) == "same")
        // Without an updated_date, the last write wins, and then a dated post finds nothing to compare.
        try expectApplied(post(connection, key, "issues", Self.issue(#""title":"undated","status":"DONE""#)))
        try expectApplied(post(connection, key, "issues", Self.issue(#""title":"dated","status":"TODO","updated_date":"2023-01-01T00:00:00Z""#)))
        #expect(try LakehookDatabase.value("SELECT title || ' ' || status FROM issues WHERE id = $1", [connection.rowId("L-1")]) == "dated TODO")
    }

    // MARK: - Tasks

    static func task(_ status: String, started: String, pipeline: String = "p", name: String = "build", extra: String = "") -> String {
        #"{"pipeline_name":"\#(pipeline)","name":"\#(name)","result":"\#(status == "DONE" ? "SUCCESS" : "IN_PROGRESS")","status":"\#(status)","type":"BUILD","environment":"PRODUCTION","started_date":"\#(started)","repo_id":"shop"\#(extra)}"#
    }

    func pipelineRows(_ connection: DevLakeConnection, _ pipeline: String = "p") throws -> [String] {
        let id = connection.rowId(pipeline)
        return try Self.rows("cicd_pipelines", where: "id = $1", [id]) + Self.rows("cicd_tasks", where: "pipeline_id = $1", [id])
            + Self.rows("cicd_pipeline_commits", where: "pipeline_id = $1", [id])
    }

    @Test("a DONE task does not go back to IN_PROGRESS from a post that started as early or earlier; a re-run, started later, is applied")
    func taskDone() throws {
        let (connection, key) = try server.newConnection("late-task")
        let extra = #","commit_sha":"c1","branch":"main""#
        try expectApplied(post(connection, key, "cicd_tasks", Self.task("IN_PROGRESS", started: "2024-01-01T10:00:00Z", extra: extra)))
        try expectApplied(post(connection, key, "cicd_tasks", Self.task(
            "DONE", started: "2024-01-01T10:00:00Z", extra: extra + #","finished_date":"2024-01-01T10:05:00Z""#)))
        let stored = try pipelineRows(connection)

        // The IN_PROGRESS post arriving after the DONE one, with a commit of its own: nothing of it is written.
        let late = try post(connection, key, "cicd_tasks", Self.task(
            "IN_PROGRESS", started: "2024-01-01T10:00:00Z", extra: #","commit_sha":"c2","branch":"late""#))
        try expectLate(late, naming: ["2024-01-01T10:00:00Z", "DONE"])
        #expect(late.reply.data?["pipelineId"] == .string(connection.rowId("p")))
        let earlier = try post(connection, key, "cicd_tasks", Self.task("IN_PROGRESS", started: "2024-01-01T09:59:59Z"))
        try expectLate(earlier, naming: ["2024-01-01T10:00:00Z", "2024-01-01T09:59:59Z"])
        #expect(try pipelineRows(connection) == stored)

        // A re-run starts later.
        try expectApplied(post(connection, key, "cicd_tasks", Self.task("IN_PROGRESS", started: "2024-01-01T11:00:00Z", extra: extra)))
        #expect(try LakehookDatabase.value(
            "SELECT status || ' ' || (finished_date IS NULL) FROM cicd_tasks WHERE pipeline_id = $1", [connection.rowId("p")]) == "IN_PROGRESS true")
        // A DONE post is never late by this rule.
        try expectApplied(post(connection, key, "cicd_tasks", Self.task("DONE", started: "2024-01-01T10:30:00Z")))
    }

    @Test("a task whose id needs the collision check is late by the same rule; a finished pipeline's late task is still 403")
    func taskCheckedAndFinished() throws {
        let (connection, key) = try server.newConnection("late-task-colon")
        try expectApplied(post(connection, key, "cicd_tasks", Self.task("DONE", started: "2024-01-01T10:00:00Z", pipeline: "a:b", name: "c")))
        let stored = try pipelineRows(connection, "a:b")
        try expectLate(post(connection, key, "cicd_tasks", Self.task("IN_PROGRESS", started: "2024-01-01T10:00:00Z", pipeline: "a:b", name: "c")),
                       naming: ["2024-01-01T10:00:00Z"])
        #expect(try pipelineRows(connection, "a:b") == stored)
        try expectApplied(post(connection, key, "cicd_tasks", Self.task("IN_PROGRESS", started: "2024-01-01T10:00:01Z", pipeline: "a:b", name: "c")))

        try expectApplied(post(connection, key, "cicd_tasks", Self.task("DONE", started: "2024-01-01T10:00:00Z", pipeline: "q")))
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/cicd_pipeline/q/finish", key: key).status == 200)
        let refused = try server.post(
            "/api/plugins/webhook/\(connection.id)/cicd_tasks", Self.task("IN_PROGRESS", started: "2024-01-01T10:00:00Z", pipeline: "q"), key: key)
        #expect(refused.status == 403, "\(refused.text)")
    }

    // MARK: - Deployments

    static func deployment(finished: String, commits: [String]) -> String {
        let listed = commits.map { #"{"repoUrl":"https://git.example.com/shop","commitSha":"\#($0)"}"# }.joined(separator: ",")
        return #"{"id":"D-1","displayTitle":"\#(commits.joined())","result":"SUCCESS","startedDate":"2024-01-01T10:00:00Z","finishedDate":"\#(finished)","deploymentCommits":[\#(listed)]}"#
    }

    func deploymentRows(_ connection: DevLakeConnection, _ id: String = "D-1") throws -> [String] {
        let rowId = connection.rowId(id)
        return try Self.rows("cicd_deployments", where: "id = $1", [rowId])
            + Self.rows("cicd_deployment_commits", where: "cicd_deployment_id = $1", [rowId])
    }

    func shas(_ connection: DevLakeConnection, _ id: String = "D-1") throws -> [String] {
        try LakehookDatabase.rows(
            "SELECT commit_sha FROM cicd_deployment_commits WHERE cicd_deployment_id = $1 ORDER BY 1", [connection.rowId(id)]
        ).compactMap { $0[0] }
    }

    @Test("a deployment that finished later than the post keeps its row and its whole commit set; as late or later is applied")
    func deploymentFinishedLater() throws {
        let (connection, key) = try server.newConnection("late-deploy")
        try expectApplied(post(connection, key, "deployments", Self.deployment(finished: "2024-01-01T10:10:00Z", commits: ["a", "b"])))
        let stored = try deploymentRows(connection)

        let late = try post(connection, key, "deployments", Self.deployment(finished: "2024-01-01T10:05:00Z", commits: ["c"]))
        try expectLate(late, naming: ["2024-01-01T10:10:00Z", "2024-01-01T10:05:00Z"])
        #expect(late.reply.data?["commitIds"] == .array([]))
        #expect(try deploymentRows(connection) == stored)
        #expect(try shas(connection) == ["a", "b"])

        try expectApplied(post(connection, key, "deployments", Self.deployment(finished: "2024-01-01T10:10:00Z", commits: ["c"])))
        #expect(try shas(connection) == ["c"])
        try expectApplied(post(connection, key, "deployments", Self.deployment(finished: "2024-01-01T10:20:00Z", commits: ["d"])))
        #expect(try shas(connection) == ["d"])
    }

    static func singleCommit(_ sha: String, end: String, extra: String = "") -> String {
        #"{"pipeline_id":"rel-1","repo_url":"https://git.example.com/shop","commit_sha":"\#(sha)","start_time":"2024-01-01T10:00:00Z","end_time":"\#(end)"\#(extra)}"#
    }

    @Test("single-commit posts: a re-delivered older post of a commit is late; a new commit that finished earlier is added, the deployment kept")
    func singleCommitFinishedLater() throws {
        let (connection, key) = try server.newConnection("late-single")
        try expectApplied(post(connection, key, "deployments", Self.singleCommit("a1", end: "2024-01-01T10:05:00Z")))
        try expectApplied(post(connection, key, "deployments", Self.singleCommit("b2", end: "2024-01-01T10:06:00Z", extra: #","result":"FAILURE""#)))
        let stored = try deploymentRows(connection, "rel-1")

        let late = try post(connection, key, "deployments", Self.singleCommit("b2", end: "2024-01-01T10:04:00Z", extra: #","result":"SUCCESS""#))
        try expectLate(late, naming: ["2024-01-01T10:06:00Z", "2024-01-01T10:04:00Z"])
        #expect(try deploymentRows(connection, "rel-1") == stored)

        // Another commit of the deployment, finished earlier than the deployment's last post: added,
        // with the deployment's result as it stands; the deployment's row stays as it was.
        let deploymentRow = try Self.rows("cicd_deployments", where: "id = $1", [connection.rowId("rel-1")])
        try expectApplied(post(connection, key, "deployments", Self.singleCommit("c3", end: "2024-01-01T10:04:00Z")))
        #expect(try shas(connection, "rel-1") == ["a1", "b2", "c3"])
        #expect(try Self.rows("cicd_deployments", where: "id = $1", [connection.rowId("rel-1")]) == deploymentRow)
        #expect(try LakehookDatabase.value(
            "SELECT result FROM cicd_deployment_commits WHERE cicd_deployment_id = $1 AND commit_sha = 'c3'", [connection.rowId("rel-1")]) == "FAILURE")
    }

    // MARK: - Pull requests

    static func pullRequest(_ key: Int, _ fields: String) -> String {
        #"{"pullRequestKey":\#(key),"displayTitle":"t","createdDate":"2024-01-01T10:00:00Z",\#(fields)}"#
    }

    @Test("a MERGED or CLOSED pull request does not go back to OPEN from a post with its createdDate and no later date")
    func pullRequestReopened() throws {
        let (connection, key) = try server.newConnection("late-pr")
        let id = connection.rowId("1")
        try expectApplied(post(connection, key, "pull_requests", Self.pullRequest(1, #""status":"OPEN""#)))
        try expectApplied(post(connection, key, "pull_requests", Self.pullRequest(1, #""status":"MERGED","mergedDate":"2024-01-02T10:00:00Z""#)))
        let stored = try Self.rows("pull_requests", where: "id = $1", [id])

        let late = try post(connection, key, "pull_requests", Self.pullRequest(1, #""status":"OPEN","displayTitle":"old""#))
        try expectLate(late, naming: ["MERGED", "2024-01-02T10:00:00Z", "2024-01-01T10:00:00Z"])
        // Without a status an OPEN is derived; a merge date not later than the stored one is no news either.
        try expectLate(post(connection, key, "pull_requests", Self.pullRequest(1, #""originalStatus":"opened""#)), naming: ["MERGED"])
        try expectLate(post(connection, key, "pull_requests", Self.pullRequest(1, #""status":"OPEN","mergedDate":"2024-01-02T10:00:00Z""#)),
                       naming: ["MERGED"])
        #expect(try Self.rows("pull_requests", where: "id = $1", [id]) == stored)

        // A later date is news: applied (a pull request reopened after a later close).
        try expectApplied(post(connection, key, "pull_requests", Self.pullRequest(1, #""status":"OPEN","closedDate":"2024-01-03T10:00:00Z""#)))
        #expect(try LakehookDatabase.value("SELECT status FROM pull_requests WHERE id = $1", [id]) == "OPEN")

        // CLOSED too; another createdDate is another story (the last write wins).
        try expectApplied(post(connection, key, "pull_requests", Self.pullRequest(2, #""status":"CLOSED","closedDate":"2024-01-02T10:00:00Z""#)))
        try expectLate(post(connection, key, "pull_requests", Self.pullRequest(2, #""status":"OPEN""#)), naming: ["CLOSED"])
        try expectApplied(post(connection, key, "pull_requests", #"{"pullRequestKey":2,"displayTitle":"t","createdDate":"2024-02-01T00:00:00Z","status":"OPEN"}"#))
        #expect(try LakehookDatabase.value("SELECT status FROM pull_requests WHERE id = $1", [connection.rowId("2")]) == "OPEN")
    }

    // MARK: - The answer in the OpenAPI document

    @Test("a late answer of every route is valid against the route's 200 answer in the OpenAPI document, and an applied one still is")
    func answersMatchTheDocument() throws {
        let (connection, key) = try server.newConnection("late-openapi")
        var answers: [(response: String, body: String)] = []
        func pair(_ response: String, _ route: String, newer: String, late: String) throws {
            let applied = try post(connection, key, route, newer)
            let stale = try post(connection, key, route, late)
            #expect(stale.applied == .bool(false), "\(stale.reply.text)")
            answers += [(response, applied.reply.text), (response, stale.reply.text)]
        }
        try pair("UpsertIssueDone", "issues", newer: Self.issue(#""title":"t","status":"TODO","updated_date":"2024-01-02""#),
                 late: Self.issue(#""title":"t","status":"TODO","updated_date":"2024-01-01""#))
        try pair("UpsertTaskDone", "cicd_tasks", newer: Self.task("DONE", started: "2024-01-01T10:00:00Z"),
                 late: Self.task("IN_PROGRESS", started: "2024-01-01T10:00:00Z"))
        try pair("UpsertDeploymentDone", "deployments", newer: Self.deployment(finished: "2024-01-01T10:10:00Z", commits: ["a"]),
                 late: Self.deployment(finished: "2024-01-01T10:05:00Z", commits: ["a"]))
        try pair("UpsertPullRequestDone", "pull_requests", newer: Self.pullRequest(1, #""status":"CLOSED""#),
                 late: Self.pullRequest(1, #""status":"OPEN""#))
        let script = """
            import json, sys
            from jsonschema import Draft202012Validator
            document = json.load(open(sys.argv[1]))
            problems = []
            for response, body in json.load(sys.stdin):
                pointer = "#/components/responses/" + response + "/content/application~1json/schema"
                validator = Draft202012Validator({**document, "$ref": pointer})
                problems += [response + ": " + error.message for error in validator.iter_errors(json.loads(body))]
                described = document["components"]["responses"][response]["content"]["application/json"]["schema"]
                written = described["properties"]["data"]["anyOf"][0]  # the other: a dry run's answer
                problems += [response + ": data has no " + name for name in ["applied", "reason"]
                             if name not in written["properties"]]
            print(json.dumps(problems))
            """
        let input = String(decoding: try JSONSerialization.data(withJSONObject: answers.map { [$0.response, $0.body] }), as: UTF8.self)
        let run = try PythonTools.run(PythonTools.tool("python"), ["-c", script, PythonTools.document.path], input: input, timeout: 60)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.split(separator: "\n").last.map(String.init) == "[]", "\(run.output)")
    }
}
