import Foundation
import Testing
@testable import Webhooks

/// Issue 13, finding 7c: a task whose `finished_date` came before its `started_date` was stored
/// with a negative `duration_sec`, which the pipeline's finish then carried on. A deployment
/// already refused the same order with a cause naming the dates as the client sent them.
@Suite("A task that finishes before it starts is refused")
struct TaskDateOrderTests {
    let server = TestServer.shared

    static func body(_ dates: String) -> String {
        #"{"pipeline_name":"p","name":"t","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION",\#(dates),"repo_id":"r"}"#
    }

    func causes(_ dates: String) throws -> [String] {
        let (connection, key) = try server.newConnection("task-order")
        let before = try LakehookDatabase.footprint(of: connection)
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/cicd_tasks", Self.body(dates), key: key)
        #expect(reply.status == 400, "\(reply.text)")
        #expect(try LakehookDatabase.footprint(of: connection) == before, "a refused task wrote rows")
        return reply.causes
    }

    @Test("a task finished an hour before it started was stored with duration_sec -3600; now it answers 400")
    func finishedBeforeStarted() throws {
        #expect(try causes(#""started_date":"2024-01-01T12:00:00Z","finished_date":"2024-01-01T11:00:00Z""#)
            == ["finished_date: is before started_date"])
    }

    @Test("the cause names the dates as the client spelled them: created_date, camelCase, offsets")
    func causeNamesTheClientsFields() throws {
        #expect(try causes(#""created_date":"2020-01-01T12:00:00+00:00","finished_date":"2020-01-01T11:59:59+00:00""#)
            == ["finished_date: is before created_date"])
        #expect(try causes(#""startedDate":"2024-01-01T12:00:00-02:00","finishedDate":"2024-01-01T13:00:00Z""#)
            == ["finishedDate: is before startedDate"])
        // started_date wins over created_date, so the order is checked against it.
        #expect(try causes(#""created_date":"2024-01-01T09:00:00Z","started_date":"2024-01-01T12:00:00Z","finished_date":"2024-01-01T11:00:00Z""#)
            == ["finished_date: is before started_date"])
    }

    @Test("every problem is listed: the date order next to a bad result")
    func listedWithOtherCauses() {
        let body = Self.body(#""started_date":"2024-01-01T12:00:00Z","finished_date":"2024-01-01T11:00:00Z""#)
            .replacingOccurrences(of: "SUCCESS", with: "WON")
        guard case .failure(let error) = TaskUpsert.decode(Self.object(body), for: Self.connection) else {
            Issue.record("the task was accepted")
            return
        }
        #expect(error.causes.contains("finished_date: is before started_date"))
        #expect(error.causes.count == 2, "\(error.causes)")
    }

    @Test("a task finishing the instant it starts, or later, is accepted (duration 0 or more)")
    func sameInstantAccepted() throws {
        for (finished, duration) in [("2024-01-01T12:00:00Z", 0.0), ("2024-01-01T14:00:00+02:00", 0.0), ("2024-01-01T12:00:01.5Z", 1.5)] {
            let body = Self.body(#""started_date":"2024-01-01T12:00:00Z","finished_date":"\#(finished)""#)
            guard case .success(let task) = TaskUpsert.decode(Self.object(body), for: Self.connection) else {
                Issue.record("refused: \(finished)")
                continue
            }
            #expect(task.durationSeconds == duration)
        }
    }

    static let connection = DevLakeConnection(id: 1, name: "order", apiKeyHash: "", apiKeyHint: "")

    /// A test body as an object (the bodies here are valid JSON objects by construction).
    static func object(_ json: String) -> JSONObject {
        guard case .object(let object)? = try? JSONParser.parse(Array(json.utf8)) else { fatalError("not a JSON object: \(json)") }
        return object
    }
}

/// Issue 13, finding 7d: `"pullRequestKey": -1` (and 0) was stored as the pull request
/// `webhook:<conn>:-1`. A pull request's number starts at 1 in every tool that sends one.
@Suite("Pull request keys are positive")
struct PullRequestKeyTests {
    func decode(_ key: String) -> Result<PullRequestUpsert, WebhookError> {
        let body = #"{"pullRequestKey":\#(key),"displayTitle":"t","createdDate":"2024-01-01"}"#
        return PullRequestUpsert.decode(TaskDateOrderTests.object(body), for: TaskDateOrderTests.connection)
    }

    @Test("pullRequestKey -1 was accepted as key -1; 0 and negatives, as numbers or strings, answer 400")
    func nonPositiveRefused() throws {
        for key in ["-1", "0", "-0", #""-1""#, #""0""#, #""000""#, #""-007""#, "-9223372036854775808", "0.0"] {
            guard case .failure(let error) = decode(key) else {
                Issue.record("pullRequestKey \(key) was accepted")
                continue
            }
            #expect(error.causes.count == 1 && error.causes[0].hasPrefix("pullRequestKey: must be a positive integer"),
                    "\(key): \(error.causes)")
        }
    }

    @Test("positive keys still read as a person reads them: \"007\" is 7, 1e3 is 1000")
    func positiveAccepted() throws {
        for (key, value) in [("1", Int64(1)), (#""007""#, 7), (#""1""#, 1), ("1e3", 1000), ("9223372036854775807", .max)] {
            guard case .success(let pullRequest) = decode(key) else {
                Issue.record("pullRequestKey \(key) was refused")
                continue
            }
            #expect(pullRequest.key == value)
        }
    }

    @Test("through the API: pullRequestKey -1 answers 400 naming the field and writes nothing")
    func throughTheAPI() throws {
        let server = TestServer.shared
        let (connection, key) = try server.newConnection("pr-key")
        let before = try LakehookDatabase.footprint(of: connection)
        let reply = try server.post(
            "/api/rest/plugins/webhook/connections/\(connection.id)/pull_requests",
            #"{"pull_request_key":-1,"displayTitle":"t","createdDate":"2024-01-01"}"#, key: key)
        #expect(reply.status == 400, "\(reply.text)")
        #expect(reply.causes == ["pull_request_key: must be a positive integer (got -1)"])
        #expect(try LakehookDatabase.footprint(of: connection) == before)
    }
}
