import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// A newcomer's first hour (issue 15): what `make run` prints works when pasted, again and after
/// the next `make run`; a command without a database says what to set; a refusal names the way
/// that works; an answer ends its line.
@Suite("The first hour")
struct FirstHourTests {
    /// Runs `lakehook ARGUMENTS` with exactly `environment` (plus PATH), so no DATABASE_URL leaks in.
    static func lakehook(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, out: String, err: String) {
        try CommandLineBinaryTests.run(arguments, exactEnvironment: environment.merging(
            ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) { a, _ in a })
    }

    /// The lines under "Try it:", without their indent.
    static func sampleLines(_ output: String) -> [String] {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("Try it:") }) else { return [] }
        return lines[(start + 1)...].filter { $0.hasPrefix("  ") }.map { String($0.dropFirst(2)) }
    }

    /// Pastes `lines` into bash as a person would; returns what it printed.
    static func paste(_ lines: [String]) throws -> String {
        try runProgram(["/bin/bash"], input: lines.joined(separator: "\n") + "\n", mergingErrors: true).out
    }

    /// Six answers, one per curl line, each `"success":true`.
    static func expectEveryWriteSucceeds(_ printed: String) {
        let answers = printed.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(answers.count == 6 && answers.allSatisfy { $0.contains(#""success":true"#) }, "\(printed)")
    }

    @Test("the sample lines of connections create and of the next run's rotate-key answer 200 for every route, pasted twice")
    func sampleLinesCanBePastedAgain() throws {
        _ = LakehookDatabase.pool
        let server = TestServer.shared
        let name = "first-hour-\(UUID().uuidString.prefix(8))"
        let environment = ["LAKEHOOK_PUBLIC_URL": "http://127.0.0.1:\(server.port)"]
        let created = try CommandLineBinaryTests.lakehook(["connections", "create", name], environment: environment)
        #expect(created.status == 0, "\(created.err)")
        // Every label whole (postPipelineDeployTaskEndpoint was cut to postPipelineDeployTaskEndp).
        for label in ["postIssuesEndpoint", "closeIssuesEndpoint", "postPipelineTaskEndpoint", "closePipelineEndpoint",
                      "postPipelineDeployTaskEndpoint", "postPullRequestsEndpoint"] {
            #expect(created.out.contains("  \(label) "), "\(label) in \(created.out)")
        }
        let lines = Self.sampleLines(created.out)
        #expect(lines.count == 7, "\(created.out)")
        for route in ["/issues", "/close", "/cicd_tasks", "/finish", "/deployments", "/pull_requests"] {
            #expect(lines.contains { $0.contains(route) }, "no sample for \(route)")
        }
        for _ in 1...2 { try Self.expectEveryWriteSucceeds(Self.paste(lines)) }
        // The next `make run` rotates the key and prints the lines again, with the new key.
        let rotated = try CommandLineBinaryTests.lakehook(["connections", "rotate-key", name], environment: environment)
        #expect(rotated.status == 0, "\(rotated.err)")
        // `make run` starts a new server after rotating; this one remembers the old key for a few seconds.
        server.service.directory.forget()
        try Self.expectEveryWriteSucceeds(Self.paste(Self.sampleLines(rotated.out)))
        let id = try #require(try LakehookDatabase.value("SELECT id FROM webhook_connections WHERE name = $1", [name]))
        #expect(try LakehookDatabase.count(
            "SELECT count(*) FROM cicd_pipelines WHERE _raw_data_params = $1 AND status = 'DONE'", [id]) == 3)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_deployments WHERE _raw_data_params = $1", [id]) == 1)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM pull_requests WHERE _raw_data_params = $1", [id]) == 1)
    }

    /// Runs `scripts/demo-github.sh` as `make run` does (the binary, the connection's name), with
    /// the test database and server; returns what it printed.
    static func demoGitHub(_ name: String, publicURL: String) throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = TestDatabase.config().conninfo
        environment["LAKEHOOK_PUBLIC_URL"] = publicURL
        let run = try runProgram(
            ["/bin/bash", PythonTools.projectRoot.appendingPathComponent("scripts/demo-github.sh").path,
             CommandLineBinaryTests.binary.path, name],
            environment: environment, mergingErrors: true)
        #expect(run.status == 0, "\(run.out)")
        return run.out
    }

    /// The lines under "Try GitHub:", without their indent.
    static func githubLines(_ output: String) -> [String] {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("Try GitHub:") }) else { return [] }
        return lines[(start + 1)...].filter { $0.hasPrefix("  ") }.map { String($0.dropFirst(2)) }
    }

    @Test("make run's GitHub connection: the printed openssl-signed curl of the sample deployment_status answers 200 and writes the deployment, pasted twice and after the next run's new secret")
    func githubSampleCurl() throws {
        _ = LakehookDatabase.pool
        let server = TestServer.shared
        let name = "demo-github-\(UUID().uuidString.prefix(8))"
        let publicURL = "http://127.0.0.1:\(server.port)"
        let first = try Self.demoGitHub(name, publicURL: publicURL)
        let id = try #require(try LakehookDatabase.value("SELECT id FROM webhook_connections WHERE name = $1", [name]), "\(first)")
        #expect(try LakehookDatabase.value("SELECT source || ' ' || project_name FROM webhook_connections WHERE id = $1", [id]) == "github demo")
        #expect(first.contains("Payload URL:   \(publicURL)/api/plugins/webhook/sources/github/\(id)"), "\(first)")
        let lines = Self.githubLines(first)
        #expect(lines.count == 3 && lines[1].contains("openssl dgst") && lines[2].contains("X-Hub-Signature-256: sha256=$sig"), "\(first)")
        func expectDeploymentWritten(_ printed: String) {
            let answers = printed.split(separator: "\n").filter { $0.hasPrefix("{") }
            #expect(answers.count == 1 && answers[0].contains(#""success":true"#) && answers[0].contains("145988746"), "\(printed)")
        }
        for _ in 1...2 { try expectDeploymentWritten(Self.paste(lines)) }
        #expect(try LakehookDatabase.value(
            "SELECT environment || ' ' || result FROM cicd_deployments WHERE id = $1", ["webhook:\(id):145988746"]) == "PRODUCTION SUCCESS")
        #expect(try LakehookDatabase.count(
            "SELECT count(*) FROM cicd_deployment_commits WHERE cicd_deployment_id = $1 AND commit_sha = $2",
            ["webhook:\(id):145988746", "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"]) == 1)
        // The next `make run` gives the connection a new secret (no grace) and prints new lines;
        // its server is a new one, which knows the new secret at once.
        let second = try Self.demoGitHub(name, publicURL: publicURL)
        server.service.directory.forget()
        try expectDeploymentWritten(Self.paste(Self.githubLines(second)))
        #expect(try Self.paste(lines).contains(#""code":401"#), "the previous run's secret no longer signs")
        #expect(try LakehookDatabase.value("SELECT count(*) FROM webhook_connections WHERE name = $1", [name]) == "1")
    }

    @Test("every minimal body in the README's table of routes is accepted, and so are the close and finish after them")
    func readmeMinimalBodies() throws {
        let readme = try String(contentsOf: PythonTools.projectRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| `{conn}/") }
        #expect(rows.count == 6, "the table has a row per route")
        let server = TestServer.shared
        let (connection, key) = try server.newConnection("readme")
        let base = "/api/plugins/webhook/\(connection.id)"
        var posted = 0
        for row in rows {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let route = cells.first?.dropFirst("`{conn}".count).dropLast(), cells.count >= 3,
                cells[2].hasPrefix("`{"), cells[2].hasSuffix("}`")
            else { continue }
            let body = String(cells[2].dropFirst().dropLast())
            let reply = try server.post(base + route, body, key: key)
            #expect(reply.status == 200, "\(route): \(reply.text)")
            posted += 1
        }
        #expect(posted == 4)
        // The bodies name issue DLK-1 and pipeline build-42.
        #expect(try server.post(base + "/issue/DLK-1/close", key: key).status == 200)
        #expect(try server.post(base + "/cicd_pipeline/build-42/finish", key: key).status == 200)
    }

    @Test("lakehook dora without a database names DATABASE_URL and the value make run prints, not libpq's socket error alone")
    func commandWithoutDatabase() throws {
        let unset = try Self.lakehook(
            ["dora", "--project", "shop"], environment: ["PGHOST": "/nonexistent-lakehook", "LAKEHOOK_DEV_PGPORT": "54399"])
        #expect(unset.status == 1)
        #expect(unset.err.contains("DATABASE_URL is not set"), "\(unset.err)")
        #expect(unset.err.contains("export DATABASE_URL=postgres://postgres@127.0.0.1:54399/lakehook"), "\(unset.err)")
        #expect(unset.err.contains("make run"), "\(unset.err)")

        let wrong = try Self.lakehook(["connections", "list"], environment: ["DATABASE_URL": "postgres://nobody@127.0.0.1:1/x"])
        #expect(wrong.status == 1)
        #expect(wrong.err.contains("DATABASE_URL is set, but"), "\(wrong.err)")
        #expect(wrong.err.contains("export DATABASE_URL=postgres://postgres@127.0.0.1:54329/lakehook"), "\(wrong.err)")
    }

    @Test("with administration off, /dora and /api/dora name lakehook dora as the way that works without the token")
    func doraRefusalNamesTheCommand() throws {
        let server = try TestServer(adminToken: nil)
        defer { server.stop() }
        let page = try server.request("GET", "/dora")
        #expect(page.status == 403)
        #expect(page.text.contains("LAKEHOOK_ADMIN_TOKEN") && page.text.contains("lakehook dora"), "\(page.text)")
        let api = try server.request("GET", "/api/dora?project=x")
        #expect(api.status == 403)
        #expect(api.json?["message"] == .string(
            "administration over HTTP is off: set LAKEHOOK_ADMIN_TOKEN, or use lakehook dora --json, which works without it"))
        let connections = try server.request("GET", "/api/plugins/webhook/connections")
        #expect(connections.text.contains("or use lakehook connections, which works without it"), "\(connections.text)")
    }

    @Test("an answer body ends with a newline, success or refusal, so a shell prompt after curl starts on its own line")
    func answersEndWithANewline() throws {
        let server = TestServer.shared
        let (connection, key) = try server.newConnection("newline")
        let ok = try server.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("NL-1"), key: key)
        let refused = try server.post("/api/plugins/webhook/\(connection.id)/issues", "{}", key: key)
        let unknown = try server.request("GET", "/no/such/route")
        let live = try server.request("GET", "/livez")
        for reply in [ok, refused, unknown, live] {
            #expect(reply.body.last == UInt8(ascii: "\n"), "\(reply.status): \(reply.text)")
            #expect(reply.json != nil, "still one JSON document: \(reply.text)")
            #expect(reply.header("Content-Length") == String(reply.body.count))
        }
        #expect(ok.status == 200 && refused.status == 400 && unknown.status == 404)
        // A refusal of the HTTP layer's own (a malformed request) too.
        let client = try TestClient(port: server.port, timeoutSeconds: 15)
        try client.send(Array("GET / HTTP/9.9\r\nHost: x\r\n\r\n".utf8))
        let malformed = try client.receive()
        #expect(malformed.status >= 400 && malformed.body.last == UInt8(ascii: "\n"), "\(malformed.text)")
    }
}
