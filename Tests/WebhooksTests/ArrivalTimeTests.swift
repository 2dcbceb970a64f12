import Foundation
import Testing
@testable import Webhooks

/// Issue 16: every "now" of a write is the request's arrival, bound as a parameter, so that a
/// journaled request replayed later writes the same rows. Broke: `created_at` / `updated_at`
/// came from the columns' `DEFAULT now()` and the statements' `now()`, a close's resolution date
/// and a finish without task dates from the database's clock.
///
/// Each request is decoded by its route's own closure with a fixed arrival years in the past and
/// written directly; no row of the connection may then carry the wall clock.
@Suite("Writes date themselves by the request's arrival")
struct ArrivalTimeTests {
    let server = TestServer.shared

    static let first = TimestampParser.parse("2001-02-03T04:05:06.789012Z")!
    static let second = TimestampParser.parse("2002-03-04T05:06:07.5Z")!
    static let third = TimestampParser.parse("2003-04-05T06:07:08Z")!

    /// Decodes `body` with the route named `route`, as it arrived at `arrival`, and writes it.
    @discardableResult
    func write(
        _ route: String, _ body: String?, _ connection: DevLakeConnection, parameters: [String: String] = [:],
        arrival: Timestamp
    ) throws -> WriteResult {
        let ingest = try #require(server.service.ingestRoute(named: route))
        let object = try body.map { try #require(try JSONParser.parse(Array($0.utf8)).objectValue) }
        let operation = try ingest.decode(object, connection, parameters, arrival)
        return try LakehookDatabase.pool.withConnection { db in try operation.write(db, for: connection, journal: nil) }
    }

    /// Whether `column` of the rows `condition` selects in `table` is `arrival` (and there is such a row).
    func dated(_ table: String, _ column: String, _ arrival: Timestamp, where condition: String, _ binds: [String?]) throws -> Bool {
        let rows = try LakehookDatabase.rows(
            "SELECT \(column) = $\(binds.count + 1)::timestamptz FROM \(table) WHERE \(condition)", binds + [arrival.postgresText])
        return !rows.isEmpty && rows.allSatisfy { $0[0] == "t" }
    }

    /// Every row the connection wrote has `created_at` and `updated_at` among `arrivals` (the
    /// connection's own board, written when the connection was made, aside).
    func everyRowDated(_ connection: DevLakeConnection, among arrivals: [Timestamp]) throws {
        let list = arrivals.map { "'\($0.postgresText)'::timestamptz" }.joined(separator: ", ")
        for table in DevLakeConnectionStore.domainTables {
            let boards = table == "boards"
            let undated = try LakehookDatabase.count("""
                SELECT count(*) FROM \(table) WHERE _raw_data_table = 'webhook' AND _raw_data_params = $1
                    AND (created_at NOT IN (\(list)) OR updated_at NOT IN (\(list))) \(boards ? "AND id <> $2" : "")
                """, [connection.rawDataParams] + (boards ? [connection.scopeId] : []))
            #expect(undated == 0, "\(table) has \(undated) rows dated otherwise")
        }
    }

    @Test("an issue, an incident and a close: created_at, updated_at, a new board's created_date and the resolution date are the arrivals")
    func issues() throws {
        let (connection, _) = try server.newConnection("arrival-issues")
        let id = connection.rowId("A-1")
        let body = #"{"issue_key":"A-1","title":"t","type":"INCIDENT","status":"IN_PROGRESS","original_status":"open","created_date":"2000-01-01T00:00:00Z","board_key":"b","assignee_id":"u1"}"#
        try write("issues", body, connection, arrival: Self.first)
        let keyBoard = connection.rowId("b")
        #expect(try dated("boards", "created_date", Self.first, where: "id = $1", [keyBoard]))
        for column in ["created_at", "updated_at"] {
            #expect(try dated("issues", column, Self.first, where: "id = $1", [id]))
            #expect(try dated("incidents", column, Self.first, where: "id = $1", [id]))
            #expect(try dated("incident_assignees", column, Self.first, where: "incident_id = $1", [id]))
            #expect(try dated("board_issues", column, Self.first, where: "issue_id = $1", [id]))
            #expect(try dated("boards", column, Self.first, where: "id = $1", [keyBoard]))
        }

        // A re-post moves updated_at, not created_at.
        try write("issues", body.replacingOccurrences(of: "u1", with: "u2"), connection, arrival: Self.second)
        #expect(try dated("issues", "created_at", Self.first, where: "id = $1", [id]))
        #expect(try dated("issues", "updated_at", Self.second, where: "id = $1", [id]))
        #expect(try dated("incidents", "updated_at", Self.second, where: "id = $1", [id]))
        #expect(try dated("incident_assignees", "created_at", Self.second, where: "incident_id = $1", [id]))

        // Closing resolves at the close's arrival, on the issue and its incident.
        let closed = try write("issue/:issueKey/close", nil, connection, parameters: ["issueKey": "A-1"], arrival: Self.third)
        #expect(closed.data.objectValue?["resolutionDate"] == .string(Self.third.iso8601.replacingOccurrences(of: "Z", with: ".000000Z")))
        for table in ["issues", "incidents"] {
            #expect(try dated(table, "resolution_date", Self.third, where: "id = $1", [id]))
            #expect(try dated(table, "updated_at", Self.third, where: "id = $1", [id]))
        }
        #expect(try LakehookDatabase.value("SELECT lead_time_minutes FROM issues WHERE id = $1", [id])
            == String(Self.third.minutes(since: TimestampParser.parse("2000-01-01T00:00:00Z")!)))
        try everyRowDated(connection, among: [Self.first, Self.second, Self.third])
    }

