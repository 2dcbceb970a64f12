import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// Connection administration over HTTP (API.md §1), guarded by LAKEHOOK_ADMIN_TOKEN.
@Suite("Connection administration over HTTP")
struct AdministrationTests {
    let server = TestServer.shared
    let admin = TestServer.adminHeaders

    func call(_ method: String, _ path: String, _ body: String? = nil) throws -> Reply {
        try server.request(method, "/api/rest/plugins/webhook" + path, body: body, headers: admin)
    }

    @Test("create, list, get by id and by name, rename, rotate, delete")
    func lifecycle() throws {
        let name = "admin-\(UUID().uuidString.prefix(8))"
        let created = try call("POST", "/connections", #"{"name":"\#(name)","project":"shop"}"#)
        #expect(created.status == 200, "\(created.text)")
        let data = try #require(created.data)
        guard case .number(let idText)? = data["id"], let id = Int64(idText), case .string(let key)? = data["apiKey"] else {
            Issue.record("no id or key: \(created.text)"); return
        }
        #expect(data["name"] == .string(name) && data["project"] == .string("shop"))
        #expect(data["postIssuesEndpoint"] == .string("http://127.0.0.1:4000/api/plugins/webhook/\(id)/issues"))
        for endpoint in ["closeIssuesEndpoint", "postPipelineTaskEndpoint", "closePipelineEndpoint", "postPipelineDeployTaskEndpoint", "postPullRequestsEndpoint"] {
            #expect(data[endpoint] != nil, "missing \(endpoint)")
        }
        #expect(try LakehookDatabase.count(
            "SELECT count(*) FROM project_mapping WHERE project_name = 'shop' AND row_id = $1", ["webhook:\(id)"]) == 3)
        #expect(try server.post("/api/plugins/webhook/\(id)/issues", RoutesTests.issue("A-1"), key: key).status == 200)

        let list = try call("GET", "/connections")
        #expect(list.status == 200 && list.text.contains(name) && !list.text.contains(key))
        let byId = try call("GET", "/connections/\(id)")
        #expect(byId.status == 200 && byId.data?["name"] == .string(name) && byId.data?["apiKey"] == nil)
        let byName = try call("GET", "/connections/by-name/\(name)")
        #expect(byName.status == 200 && byName.data?["id"] == .number(String(id)))
        #expect(try call("GET", "/connections/999999999").status == 404)

        let renamed = try call("PATCH", "/connections/\(id)", #"{"name":"\#(name)-renamed","project":null}"#)
        #expect(renamed.status == 200 && renamed.data?["name"] == .string("\(name)-renamed") && renamed.data?["project"] == .null)
        #expect(try LakehookDatabase.value("SELECT name FROM cicd_scopes WHERE id = $1", ["webhook:\(id)"]) == "\(name)-renamed")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM project_mapping WHERE row_id = $1", ["webhook:\(id)"]) == 0)

        let rotated = try call("POST", "/connections/\(id)/api-key")
        guard case .string(let newKey)? = rotated.data?["apiKey"] else { Issue.record("\(rotated.text)"); return }
        // The old key is refused at once on this instance.
        #expect(try server.post("/api/plugins/webhook/\(id)/issues", RoutesTests.issue("A-2"), key: key).status == 403)
        #expect(try server.post("/api/plugins/webhook/\(id)/issues", RoutesTests.issue("A-2"), key: newKey).status == 200)

        let deleted = try call("DELETE", "/connections/\(id)")
        #expect(deleted.status == 200)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM issues WHERE _raw_data_params = $1", [String(id)]) == 2)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_scopes WHERE id = $1", ["webhook:\(id)"]) == 0)
        #expect(try server.post("/api/plugins/webhook/\(id)/issues", RoutesTests.issue("A-3"), key: newKey).status == 403)  // as a wrong key: no enumeration
    }

