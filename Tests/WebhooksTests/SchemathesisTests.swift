import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// Schemathesis against the live server, reading the document the server serves: no answer may be
/// a server error or fall outside what the document says (status, Content-Type, body schema).
@Suite("Schemathesis against the live server")
struct SchemathesisTests {
    let server = TestServer.shared

    /// One prefix with its three connection forms and its administration, plus the operations
    /// routes. The other three prefixes are served by the same handlers (the document tests check
    /// that every documented path is routed), and fuzzing all four would quadruple the run.
    static let paths = #"^/api/rest/plugins/webhook/|^/(livez|readyz|healthz|metrics|api/openapi\.json)$"#

    static let checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"

    /// Path parameters pinned to the test's own connections, every security scheme given its
    /// credentials; administration works on a connection of its own, which it may rename, re-key
    /// or delete. Nothing is kept between runs (no example database, no cache).
    static func configuration(
        connection: DevLakeConnection, key: String, victim: DevLakeConnection
    ) -> String {
        """
        [generation]
        database = "none"

        [cache]
        enabled = false

        [parameters]
        "path.connectionId" = \(connection.id)
        "path.connectionName" = "\(connection.name)"

        [auth.openapi.apiKey]
        bearer = "\(key)"

        [auth.openapi.apiKeyBasic]
        username = "schemathesis"
        password = "\(key)"

        [auth.openapi.adminToken]
        bearer = "\(TestServer.adminToken)"

        [[operations]]
        include-tag = "administration"
        parameters = { "path.connectionId" = \(victim.id), "path.connectionName" = "\(victim.name)" }

        """
    }

    @Test("schemathesis finds no server error and no answer outside the document", .timeLimit(.minutes(5)))
    func fuzz() throws {
        let schemathesis = try PythonTools.tool("schemathesis")
        let (connection, key) = try server.newConnection("schemathesis")
        let (victim, _) = try server.newConnection("schemathesis-admin")
        defer {
            _ = try? server.service.store.delete(.id(connection.id), purge: true)
            _ = try? server.service.store.delete(.id(victim.id), purge: true)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("schemathesis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("schemathesis.toml")
        try Self.configuration(connection: connection, key: key, victim: victim).write(to: config, atomically: true, encoding: .utf8)

        let base = "http://127.0.0.1:\(server.port)"
        let arguments = [
            "--config-file", config.path, "run", "\(base)/api/openapi.json",
            "--checks", Self.checks,
            "--phases", "examples,coverage,fuzzing",
            "--max-examples", "30",
            "--workers", "1",
            "--request-timeout", "15",
            "--include-path-regex", Self.paths,
            // Creating connections with generated names would leave them behind in the shared test
            // database, indistinguishable from other tests' connections; AdministrationTests covers it.
            "--exclude-operation-id", "createConnectionApiRest",
            "--no-color",
        ]
        let started = ContinuousClock.now
        let run = try PythonTools.run(schemathesis, arguments, in: folder, timeout: 280)
        let elapsed = ContinuousClock.now - started
        // The last run's report, for a person to read (.lakehook/ is not tracked).
        try? "schemathesis \(arguments.joined(separator: " "))\n\(run.output)".write(
            to: PythonTools.projectRoot.appendingPathComponent(".lakehook/schemathesis-last.log"), atomically: true, encoding: .utf8)
        #expect(run.status == 0, "schemathesis \(arguments.joined(separator: " ")) exited \(run.status) after \(elapsed):\n\(run.output)")
        let selected = Self.number(after: "Selected: ", in: run.output)
        #expect(selected != nil && selected == Self.number(after: "Tested: ", in: run.output) && selected! >= 30,
                "not every selected operation was tested:\n\(run.output)")
    }

    /// The whole number that follows `label` in schemathesis's summary.
    static func number(after label: String, in output: String) -> Int? {
        guard let range = output.range(of: label, options: .backwards) else { return nil }
        return Int(output[range.upperBound...].prefix { $0.isNumber })
    }
}

/// Defects schemathesis and review found, each fixed; the document's bounds stay within them.
@Suite("Regressions found by schemathesis")
struct SchemathesisRegressionTests {
    let server = TestServer.shared

    @Test("a deployment title over 255 characters answered 500: commit names derived from it overflowed varchar(255)")
    func longDeploymentTitle() throws {
        let (connection, key) = try server.newConnection("defect-title")
        let title = String(repeating: "t", count: 256)
        let bodies = [
            #"{"id":"d-1","displayTitle":"\#(title)","startedDate":"2024-01-01T00:00:00Z","finishedDate":"2024-01-01T00:01:00Z","deploymentCommits":[{"repoUrl":"r","commitSha":"abc"}]}"#,
            #"{"repo_url":"r","commit_sha":"abc","display_title":"\#(title)","start_time":"2024-01-01T00:00:00Z","end_time":"2024-01-01T00:01:00Z"}"#,
        ]
        for body in bodies {
            let reply = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/deployments", body, key: key)
            #expect(reply.status == 200, "\(reply.text)")
        }
        // The title is kept whole; the commit's derived name is cut to its column.
        #expect(try LakehookDatabase.value("SELECT length(display_title) FROM cicd_deployments WHERE id = $1", [connection.rowId("d-1")]) == "256")
        #expect(try LakehookDatabase.value("SELECT max(length(name)) FROM cicd_deployment_commits WHERE cicd_scope_id = $1", [connection.scopeId]) == "255")
        // A deployment *name* over 255 characters is the client's mistake: 400 naming it.
        let named = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/deployments",
            #"{"id":"d-2","name":"\#(title)","startedDate":"2024-01-01T00:00:00Z","finishedDate":"2024-01-01T00:01:00Z","deploymentCommits":[{"repoUrl":"r","commitSha":"abc"}]}"#, key: key)
        #expect(named.status == 400 && named.causes == ["name: is longer than 255 characters"], "\(named.text)")
    }

    @Test("an issue type that upper-cases past 100 characters answered 500: it was checked before upper-casing")
    func expandingIssueType() throws {
        let (connection, key) = try server.newConnection("defect-type")
        // 60 characters, each of which upper-cases to two ("SS"): 120 once upper-cased.
        let type = String(repeating: "ß", count: 60)
        let body = #"{"issue_key":"K-1","title":"t","status":"TODO","original_status":"o","created_date":"2024-01-01","type":"\#(type)"}"#
        let reply = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/issues", body, key: key)
        #expect(reply.status == 400, "\(reply.text)")
        #expect(reply.causes == ["type: is longer than 100 characters once upper-cased"])
        let fits = body.replacingOccurrences(of: type, with: String(repeating: "ß", count: 50))
        #expect(try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/issues", fits, key: key).status == 200)
    }
}
