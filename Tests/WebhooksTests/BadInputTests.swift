import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// API.md §2 and §9: every refusal has its status, a JSON body with the reason, and writes nothing.
@Suite("Bad input")
struct BadInputTests {
    let server = TestServer.shared
    let connection: DevLakeConnection
    let key: String
    static let validTask = #"{"pipeline_name":"p","name":"t","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-01T00:00:00Z","repo_id":"r"}"#

    init() throws {
        (connection, key) = try TestServer.shared.newConnection("bad")
    }

    var base: String { "/api/plugins/webhook/\(connection.id)" }

    /// Sends the request and checks the refusal: status, JSON envelope, and no row written.
    @discardableResult
    func refused(_ status: Int, _ path: String, method: String = "POST", body: String?, key: String?) throws -> Reply {
        let before = try LakehookDatabase.footprint(of: connection)
        let reply = try server.request(method, path, body: body, key: key)
        #expect(reply.status == status, "\(reply.text)")
        #expect(reply.header("Content-Type") == "application/json")
        let json = try #require(reply.json, "body is not JSON: \(reply.text)")
        #expect(json["success"] == .bool(false))
        #expect(json["code"] == .number(String(status)))
        if case .string(let message)? = json["message"] { #expect(!message.isEmpty) } else { Issue.record("no message") }
        #expect(try LakehookDatabase.footprint(of: connection) == before)
        return reply
    }

    @Test("malformed JSON is 400 and names the problem")
    func malformedJSON() throws {
        let reply = try refused(400, "\(base)/issues", body: #"{"issue_key": "A-1",}"#, key: key)
        #expect(reply.text.contains("malformed JSON"))
    }

    @Test("a JSON value that is not an object is 400")
    func notAnObject() throws {
        try refused(400, "\(base)/cicd_tasks", body: #"["pipeline_name"]"#, key: key)
    }

    @Test("an empty body is 400")
    func emptyBody() throws {
        let reply = try refused(400, "\(base)/issues", body: "", key: key)
        #expect(reply.text.contains("empty"))
        try refused(400, "\(base)/cicd_tasks", body: nil, key: key)
    }

    @Test("every missing required field is listed in causes")
    func missingFields() throws {
        let reply = try refused(400, "\(base)/issues", body: #"{"board_key":"X"}"#, key: key)
        #expect(Set(reply.causes) == [
            "issue_key: is required", "title: is required", "status: is required",
            "original_status: is required", "created_date: is required",
        ])
        let task = try refused(400, "\(base)/cicd_tasks", body: "{}", key: key)
        #expect(task.causes.count == 8, "\(task.causes)")
        for field in ["pipeline_name", "name", "result", "status", "type", "environment", "started_date", "repo_id"] {
            #expect(task.causes.contains { $0.hasPrefix("\(field):") }, "no cause for \(field)")
        }
    }

    @Test("wrong types, an unknown enumeration value and a bad date are all reported together")
    func wrongValues() throws {
        let body = #"{"pipeline_name":"p","name":{"a":1},"result":"GREAT","status":"DONE","type":"BUILD","environment":"MOON","started_date":"yesterday","finished_date":"2024-13-01T00:00:00Z","repo_id":["r"]}"#
        let reply = try refused(400, "\(base)/cicd_tasks", body: body, key: key)
        #expect(reply.causes.count == 6, "\(reply.causes)")
        #expect(reply.causes.contains { $0.hasPrefix("result:") && $0.contains("SUCCESS, FAILURE, ABORT, IN_PROGRESS") })
        #expect(reply.causes.contains { $0.hasPrefix("environment:") && $0.contains("PRODUCTION") })
        #expect(reply.causes.contains { $0.hasPrefix("started_date:") })
        #expect(reply.causes.contains { $0.hasPrefix("finished_date:") })
        #expect(reply.causes.contains { $0.hasPrefix("name:") })
        #expect(reply.causes.contains { $0.hasPrefix("repo_id:") })
        let issue = try refused(400, "\(base)/issues", body: #"{"issue_key":"K","title":"t","status":"OPEN","original_status":"o","created_date":"2024-01-01","story_point":"lots","time_spent_minutes":1.5}"#, key: key)
        #expect(issue.causes.count == 3, "\(issue.causes)")
    }

    @Test("a key too long for a 255-character id is 400 naming the field, not a database error")
    func overlongKey() throws {
        let longKey = String(repeating: "K", count: 250)
        let body = #"{"issue_key":"\#(longKey)","title":"t","status":"TODO","original_status":"o","created_date":"2024-01-01"}"#
        let reply = try refused(400, "\(base)/issues", body: body, key: key)
        #expect(reply.causes.count == 1 && reply.causes[0].hasPrefix("issue_key:"), "\(reply.causes)")
        let longName = String(repeating: "n", count: 256)
        let task = try refused(400, "\(base)/cicd_tasks", body: Self.validTask.replacingOccurrences(of: #""name":"t""#, with: #""name":"\#(longName)""#), key: key)
        #expect(task.causes.contains { $0.hasPrefix("name:") }, "\(task.causes)")
    }

    @Test("a body over the limit is 413")
    func bodyTooLarge() throws {
        let padding = String(repeating: "x", count: 1 << 20)
        try refused(413, "\(base)/issues", body: #"{"title":"\#(padding)"}"#, key: key)
    }

    @Test("an unknown connection answers exactly as a wrong key does (403), by id and by name: no enumeration")
    func unknownConnection() throws {
        let wrongKey = try refused(403, "\(base)/cicd_tasks", body: Self.validTask, key: "lhk_wrong")
        let unknownId = try refused(403, "/api/plugins/webhook/999999999/cicd_tasks", body: Self.validTask, key: key)
        let unknownName = try refused(
            403, "/api/rest/plugins/webhook/connections/by-name/no-such-connection/cicd_tasks", body: Self.validTask, key: key)
        #expect(unknownId.text == wrongKey.text && unknownName.text == wrongKey.text)
        #expect(unknownId.status == wrongKey.status && unknownName.status == wrongKey.status)
        #expect(wrongKey.text.contains("does not open this connection"))
    }

    @Test("a connection id that is not a positive whole number is 400")
    func badConnectionId() throws {
        for id in ["abc", "0", "-1", "1.5", "99999999999999999999999"] {
            try refused(400, "/api/plugins/webhook/\(id)/cicd_tasks", body: Self.validTask, key: key)
        }
    }

    @Test("a missing API key is 401 and a wrong one 403")
    func apiKeys() throws {
        let missing = try refused(401, "\(base)/cicd_tasks", body: Self.validTask, key: nil)
        #expect(missing.header("WWW-Authenticate") != nil)
        try refused(403, "\(base)/cicd_tasks", body: Self.validTask, key: "lhk_wrong")
        let (_, otherKey) = try server.newConnection("other")
        try refused(403, "\(base)/cicd_tasks", body: Self.validTask, key: otherKey)
        try refused(401, "\(base)/cicd_tasks", body: Self.validTask, key: "")
    }

    @Test("an unknown route is 404 and a wrong method 405 with Allow")
    func routes() throws {
        try refused(404, "\(base)/nothing-here", body: "{}", key: key)
        let reply = try refused(405, "\(base)/cicd_tasks", method: "GET", body: nil, key: key)
        #expect(reply.header("Allow") == "POST")
    }

    @Test("the valid body used above is accepted, so the refusals are about the changes")
    func validTaskIsAccepted() throws {
        let reply = try server.post("\(base)/cicd_tasks", Self.validTask, key: key)
        #expect(reply.status == 200)
        #expect(reply.json?["success"] == .bool(true))
    }
}