    @Test("a task, its pipeline and commit, and a finish without task dates: the arrivals, also for the finish")
    func tasksAndFinish() throws {
        let (connection, _) = try server.newConnection("arrival-tasks")
        let task = #"{"pipeline_name":"p","name":"build","result":"IN_PROGRESS","status":"IN_PROGRESS","type":"BUILD","environment":"PRODUCTION","started_date":"2000-01-01T00:00:00Z","repo_id":"r","commit_sha":"c1"}"#
        try write("cicd_tasks", task, connection, arrival: Self.first)
        let pipeline = connection.rowId("p")
        for column in ["created_at", "updated_at"] {
            #expect(try dated("cicd_pipelines", column, Self.first, where: "id = $1", [pipeline]))
            #expect(try dated("cicd_tasks", column, Self.first, where: "pipeline_id = $1", [pipeline]))
            #expect(try dated("cicd_pipeline_commits", column, Self.first, where: "pipeline_id = $1", [pipeline]))
        }
        try write("cicd_tasks", task, connection, arrival: Self.second)
        #expect(try dated("cicd_tasks", "created_at", Self.first, where: "pipeline_id = $1", [pipeline]))
        #expect(try dated("cicd_tasks", "updated_at", Self.second, where: "pipeline_id = $1", [pipeline]))
        #expect(try dated("cicd_pipelines", "updated_at", Self.second, where: "id = $1", [pipeline]))
        #expect(try dated("cicd_pipeline_commits", "updated_at", Self.second, where: "pipeline_id = $1", [pipeline]))

        // The task reported no finish: the finish's arrival ends it and the pipeline.
        let finished = try write("cicd_pipeline/:pipelineName/finish", nil, connection, parameters: ["pipelineName": "p"], arrival: Self.third)
        #expect(finished.data.objectValue?["finishedDate"] == .string(Self.third.iso8601.replacingOccurrences(of: "Z", with: ".000000Z")))
        for table in ["cicd_tasks", "cicd_pipelines"] {
            let condition = table == "cicd_tasks" ? "pipeline_id = $1" : "id = $1"
            #expect(try dated(table, "finished_date", Self.third, where: condition, [pipeline]))
            #expect(try dated(table, "updated_at", Self.third, where: condition, [pipeline]))
        }
        #expect(try LakehookDatabase.value("SELECT duration_sec FROM cicd_pipelines WHERE id = $1", [pipeline])
            == String(format: "%.0f", Self.third.seconds(since: TimestampParser.parse("2000-01-01T00:00:00Z")!)))
        try everyRowDated(connection, among: [Self.first, Self.second, Self.third])
    }

    @Test("deployments in both forms and a pull request: created_at and updated_at are the arrivals, a missing end_time too")
    func deploymentsAndPullRequests() throws {
        let (connection, _) = try server.newConnection("arrival-deploy")
        let current = #"{"id":"d1","startedDate":"2000-01-01T00:00:00Z","finishedDate":"2000-01-01T00:10:00Z","deploymentCommits":[{"repoUrl":"u","commitSha":"a"},{"repoUrl":"u","commitSha":"b"}]}"#
        try write("deployments", current, connection, arrival: Self.first)
        let d1 = connection.rowId("d1")
        for column in ["created_at", "updated_at"] {
            #expect(try dated("cicd_deployments", column, Self.first, where: "id = $1", [d1]))
            #expect(try dated("cicd_deployment_commits", column, Self.first, where: "cicd_deployment_id = $1", [d1]))
        }
        try write("deployments", current, connection, arrival: Self.second)
        #expect(try dated("cicd_deployments", "created_at", Self.first, where: "id = $1", [d1]))
        #expect(try dated("cicd_deployments", "updated_at", Self.second, where: "id = $1", [d1]))
        #expect(try dated("cicd_deployment_commits", "updated_at", Self.second, where: "cicd_deployment_id = $1", [d1]))

        // The single-commit form without dates: it starts and finishes at its arrival.
        try write("deployments", #"{"pipeline_id":"d2","repo_url":"u","commit_sha":"c"}"#, connection, arrival: Self.first)
        let d2 = connection.rowId("d2")
        for column in ["created_at", "updated_at", "started_date", "finished_date"] {
            #expect(try dated("cicd_deployments", column, Self.first, where: "id = $1", [d2]))
            #expect(try dated("cicd_deployment_commits", column, Self.first, where: "cicd_deployment_id = $1", [d2]))
        }
        try write("deployments", #"{"pipeline_id":"d2","repo_url":"u","commit_sha":"e"}"#, connection, arrival: Self.second)
        #expect(try dated("cicd_deployments", "created_at", Self.first, where: "id = $1", [d2]))
        #expect(try dated("cicd_deployments", "updated_at", Self.second, where: "id = $1", [d2]))
        #expect(try dated("cicd_deployment_commits", "created_at", Self.second, where: "cicd_deployment_id = $1 AND commit_sha = 'e'", [d2]))

        let pullRequest = #"{"pullRequestKey":7,"displayTitle":"t","createdDate":"2000-01-01T00:00:00Z"}"#
        try write("pull_requests", pullRequest, connection, arrival: Self.first)
        let pr = connection.rowId("7")
        #expect(try dated("pull_requests", "created_at", Self.first, where: "id = $1", [pr]))
        #expect(try dated("pull_requests", "updated_at", Self.first, where: "id = $1", [pr]))
        try write("pull_requests", pullRequest, connection, arrival: Self.third)
        #expect(try dated("pull_requests", "created_at", Self.first, where: "id = $1", [pr]))
        #expect(try dated("pull_requests", "updated_at", Self.third, where: "id = $1", [pr]))
        try everyRowDated(connection, among: [Self.first, Self.second, Self.third])
    }

    @Test("every route's decode closure carries the arrival it is given into the operation")
    func decodersCarryTheArrival() throws {
        let connection = DevLakeConnection(id: 1, name: "arrival", apiKeyHash: "", apiKeyHint: "")
        let bodies: [String: String] = [
            "issues": #"{"issue_key":"k","title":"t","status":"TODO","original_status":"o","created_date":"2000-01-01"}"#,
            "cicd_tasks": #"{"pipeline_name":"p","name":"n","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2000-01-01","repo_id":"r"}"#,
            "deployments": #"{"id":"d","startedDate":"2000-01-01","finishedDate":"2000-01-01","deploymentCommits":[{"repoUrl":"u","commitSha":"s"}]}"#,
            "pull_requests": #"{"pullRequestKey":1,"displayTitle":"t","createdDate":"2000-01-01"}"#,
        ]
        let names = Set(server.service.ingestRoutes().map(\.route.name))
        #expect(names.count == 7)
        for name in names {
            let route = try #require(server.service.ingestRoute(named: name))
            let body = try bodies[route.name].map { try #require(try JSONParser.parse(Array($0.utf8)).objectValue) }
            let operation = try route.decode(body, connection, ["issueKey": "k", "pipelineName": "p"], Self.first)
            let arrival: Timestamp? = switch operation {
            case let issue as IssueUpsert: issue.arrival
            case let close as IssueClose: close.arrival
            case let task as TaskUpsert: task.arrival
            case let finish as PipelineFinish: finish.arrival
            case let deployment as DeploymentUpsert: deployment.arrival
            case let pullRequest as PullRequestUpsert: pullRequest.arrival
            default: nil
            }
            #expect(arrival == Self.first, "\(route.name)")
            if let statement = operation as? any SingleStatementOperation {
                #expect(statement.binds(for: connection).last == Self.first.postgresText, "\(route.name): the arrival is the last bind")
            }
        }
    }
}
