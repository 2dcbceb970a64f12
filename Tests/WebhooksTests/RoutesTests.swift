import Foundation
import Testing
@testable import Webhooks

/// API.md §1: four prefixes, three ways to name a connection, percent-decoded keys, both close forms.
@Suite("Routes and addressing")
struct RoutesTests {
    let server = TestServer.shared

    static func issue(_ key: String, type: String = "BUG", extra: String = "") -> String {
        #"{"issue_key":"\#(key)","title":"t","status":"TODO","original_status":"open","created_date":"2024-01-01T00:00:00Z","type":"\#(type)"\#(extra)}"#
    }

    @Test("every ingest route answers under all four prefixes and all three connection forms", arguments: WebhookService.prefixes)
    func prefixesAndForms(prefix: String) throws {
        let (connection, key) = try server.newConnection("routes")
        let encodedName = connection.name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!
        let forms = ["/\(connection.id)", "/connections/\(connection.id)", "/connections/by-name/\(encodedName)"]
        for (n, form) in forms.enumerated() {
            let base = prefix + form
            #expect(try server.post("\(base)/issues", Self.issue("K-\(n)"), key: key).status == 200, "\(base)")
            #expect(try server.post("\(base)/issue/K-\(n)/close", key: key).status == 200, "\(base)")
            #expect(try server.post("\(base)/issue/BOARD/K-\(n)/close/", key: key).status == 200, "trailing slash \(base)")
            let task = #"{"pipeline_name":"P-\#(n)","name":"t","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-01T00:00:00Z","repo_id":"r"}"#
            #expect(try server.post("\(base)/cicd_tasks?source=ci", task, key: key).status == 200, "\(base)")
            #expect(try server.post("\(base)/cicd_pipeline/P-\(n)/finish", key: key).status == 200, "\(base)")
        }
        #expect(try LakehookDatabase.count("SELECT count(*) FROM issues WHERE _raw_data_params = $1 AND status = 'DONE'", [connection.rawDataParams]) == 3)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_pipelines WHERE _raw_data_params = $1 AND status = 'DONE'", [connection.rawDataParams]) == 3)
    }

    @Test("a percent-encoded slash in a key is part of the key, decoded once")
    func percentDecoding() throws {
        let (connection, key) = try server.newConnection("percent")
        let base = "/api/plugins/webhook/\(connection.id)"
        #expect(try server.post("\(base)/issues", Self.issue("team/ABC-1"), key: key).status == 200)
        #expect(try server.post("\(base)/issue/team%2FABC-1/close", key: key).status == 200)
        #expect(try LakehookDatabase.value("SELECT status FROM issues WHERE id = $1", [connection.rowId("team/ABC-1")]) == "DONE")
        let task = #"{"pipeline_name":"build 100%","name":"t","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-01T00:00:00Z","repo_id":"r"}"#
        #expect(try server.post("\(base)/cicd_tasks", task, key: key).status == 200)
        #expect(try server.post("\(base)/cicd_pipeline/build%20100%25/finish", key: key).status == 200)
        #expect(try server.post("\(base)/cicd_pipeline/build%20100%2525/finish", key: key).status == 404)
        #expect(try server.post("\(base)/cicd_pipeline/bad%zz/finish", key: key).status == 400)
    }

    @Test("closing an unknown issue is 404, closing twice keeps the first resolution date")
    func closeIssue() throws {
        let (connection, key) = try server.newConnection("close")
        let base = "/api/plugins/webhook/\(connection.id)"
        #expect(try server.post("\(base)/issue/NOPE-1/close", key: key).status == 404)
        #expect(try server.post("\(base)/issues", Self.issue("C-1"), key: key).status == 200)
        let first = try server.post("\(base)/issue/C-1/close", key: key)
        #expect(first.status == 200)
        let resolution = try LakehookDatabase.value("SELECT resolution_date::text FROM issues WHERE id = $1", [connection.rowId("C-1")])
        #expect(resolution != nil)
        #expect(try server.post("\(base)/issue/C-1/close", key: key).status == 200)
        #expect(try LakehookDatabase.value("SELECT resolution_date::text FROM issues WHERE id = $1", [connection.rowId("C-1")]) == resolution)
    }