    @Test("delete with purge leaves no row of that connection")
    func purge() throws {
        let (connection, key) = try server.newConnection("purge")
        let base = "/api/rest/plugins/webhook/connections/\(connection.id)"
        #expect(try server.post("\(base)/issues", RoutesTests.issue("P-1", type: "INCIDENT", extra: #","assignee_id":"x","board_key":"B""#), key: key).status == 200)
        let task = #"{"pipeline_name":"p","name":"t","result":"SUCCESS","status":"DONE","type":"DEPLOYMENT","environment":"PRODUCTION","started_date":"2024-01-01T00:00:00Z","repo_id":"r","commit_sha":"abc"}"#
        #expect(try server.post("\(base)/cicd_tasks", task, key: key).status == 200)
        #expect(try server.post("\(base)/cicd_pipeline/p/finish", key: key).status == 200)
        #expect(try server.post("\(base)/deployments", CurrentAPITests.deployment(commits: [(repo: "r", sha: "s", result: nil)]), key: key).status == 200)
        #expect(try server.post("\(base)/pull_requests", #"{"pullRequestKey":1,"displayTitle":"t","createdDate":"2024-01-01"}"#, key: key).status == 200)
        #expect(try LakehookDatabase.footprint(of: connection).values.allSatisfy { $0 > 0 })

        let deleted = try call("DELETE", "/connections/by-name/\(connection.name)?purge=true")
        #expect(deleted.status == 200, "\(deleted.text)")
        #expect(try LakehookDatabase.footprint(of: connection).values.allSatisfy { $0 == 0 })
        for table in ["cicd_scopes", "boards", "repos"] {
            #expect(try LakehookDatabase.count("SELECT count(*) FROM \(table) WHERE id LIKE $1", ["\(connection.scopeId)%"]) == 0)
        }
        #expect(try LakehookDatabase.count("SELECT count(*) FROM webhook_connections WHERE id = $1", [String(connection.id)]) == 0)
    }

    @Test("without the admin token 401, with a wrong one 403")
    func guarded() throws {
        #expect(try server.request("GET", "/api/rest/plugins/webhook/connections").status == 401)
        #expect(try server.request("GET", "/api/rest/plugins/webhook/connections", headers: [("Authorization", "Bearer nope")]).status == 403)
        let (connection, key) = try server.newConnection("notadmin")
        // A connection's API key is not an admin token.
        #expect(try server.request("DELETE", "/api/plugins/webhook/connections/\(connection.id)", headers: [("Authorization", "Bearer \(key)")]).status == 403)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM webhook_connections WHERE id = $1", [String(connection.id)]) == 1)
    }

    @Test("with no admin token configured, HTTP administration is off")
    func off() throws {
        let plain = try TestServer(adminToken: nil)
        defer { plain.stop() }
        let reply = try plain.request("GET", "/api/rest/plugins/webhook/connections", headers: admin)
        #expect(reply.status == 403)
        #expect(reply.text.contains("LAKEHOOK_ADMIN_TOKEN"))
        #expect(try plain.request("POST", "/api/rest/plugins/webhook/connections", body: #"{"name":"x"}"#, headers: admin).status == 403)
    }

    @Test("bad administration requests: missing name, duplicate name, bad id, blank project")
    func badRequests() throws {
        #expect(try call("POST", "/connections", "{}").causes == ["name: is required"])
        let blank = try call("POST", "/connections", #"{"name":"blank-\#(UUID().uuidString.prefix(8))","project":"  "}"#)
        #expect(blank.status == 400 && blank.causes == ["project: must not start or end with a space"], "\(blank.text)")
        #expect(try call("POST", "/connections", #"{"name":"padded-\#(UUID().uuidString.prefix(8))","project":"shop "}"#).status == 400)
        let (connection, _) = try server.newConnection("dup")
        #expect(try call("POST", "/connections", #"{"name":"\#(connection.name)"}"#).status == 409)
        #expect(try call("GET", "/connections/abc").status == 400)
        #expect(try call("PATCH", "/connections/\(connection.id)", #"{"name":""}"#).status == 400)
    }
}
