import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// API.md §2, §4, §6: a field some DevLake versions name differently is read from its alias when
/// the canonical name carries no value. `""` carries none on a date (or a required id), as it does
/// everywhere else — yet `{"started_date":"","created_date":"..."}` answered
/// `started_date: is required`, because an empty canonical field still hid its alias.
@Suite("Aliases behind an empty canonical field")
struct AliasTests {
    let server = TestServer.shared

    static let task = #"{"pipeline_name":"p","name":"t","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"","created_date":"2021-01-01T00:00:00Z","repo_id":"r"}"#

    @Test("a task's empty started_date gives way to created_date")
    func taskStartedDate() throws {
        let (connection, key) = try server.newConnection("alias-task")
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/cicd_tasks", Self.task, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try LakehookDatabase.value(
            "SELECT started_date = '2021-01-01T00:00:00Z' FROM cicd_tasks WHERE id = $1", [connection.rowId("p:t")]) == "t")
        // Neither carrying a value: the canonical name is the one reported.
        let neither = Self.task.replacingOccurrences(of: #""created_date":"2021-01-01T00:00:00Z""#, with: #""created_date":"""#)
        let refused = try server.post("/api/plugins/webhook/\(connection.id)/cicd_tasks", neither, key: key)
        #expect(refused.status == 400 && refused.causes == ["started_date: is required"], "\(refused.text)")
    }

    /// A deployment with one commit in which one canonical field is `""` and its alias is set,
    /// and the column that must hold the alias's value.
    static let deploymentCases: [(label: String, deployment: String, commit: String, check: String)] = [
        ("id / pipeline_id", #""id":"","pipeline_id":"pl""#, "", "d.id LIKE '%:pl'"),
        ("startedDate / start_time", #""startedDate":"","start_time":"2021-06-01T10:30:00Z""#, "",
         "d.started_date = '2021-06-01T10:30:00Z'"),
        ("finishedDate / end_time", #""finishedDate":"","end_time":"2021-06-01T12:00:00Z""#, "",
         "d.finished_date = '2021-06-01T12:00:00Z'"),
        ("createdDate / create_time", #""createdDate":"","create_time":"2021-06-01T09:00:00Z""#, "",
         "d.created_date = '2021-06-01T09:00:00Z'"),
        ("commit createdDate / create_time", "", #","createdDate":"","create_time":"2021-06-01T09:15:00Z""#,
         "c.created_date = '2021-06-01T09:15:00Z'"),
        ("commit startedDate / start_time", "", #","startedDate":"","start_time":"2021-06-01T10:15:00Z""#,
         "c.started_date = '2021-06-01T10:15:00Z'"),
        ("commit finishedDate / end_time", "", #","finishedDate":"","end_time":"2021-06-01T10:45:00Z""#,
         "c.finished_date = '2021-06-01T10:45:00Z'"),
    ]

    @Test("each deployment alias is read when its canonical field is \"\"", arguments: 0..<deploymentCases.count)
    func deploymentAlias(_ index: Int) throws {
        let sample = Self.deploymentCases[index]
        let (connection, key) = try server.newConnection("alias-deploy")
        // The fields the case replaces are left out of the base body.
        var fields = [#""id":"d""#, #""startedDate":"2021-06-01T10:00:00Z""#, #""finishedDate":"2021-06-01T11:00:00Z""#]
        fields.removeAll { field in sample.deployment.contains(field.split(separator: ":")[0] + ":") }
        if !sample.deployment.isEmpty { fields.append(sample.deployment) }
        let body = "{\(fields.joined(separator: ",")),\"deploymentCommits\":[{\"repoUrl\":\"u\",\"commitSha\":\"s\"\(sample.commit)}]}"
        let reply = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/deployments", body, key: key)
        #expect(reply.status == 200, "\(sample.label): \(body) → \(reply.text)")
        #expect(try LakehookDatabase.value("""
            SELECT \(sample.check) FROM cicd_deployments d JOIN cicd_deployment_commits c ON c.cicd_deployment_id = d.id
            WHERE d.cicd_scope_id = $1
            """, [connection.scopeId]) == "t", "\(sample.label): \(body)")
    }

    @Test("the FieldReader alias readers skip a canonical \"\" and still prefer a canonical value")
    func fieldReader() throws {
        func reader(_ json: String) throws -> FieldReader {
            guard case .object(let object) = try JSONParser.parse(Array(json.utf8)) else { throw TestFailure("not an object") }
            return FieldReader(object)
        }
        var r = try reader(#"{"a":"","b":"2020-01-01","x":"","y":"why"}"#)
        #expect(r.timestamp("a", alias: "b") == TimestampParser.parse("2020-01-01"))
        #expect(r.string("x", alias: "y", required: true) == "why")
        #expect(r.causes.isEmpty)
        var both = try reader(#"{"a":"2021-01-01","b":"2020-01-01","x":"ex","y":"why"}"#)
        #expect(both.timestamp("a", alias: "b") == TimestampParser.parse("2021-01-01"))
        #expect(both.string("x", alias: "y") == "ex")
        var none = try reader(#"{"a":"","b":null}"#)
        #expect(none.timestamp("a", alias: "b", required: true) == nil)
        #expect(none.causes == ["a: is required"])
    }
}