    @Test("an issue with a resolution date gets its lead time in whole minutes")
    func leadTime() throws {
        let (connection, key) = try server.newConnection("lead")
        let body = Self.issue("L-1", extra: #","resolution_date":"2024-01-01T02:30:59Z""#)
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/issues", body, key: key).status == 200)
        #expect(try LakehookDatabase.value("SELECT lead_time_minutes FROM issues WHERE id = $1", [connection.rowId("L-1")]) == "150")
    }

    @Test("re-posting an issue replaces its fields and keeps created_at")
    func repost() throws {
        let (connection, key) = try server.newConnection("repost")
        let base = "/api/plugins/webhook/\(connection.id)"
        let full = Self.issue("R-1", extra: #","priority":"high","story_point":"3.5","board_key":"B1","assignee_id":"u1""#)
        #expect(try server.post("\(base)/issues", full, key: key).status == 200)
        let createdAt = try LakehookDatabase.value("SELECT created_at::text FROM issues WHERE id = $1", [connection.rowId("R-1")])
        #expect(try LakehookDatabase.value("SELECT story_point FROM issues WHERE id = $1", [connection.rowId("R-1")]) == "3.5")
        #expect(try server.post("\(base)/issues", Self.issue("R-1", extra: #","board_key":"B2""#), key: key).status == 200)
        let row = try #require(try LakehookDatabase.rows(
            "SELECT priority, story_point, assignee_id, created_at::text AS created_at, updated_at > created_at AS moved FROM issues WHERE id = $1",
            [connection.rowId("R-1")]).first)
        #expect(row["priority"] == "" && row["story_point"] == "0" && row["assignee_id"] == "")
        #expect(row["created_at"] == createdAt)
        #expect(row["moved"] == "t")
        let links = try LakehookDatabase.rows("SELECT board_id FROM board_issues WHERE issue_id = $1 ORDER BY board_id", [connection.rowId("R-1")])
        #expect(links.map { $0[0] } == [connection.scopeId, connection.rowId("B2")])
    }

    @Test("camelCase and upper-case field names are the same fields")
    func fieldFolding() throws {
        let (connection, key) = try server.newConnection("camel")
        let body = #"{"issueKey":"F-1","TITLE":"camel","Status":"in_progress","originalStatus":"doing","createdDate":"2024-01-01T00:00:00.123456789+05:30"}"#
        #expect(try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/issues", body, key: key).status == 200)
        let row = try #require(try LakehookDatabase.rows(
            "SELECT title, status, created_date = '2023-12-31T18:30:00.123456Z'::timestamptz AS date_ok FROM issues WHERE id = $1",
            [connection.rowId("F-1")]).first)
        #expect(row["title"] == "camel" && row["status"] == "IN_PROGRESS" && row["date_ok"] == "t")
    }

    @Test("an INCIDENT issue keeps incident rows in step, and loses them when its type changes")
    func incidents() throws {
        let (connection, key) = try server.newConnection("incident")
        let base = "/api/plugins/webhook/\(connection.id)"
        #expect(try server.post("\(base)/issues", Self.issue("INC-1", type: "incident", extra: #","assignee_id":"oncall","assignee_name":"On Call""#), key: key).status == 200)
        let incident = try #require(try LakehookDatabase.rows(
            "SELECT incident_key, status, \"table\", scope_id FROM incidents WHERE id = $1", [connection.rowId("INC-1")]).first)
        #expect(incident["incident_key"] == "INC-1" && incident["status"] == "TODO")
        #expect(incident["table"] == "boards" && incident["scope_id"] == connection.scopeId)
        #expect(try LakehookDatabase.value("SELECT assignee_name FROM incident_assignees WHERE incident_id = $1", [connection.rowId("INC-1")]) == "On Call")
        #expect(try server.post("\(base)/issue/INC-1/close", key: key).status == 200)
        #expect(try LakehookDatabase.value("SELECT status || ':' || (resolution_date IS NOT NULL) FROM incidents WHERE id = $1", [connection.rowId("INC-1")]) == "DONE:true")
        #expect(try server.post("\(base)/issues", Self.issue("INC-1", type: "BUG"), key: key).status == 200)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM incidents WHERE id = $1", [connection.rowId("INC-1")]) == 0)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM incident_assignees WHERE incident_id = $1", [connection.rowId("INC-1")]) == 0)
    }

    @Test("HTTP Basic auth with the key as password works, with any user name")
    func basicAuth() throws {
        let (connection, key) = try server.newConnection("basic")
        let credentials = Data("ci-bot:\(key)".utf8).base64EncodedString()
        let reply = try server.request(
            "POST", "/api/plugins/webhook/\(connection.id)/issues", body: Self.issue("B-1"),
            headers: [("Authorization", "Basic \(credentials)")])
        #expect(reply.status == 200)
        let wrong = Data("ci-bot:nope".utf8).base64EncodedString()
        #expect(try server.request(
            "POST", "/api/plugins/webhook/\(connection.id)/issues", body: Self.issue("B-2"),
            headers: [("Authorization", "Basic \(wrong)")]).status == 403)
        // curl's user:password in the URL is Basic auth too.
        let viaCurl = try curl(["http://ci:\(key)@127.0.0.1:\(server.port)/api/plugins/webhook/\(connection.id)/issue/B-1/close", "-X", "POST"])
        #expect(viaCurl.status == 200, "\(viaCurl.body)")
    }

    @Test("operations endpoints answer without auth")
    func operations() throws {
        #expect(try server.request("GET", "/livez").status == 200)
        let ready = try server.request("GET", "/readyz")
        #expect(ready.status == 200, "\(ready.text)")
        #expect(try server.request("GET", "/healthz").status == 200)
    }
}
