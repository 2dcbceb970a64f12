import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// The `lakehook` binary itself, as a person runs it.
@Suite("The lakehook binary")
struct CommandLineBinaryTests {
    /// The binary every process-level test starts: `LAKEHOOK_TEST_BINARY` when set (CI points
    /// it at the static release binary `make release` builds, the one the image ships), else
    /// the debug build next to the tests.
    static var binary: URL {
        if let given = ProcessInfo.processInfo.environment["LAKEHOOK_TEST_BINARY"], !given.isEmpty {
            return URL(fileURLWithPath: given)
        }
        let folder = Bundle.main.executableURL?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return folder.appendingPathComponent("lakehook")
    }

    /// Runs the binary with the test database's PG* settings.
    static func lakehook(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = TestDatabase.config().conninfo
        for (k, v) in extra { env[k] = v }
        return try run(arguments, exactEnvironment: env)
    }

    /// Runs the binary with exactly `environment`.
    static func run(_ arguments: [String], exactEnvironment environment: [String: String]) throws -> (status: Int32, out: String, err: String) {
        let run = try runProgram([binary.path] + arguments, environment: environment)
        return (run.status, run.out, run.err)
    }

    @Test("the binary under test exists (LAKEHOOK_TEST_BINARY, else the one built next to the tests)")
    func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary.path), "no lakehook at \(Self.binary.path)")
        print("lakehook-test: the process-level tests run \(Self.binary.path)")
    }

    @Test("connections create --json prints id, name and the key, which then works; list never shows it")
    func createListRotateDelete() throws {
        _ = LakehookDatabase.pool
        let server = try TestServer(cacheTTL: .milliseconds(50))
        defer { server.stop() }
        let name = "cli-\(UUID().uuidString.prefix(8))"
        let created = try Self.lakehook(["connections", "create", name, "--json"])
        #expect(created.status == 0, "\(created.err)")
        guard case .object(let json)? = try? JSONParser.parse(Array(created.out.utf8)),
              case .number(let idText)? = json["id"], let id = Int64(idText),
              case .string(let key)? = json["apiKey"]
        else { Issue.record("not the expected JSON: \(created.out)"); return }
        #expect(json["name"] == .string(name))
        #expect(json["postIssuesEndpoint"] == .string("http://127.0.0.1:4000/api/plugins/webhook/\(id)/issues"))
        let body = RoutesTests.issue("CLI-1")
        #expect(try server.post("/api/plugins/webhook/\(id)/issues", body, key: key).status == 200)

        let listed = try Self.lakehook(["connections", "list"])
        #expect(listed.status == 0 && listed.out.contains(name) && !listed.out.contains(key))

        let rotated = try Self.lakehook(["connections", "rotate-key", name, "--json"])
        #expect(rotated.status == 0)
        guard case .object(let rotatedJSON)? = try? JSONParser.parse(Array(rotated.out.utf8)),
              case .string(let newKey)? = rotatedJSON["apiKey"] else { Issue.record("\(rotated.out)"); return }
        usleep(100_000)
        #expect(try server.post("/api/plugins/webhook/\(id)/issues", body, key: key).status == 403)
        #expect(try server.post("/api/plugins/webhook/\(id)/issues", body, key: newKey).status == 200)

        let stored = try LakehookDatabase.value("SELECT api_key_hash FROM webhook_connections WHERE id = $1", [String(id)])
        #expect(stored == APIKey.hash(of: newKey))
        #expect(try LakehookDatabase.count("SELECT count(*) FROM webhook_connections WHERE api_key_hash = $1 OR api_key_hint = $1", [newKey]) == 0)

        let deleted = try Self.lakehook(["connections", "delete", String(id), "--purge"])
        #expect(deleted.status == 0, "\(deleted.err)")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM issues WHERE _raw_data_params = $1", [String(id)]) == 0)
        usleep(100_000)
        #expect(try server.post("/api/plugins/webhook/\(id)/issues", body, key: newKey).status == 403)  // as a wrong key: no enumeration
    }

    @Test("the human form of create prints the key, the endpoints and a curl line per route")
    func createHuman() throws {
        let name = "cli-human-\(UUID().uuidString.prefix(8))"
        let created = try Self.lakehook(["connections", "create", name], environment: ["LAKEHOOK_PUBLIC_URL": "https://hooks.example.com"])
        #expect(created.status == 0, "\(created.err)")
        #expect(created.out.contains("API key"))
        #expect(created.out.contains("HOOK='https://hooks.example.com/api/plugins/webhook/"))
        #expect(created.out.contains("KEY='lhk_"))
        #expect(created.out.contains(#"-H "Authorization: Bearer $KEY""#))
        // The brief's four, a deployment and a pull request (FirstHourTests pastes them).
        #expect(created.out.components(separatedBy: "\n  curl ").count == 7)
    }

    @Test("bad configuration stops with a message and exit status 2")
    func badConfiguration() throws {
        let result = try Self.lakehook(["migrate"], environment: ["LAKEHOOK_DB_POOL_SIZE": "lots"])
        #expect(result.status == 2)
        #expect(result.err.contains("LAKEHOOK_DB_POOL_SIZE"))
    }

    @Test("--help lists the commands and variables; an unknown command is a usage error")
    func help() throws {
        let help = try Self.lakehook(["--help"])
        #expect(help.status == 0 && help.out.contains("connections create") && help.out.contains("LAKEHOOK_LISTEN"))
        let unknown = try Self.lakehook(["frobnicate"])
        #expect(unknown.status == 2 && unknown.err.contains("unknown command"))
    }
}
