import Foundation
import Testing
@testable import Webhooks

/// API.md §6, issue 15: the single-commit deployment form's dates are optional, as in DevLake
/// v0.16–v0.20 — a missing `end_time` is the request's arrival, a missing `start_time` the end
/// time. Broke: both were required, so a published CircleCI orb that sends no `end_time` got 400.
@Suite("Single-commit deployments without dates")
struct SingleCommitDatesTests {
    let server = TestServer.shared
    let connection = DevLakeConnection(id: 1, name: "dates", apiKeyHash: "", apiKeyHint: "")

    func object(_ json: String) throws -> JSONObject {
        try #require(try JSONParser.parse(Array(json.utf8)).objectValue)
    }

    static func now() -> Timestamp {
        Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000_000))
    }

    /// The deployment's dates as epoch microseconds, and its commit's.
    func dates(_ connection: DevLakeConnection, _ id: String) throws -> (started: Int64, finished: Int64, commitStarted: Int64, commitFinished: Int64, duration: Double) {
        let row = try #require(try LakehookDatabase.rows("""
            SELECT (extract(epoch FROM d.started_date) * 1000000)::bigint AS s, (extract(epoch FROM d.finished_date) * 1000000)::bigint AS f,
                (extract(epoch FROM c.started_date) * 1000000)::bigint AS cs, (extract(epoch FROM c.finished_date) * 1000000)::bigint AS cf,
                d.duration_sec
            FROM cicd_deployments d JOIN cicd_deployment_commits c ON c.cicd_deployment_id = d.id WHERE d.id = $1
            """, [connection.rowId(id)]).first)
        return (Int64(row["s"]!)!, Int64(row["f"]!)!, Int64(row["cs"]!)!, Int64(row["cf"]!)!, Double(row["duration_sec"]!)!)
    }

    @Test("a body without end_time finishes when the request arrives, and is accepted")
    func withoutEndTime() throws {
        let (connection, key) = try server.newConnection("no-end")
        let before = Self.now()
        let body = #"{"repo_url":"https://github.com/acme/api","commit_sha":"abc123","start_time":"2020-01-01T12:00:00+0000","pipeline_id":"orb-1","environment":"PRODUCTION"}"#
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/deployments", body, key: key)
        let after = Self.now()
        #expect(reply.status == 200, "\(reply.text)")
        let d = try dates(connection, "orb-1")
        #expect(d.started == TimestampParser.parse("2020-01-01T12:00:00Z")!.microsecondsSinceEpoch)
        #expect(d.finished >= before.microsecondsSinceEpoch && d.finished <= after.microsecondsSinceEpoch)
        #expect(d.commitStarted == d.started && d.commitFinished == d.finished)
        #expect(d.duration > 0)
    }

    @Test("a body with neither date starts and finishes when the request arrives")
    func withNeitherDate() throws {
        let (connection, key) = try server.newConnection("no-dates")
        let before = Self.now()
        let body = #"{"repo_url":"https://github.com/acme/api","commit_sha":"def456"}"#
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/deployments", body, key: key)
        let after = Self.now()
        #expect(reply.status == 200, "\(reply.text)")
        let d = try dates(connection, "def456")
        #expect(d.finished >= before.microsecondsSinceEpoch && d.finished <= after.microsecondsSinceEpoch)
        #expect(d.started == d.finished && d.commitStarted == d.started && d.commitFinished == d.finished)
        #expect(d.duration == 0)
        #expect(try LakehookDatabase.value(
            "SELECT created_date = started_date FROM cicd_deployments WHERE id = $1", [connection.rowId("def456")]) == "t")
    }

    @Test("a body with end_time but no start_time starts at its end")
    func withoutStartTime() throws {
        let (connection, key) = try server.newConnection("no-start")
        let body = #"{"repo_url":"r","commit_sha":"aa11","end_time":"2021-03-04T05:06:07Z","pipeline_id":"p"}"#
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/deployments", body, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        let d = try dates(connection, "p")
        let end = TimestampParser.parse("2021-03-04T05:06:07Z")!.microsecondsSinceEpoch
        #expect(d.started == end && d.finished == end && d.duration == 0)
    }

    @Test("decoding binds the arrival time for a missing end_time, and start_time for both dates when it is later")
    func arrivalIsABind() throws {
        let arrival = TimestampParser.parse("2024-06-01T10:00:00Z")!
        let noEnd = try object(#"{"repo_url":"r","commit_sha":"s","start_time":"2024-06-01T09:00:00Z"}"#)
        let deployment = try DeploymentUpsert.decode(noEnd, for: connection, arrival: arrival).get()
        #expect(deployment.finishedDate == arrival && deployment.commits.map(\.finishedDate) == [arrival])
        #expect(deployment.binds(for: connection)[11] == arrival.postgresText)  // $12, p_finished
        // A client clock ahead of ours: the start it sent is also the end, never a 400 for a date it did not send.
        let ahead = try object(#"{"repo_url":"r","commit_sha":"s","start_time":"2024-06-01T10:00:05Z"}"#)
        let skewed = try DeploymentUpsert.decode(ahead, for: connection, arrival: arrival).get()
        #expect(skewed.startedDate == TimestampParser.parse("2024-06-01T10:00:05Z") && skewed.finishedDate == skewed.startedDate)
        // Both sent and out of order is still the client's mistake.
        let reversed = try object(#"{"repo_url":"r","commit_sha":"s","start_time":"2024-06-01T09:00:00Z","end_time":"2024-06-01T08:00:00Z"}"#)
        guard case .failure(let error) = DeploymentUpsert.decode(reversed, for: connection, arrival: arrival) else {
            Issue.record("reversed dates were accepted")
            return
        }
        #expect(error.causes == ["end_time: is before start_time"])
    }

    @Test("an invalid start_time is still a 400 naming it")
    func invalidStartTime() throws {
        let body = try object(#"{"repo_url":"r","commit_sha":"s","start_time":"soon"}"#)
        guard case .failure(let error) = DeploymentUpsert.decode(body, for: connection) else {
            Issue.record("an invalid start_time was accepted")
            return
        }
        #expect(error.causes.count == 1 && error.causes.first?.hasPrefix("start_time: is not a valid date") == true)
    }

    /// DevLake v1.0's `deploymentCommits` form validates `startedDate` and `finishedDate` as
    /// required (backend/plugins/webhook/api/deployments.go, WebhookDeploymentReq); Lakehook keeps them so.
    @Test("the deploymentCommits form still requires startedDate and finishedDate, as DevLake v1.0 does")
    func currentFormKeepsItsDates() throws {
        let body = try object(#"{"id":"d","deploymentCommits":[{"repoUrl":"r","commitSha":"s"}]}"#)
        guard case .failure(let error) = DeploymentUpsert.decode(body, for: connection) else {
            Issue.record("a deployment without dates was accepted")
            return
        }
        #expect(Set(error.causes) == ["startedDate: is required", "finishedDate: is required"])
    }
}

/// API.md §7: a pull request's `title` is read for `displayTitle` when that is absent, as the
/// other aliases are. Broke: `{"title": ...}` answered `displayTitle: is required`.
@Suite("Pull request title alias")
struct PullRequestTitleAliasTests {
    let server = TestServer.shared

    @Test("a pull request posted with title instead of displayTitle keeps it as its title")
    func titleAlias() throws {
        let (connection, key) = try server.newConnection("pr-title")
        let reply = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/pull_requests",
            #"{"pullRequestKey":7,"title":"Fix the build","createdDate":"2024-05-01T09:00:00Z"}"#, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try LakehookDatabase.value("SELECT title FROM pull_requests WHERE id = $1", [connection.rowId("7")]) == "Fix the build")
        // Both given: displayTitle wins; an empty displayTitle gives way to title.
        let both = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/pull_requests",
            #"{"pullRequestKey":7,"title":"t","displayTitle":"Shown","createdDate":"2024-05-01T09:00:00Z"}"#, key: key)
        #expect(both.status == 200, "\(both.text)")
        #expect(try LakehookDatabase.value("SELECT title FROM pull_requests WHERE id = $1", [connection.rowId("7")]) == "Shown")
        let empty = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/pull_requests",
            #"{"pullRequestKey":7,"title":"From title","displayTitle":"","createdDate":"2024-05-01T09:00:00Z"}"#, key: key)
        #expect(empty.status == 200, "\(empty.text)")
        #expect(try LakehookDatabase.value("SELECT title FROM pull_requests WHERE id = $1", [connection.rowId("7")]) == "From title")
        let neither = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/pull_requests",
            #"{"pullRequestKey":7,"createdDate":"2024-05-01T09:00:00Z"}"#, key: key)
        #expect(neither.status == 400 && neither.causes == ["displayTitle: is required"], "\(neither.text)")
    }
}
