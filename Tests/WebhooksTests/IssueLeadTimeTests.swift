import Foundation
import Testing
@testable import Webhooks

/// Issue 13, finding 7: an issue resolved before it was created got a negative lead time (and
/// with it a negative recovery time in DORA). Deployments already refused a finish before their
/// start; issues now refuse the same, and a close never computes a negative lead time.
@Suite("Lead times are never negative")
struct IssueLeadTimeTests {
    let server = TestServer.shared

    static func issue(_ extra: String) -> String {
        #"{"issue_key":"L-1","title":"t","type":"INCIDENT","status":"DONE","original_status":"done","created_date":"2024-01-02T00:00:00Z"\#(extra)}"#
    }

    @Test("a resolution_date before created_date is 400, names both fields, and writes nothing")
    func resolutionBeforeCreation() throws {
        let (connection, key) = try server.newConnection("lead")
        let before = try LakehookDatabase.footprint(of: connection)
        let reply = try server.post(
            "/api/plugins/webhook/\(connection.id)/issues",
            Self.issue(#","resolution_date":"2024-01-01T23:59:00Z""#), key: key)
        #expect(reply.status == 400, "\(reply.text)")
        #expect(reply.causes == ["resolution_date: is before created_date"])
        #expect(try LakehookDatabase.footprint(of: connection) == before)
    }

    @Test("a resolution at the creation instant is a lead time of 0, accepted")
    func resolutionAtCreation() throws {
        let (connection, key) = try server.newConnection("lead")
        let reply = try server.post(
            "/api/plugins/webhook/\(connection.id)/issues",
            Self.issue(#","resolution_date":"2024-01-02T00:00:00Z""#), key: key)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try LakehookDatabase.value("SELECT lead_time_minutes FROM incidents WHERE id = $1", [connection.rowId("L-1")]) == "0")
    }

    @Test("a negative lead_time_minutes is 400")
    func negativeLeadTime() throws {
        let (connection, key) = try server.newConnection("lead")
        let reply = try server.post(
            "/api/plugins/webhook/\(connection.id)/issues", Self.issue(#","lead_time_minutes":-5"#), key: key)
        #expect(reply.status == 400, "\(reply.text)")
        #expect(reply.causes == ["lead_time_minutes: must not be negative"])
    }

    @Test("closing an issue created in the future keeps its lead time 0, on the issue and its incident")
    func closeBeforeCreation() throws {
        let (connection, key) = try server.newConnection("lead")
        let base = "/api/plugins/webhook/\(connection.id)"
        let future = #"{"issue_key":"F-1","title":"t","type":"INCIDENT","status":"TODO","original_status":"open","created_date":"2999-01-01T00:00:00Z"}"#
        #expect(try server.post("\(base)/issues", future, key: key).status == 200)
        let closed = try server.post("\(base)/issue/F-1/close", key: key)
        #expect(closed.status == 200, "\(closed.text)")
        #expect(closed.data?["leadTimeMinutes"] == .number("0"))
        let id = connection.rowId("F-1")
        #expect(try LakehookDatabase.value("SELECT lead_time_minutes FROM issues WHERE id = $1", [id]) == "0")
        #expect(try LakehookDatabase.value("SELECT lead_time_minutes || ' ' || status FROM incidents WHERE id = $1", [id]) == "0 DONE")
    }
}
