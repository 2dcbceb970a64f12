import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// API.md §5: a pipeline's result, type, environment, dates and duration derive from its tasks.
@Suite("Finishing a pipeline")
struct PipelineFinishTests {
    let server = TestServer.shared
    let connection: DevLakeConnection
    let key: String

    init() throws {
        (connection, key) = try TestServer.shared.newConnection("finish")
    }

    var base: String { "/api/plugins/webhook/\(connection.id)" }

    @discardableResult
    func task(
        _ pipeline: String, _ name: String, result: String = "SUCCESS", status: String = "DONE", type: String = "BUILD",
        environment: String = "PRODUCTION", started: String = "2024-03-01T10:00:00Z", finished: String? = "2024-03-01T10:05:00Z"
    ) throws -> Reply {
        let finishedField = finished.map { #","finished_date":"\#($0)""# } ?? ""
        let body = #"{"pipeline_name":"\#(pipeline)","name":"\#(name)","result":"\#(result)","status":"\#(status)","type":"\#(type)","environment":"\#(environment)","started_date":"\#(started)"\#(finishedField),"repo_id":"repo"}"#
        return try server.post("\(base)/cicd_tasks", body, key: key)
    }

    func finish(_ pipeline: String) throws -> Reply {
        try server.post("\(base)/cicd_pipeline/\(pipeline)/finish", key: key)
    }

    func pipeline(_ name: String) throws -> [String: String?] {
        let row = try #require(try LakehookDatabase.rows("""
            SELECT status, result, type, environment, duration_sec,
                   to_char(started_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS started,
                   to_char(finished_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS finished,
                   updated_at::text AS updated
            FROM cicd_pipelines WHERE id = $1
            """, [connection.rowId(name)]).first)
        var out: [String: String?] = [:]
        for column in ["status", "result", "type", "environment", "duration_sec", "started", "finished", "updated"] {
            out[column] = row[column]
        }
        return out
    }

    @Test("all tasks SUCCESS give SUCCESS")
    func allSuccess() throws {
        try task("p", "a"); try task("p", "b")
        #expect(try finish("p").status == 200)
        #expect(try pipeline("p")["result"] == "SUCCESS")
        #expect(try pipeline("p")["status"] == "DONE")
    }

    @Test("one FAILURE gives FAILURE")
    func oneFailure() throws {
        try task("p", "a"); try task("p", "b", result: "FAILURE")
        #expect(try finish("p").status == 200)
        #expect(try pipeline("p")["result"] == "FAILURE")
    }

    @Test("an ABORT wins over a FAILURE")
    func abortWins() throws {
        try task("p", "a", result: "FAILURE"); try task("p", "b", result: "ABORT"); try task("p", "c")
        #expect(try finish("p").status == 200)
        #expect(try pipeline("p")["result"] == "ABORT")
    }

    @Test("a task still IN_PROGRESS at finish is aborted, and so is the pipeline")
    func inProgressTaskAborts() throws {
        try task("p", "a")
        try task("p", "b", result: "IN_PROGRESS", status: "IN_PROGRESS", finished: nil)
        let reply = try finish("p")
        #expect(reply.status == 200)
        #expect(reply.data?["result"] == .string("ABORT"))
        #expect(try pipeline("p")["result"] == "ABORT")
        let aborted = try #require(try LakehookDatabase.rows(
            "SELECT result, status, finished_date IS NOT NULL AS has_finish, duration_sec > 0 AS has_duration FROM cicd_tasks WHERE id = $1",
            [connection.rowId("p:b")]).first)
        #expect(aborted["result"] == "ABORT" && aborted["status"] == "DONE")
        #expect(aborted["has_finish"] == "t" && aborted["has_duration"] == "t")
        #expect(try LakehookDatabase.value("SELECT status FROM cicd_tasks WHERE id = $1", [connection.rowId("p:a")]) == "DONE")
    }

    @Test("tasks of mixed types give the type '', tasks of one type give that type")
    func mixedTypes() throws {
        try task("mixed", "a", type: "BUILD"); try task("mixed", "b", type: "TEST")
        try task("same", "a", type: "DEPLOYMENT"); try task("same", "b", type: "DEPLOYMENT")
        #expect(try finish("mixed").status == 200 && finish("same").status == 200)
        #expect(try pipeline("mixed")["type"] == "")
        #expect(try pipeline("same")["type"] == "DEPLOYMENT")
    }

    @Test("environment precedence: PRODUCTION, then STAGING, TESTING, DEVELOPMENT")
    func environmentPrecedence() throws {
        try task("e1", "a", environment: "TESTING"); try task("e1", "b", environment: "PRODUCTION"); try task("e1", "c", environment: "STAGING")
        try task("e2", "a", environment: "TESTING"); try task("e2", "b", environment: "STAGING"); try task("e2", "c", environment: "DEVELOPMENT")
        try task("e3", "a", environment: "DEVELOPMENT"); try task("e3", "b", environment: "TESTING")
        try task("e4", "a", environment: "DEVELOPMENT")
        for p in ["e1", "e2", "e3", "e4"] { #expect(try finish(p).status == 200) }
        #expect(try pipeline("e1")["environment"] == "PRODUCTION")
        #expect(try pipeline("e2")["environment"] == "STAGING")
        #expect(try pipeline("e3")["environment"] == "TESTING")
        #expect(try pipeline("e4")["environment"] == "DEVELOPMENT")
    }

    @Test("dates and duration come from the tasks, not the server clock")
    func datesFromTasks() throws {
        try task("d", "late", started: "2024-03-01T10:30:00Z", finished: "2024-03-01T11:00:00Z")
        try task("d", "early", started: "2024-03-01T10:00:00+02:00", finished: "2024-03-01T08:20:00Z")
        let reply = try finish("d")
        let p = try pipeline("d")
        #expect(p["started"] == "2024-03-01T08:00:00Z")
        #expect(p["finished"] == "2024-03-01T11:00:00Z")
        #expect(p["duration_sec"] == "10800")
        #expect(reply.data?["startedDate"] == .string("2024-03-01T08:00:00.000000Z"))
        #expect(reply.data?["finishedDate"] == .string("2024-03-01T11:00:00.000000Z"))
    }

    @Test("the pipeline's created date moves to the earliest task start")
    func createdDateMovesEarlier() throws {
        try task("c", "second", started: "2024-03-01T10:30:00Z")
        try task("c", "first", started: "2024-03-01T09:00:00Z")
        #expect(try LakehookDatabase.value(
            "SELECT created_date = '2024-03-01T09:00:00Z'::timestamptz AND started_date = created_date FROM cicd_pipelines WHERE id = $1",
            [connection.rowId("c")]) == "t")
    }

    @Test("a second finish changes nothing")
    func secondFinishIsHarmless() throws {
        try task("twice", "a", result: "FAILURE")
        #expect(try finish("twice").status == 200)
        let first = try pipeline("twice")
        let again = try finish("twice")
        #expect(again.status == 200)
        #expect(again.data?["result"] == .string("FAILURE"))
        #expect(try pipeline("twice") == first)
    }

    @Test("finishing an unknown pipeline is 404")
    func unknownPipeline() throws {
        let reply = try finish("never-posted")
        #expect(reply.status == 404)
        #expect(reply.json?["success"] == .bool(false))
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_pipelines WHERE id = $1", [connection.rowId("never-posted")]) == 0)
    }

    @Test("a task posted after finish is refused with 403 and nothing is written")
    func taskAfterFinish() throws {
        try task("closed", "a")
        #expect(try finish("closed").status == 200)
        let before = try LakehookDatabase.footprint(of: connection)
        let pipelineBefore = try pipeline("closed")
        let reply = try task("closed", "b", result: "FAILURE")
        #expect(reply.status == 403)
        #expect(reply.json?["code"] == .number("403"))
        #expect(try LakehookDatabase.footprint(of: connection) == before)
        #expect(try pipeline("closed") == pipelineBefore)
        // Re-posting an existing task of a finished pipeline changes nothing either.
        #expect(try task("closed", "a", result: "FAILURE").status == 403)
        #expect(try LakehookDatabase.value("SELECT result FROM cicd_tasks WHERE id = $1", [connection.rowId("closed:a")]) == "SUCCESS")
    }
}
