import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// A real nginx (Debian's) with docker/nginx.conf in front of a real `lakehook serve`, on loopback:
/// the brief's calls, a chunked upload, the body limit and the client address, through the proxy.
@Suite("Production: nginx in front of Lakehook")
struct ProductionProxyTests {
    /// One Lakehook (trusting 127.0.0.1, where nginx connects from) over the test database, nginx
    /// in front, and a connection of the test's own.
    final class Stack: @unchecked Sendable {
        let lakehook: LakehookProcess
        let nginx: NginxProcess
        let connection: DevLakeConnection
        let key: String

        init() throws {
            _ = LakehookDatabase.pool
            (connection, key) = try {
                let (connection, key) = try DevLakeConnectionStore(pool: LakehookDatabase.pool).create(name: "nginx-\(UUID().uuidString.prefix(13))")
                return (connection, key.plaintext)
            }()
            lakehook = try LakehookProcess(
                databaseURL: TestDatabase.config().conninfo, environment: ["LAKEHOOK_TRUSTED_PROXIES": "127.0.0.1"])
            nginx = try NginxProcess(upstreamPorts: [lakehook.port])
        }

        var base: String { "http://127.0.0.1:\(nginx.port)/api/plugins/webhook/\(connection.id)" }
        var auth: [String] { ["-H", "Authorization: Bearer \(key)"] }
    }

    @Test("the brief's four sample calls, verbatim through nginx, answer 200 and leave their rows")
    func briefSampleCallsThroughNginx() throws {
        let stack = try Stack()
        defer { stack.nginx.stop() }
        let id = stack.connection.id

        let created = try curlExchange(["\(stack.base)/issues", "-X", "POST"] + stack.auth + ["-d", BriefSampleCallsTests.issueBody])
        #expect(created.status == 200, "\(created.body)\n\(stack.nginx.errorLog)")
        #expect(created.body.contains(#""success":true"#))
        #expect(created.header("Content-Type")?.hasPrefix("application/json") == true)
        let closed = try curlExchange(["\(stack.base)/issue/DLK/DLK-1234/close", "-X", "POST"] + stack.auth)
        #expect(closed.status == 200, "\(closed.body)")
        let task = try curlExchange(["\(stack.base)/cicd_tasks", "-X", "POST"] + stack.auth + ["-d", BriefSampleCallsTests.taskBody])
        #expect(task.status == 200, "\(task.body)")
        let finished = try curlExchange(["\(stack.base)/cicd_pipeline/A123/finish", "-X", "POST"] + stack.auth + ["-d", ""])
        #expect(finished.status == 200, "\(finished.body)")

        let issue = try #require(try LakehookDatabase.rows(
            "SELECT title, status, resolution_date IS NOT NULL AS resolved FROM issues WHERE id = $1", ["webhook:\(id):DLK-1234"]).first)
        #expect(issue["title"] == "a feature from DLK" && issue["status"] == "DONE" && issue["resolved"] == "t")
        #expect(try LakehookDatabase.value(
            "SELECT result || '/' || status FROM cicd_tasks WHERE id = $1", ["webhook:\(id):A123:unit-test"]) == "ABORT/DONE")
        let pipeline = try #require(try LakehookDatabase.rows(
            "SELECT status, result, type, environment, duration_sec FROM cicd_pipelines WHERE id = $1", ["webhook:\(id):A123"]).first)
        #expect(pipeline["status"] == "DONE" && pipeline["result"] == "ABORT")
        #expect(pipeline["type"] == "TEST" && pipeline["environment"] == "PRODUCTION" && pipeline["duration_sec"] == "3599")
        #expect(try LakehookDatabase.count(
            "SELECT count(*) FROM cicd_pipeline_commits WHERE pipeline_id = $1", ["webhook:\(id):A123"]) == 1)
    }

    @Test("a chunked upload passes through nginx and is stored whole; a body over Lakehook's limit is its JSON 413")
    func chunkedUploadAndBodyLimitThroughNginx() throws {
        let stack = try Stack()
        defer { stack.nginx.stop() }
        let folder = stack.nginx.folder
        // 300 000 characters of description: several of curl's upload chunks.
        let description = String(repeating: "0123456789abcdef", count: 18_750)
        let body = #"{"issue_key":"CH-1","title":"chunked","type":"BUG","status":"TODO","original_status":"open","created_date":"2024-01-01T00:00:00Z","description":"\#(description)"}"#
        let file = folder.appendingPathComponent("chunked.json")
        try body.write(to: file, atomically: true, encoding: .utf8)
        let chunked = try curlExchange(
            ["\(stack.base)/issues", "-X", "POST", "-H", "Transfer-Encoding: chunked", "--data-binary", "@\(file.path)"] + stack.auth)
        #expect(chunked.status == 200, "\(chunked.body)\n\(stack.nginx.errorLog)")
        #expect(try LakehookDatabase.value(
            "SELECT md5(description) = md5($2) FROM issues WHERE id = $1", ["webhook:\(stack.connection.id):CH-1", description]) == "t")

        // 1.5 MiB: under nginx's client_max_body_size (2m), over Lakehook's 1 MiB. The answer must
        // be Lakehook's JSON 413, not nginx's HTML page or a 502.
        let large = #"{"issue_key":"BIG-1","title":"big","type":"BUG","status":"TODO","original_status":"open","created_date":"2024-01-01T00:00:00Z","description":"\#(String(repeating: "x", count: 1_572_864))"}"#
        let largeFile = folder.appendingPathComponent("large.json")
        try large.write(to: largeFile, atomically: true, encoding: .utf8)
        for framing in [[], ["-H", "Transfer-Encoding: chunked"]] {
            let refused = try curlExchange(["\(stack.base)/issues", "-X", "POST", "--data-binary", "@\(largeFile.path)"] + framing + stack.auth)
            #expect(refused.status == 413, "\(framing): \(refused.body)\n\(stack.nginx.errorLog)")
            #expect(refused.body.hasPrefix(#"{"code":413,"success":false"#), "\(framing): \(refused.body)")
        }
        #expect(try LakehookDatabase.count("SELECT count(*) FROM issues WHERE id = $1", ["webhook:\(stack.connection.id):BIG-1"]) == 0)
    }

    @Test("the logged client is the address nginx saw (127.0.0.2), not a forged X-Forwarded-For; direct callers cannot forge it")
    func loggedClientAddress() throws {
        let stack = try Stack()
        defer { stack.nginx.stop() }
        let issue = #"{"issue_key":"IP-1","title":"t","type":"BUG","status":"TODO","original_status":"open","created_date":"2024-01-01T00:00:00Z"}"#

        // Through nginx from 127.0.0.2; nginx sets X-Request-ID to its $request_id and Lakehook echoes it.
        for forged in [[], ["-H", "X-Forwarded-For: 6.6.6.6"]] {
            let reply = try curlExchange(
                ["--interface", "127.0.0.2", "\(stack.base)/issues", "-X", "POST", "-d", issue] + forged + stack.auth)
            #expect(reply.status == 200, "\(reply.body)")
            let requestId = try #require(reply.header("X-Request-ID"), "no X-Request-ID in \(reply.headers)")
            #expect(requestId.count == 32 && requestId.allSatisfy(\.isHexDigit), "nginx's $request_id expected, got \(requestId)")
            let line = try stack.lakehook.requestLine(id: requestId)
            #expect(line.string("client") == "127.0.0.2", "\(forged): \(line.fields)")
            #expect(line.string("route") == "/api/plugins/webhook/:connectionId/issues" && line.string("status") == "200")
        }

        // Straight to Lakehook from 127.0.0.3 (not a trusted proxy) with a forged header.
        let requestId = "direct-\(UUID().uuidString)"
        let direct = try curlExchange([
            "--interface", "127.0.0.3", "http://127.0.0.1:\(stack.lakehook.port)/api/plugins/webhook/\(stack.connection.id)/issues",
            "-X", "POST", "-d", issue, "-H", "X-Forwarded-For: 6.6.6.6", "-H", "X-Request-ID: \(requestId)",
        ] + stack.auth)
        #expect(direct.status == 200, "\(direct.body)")
        #expect(direct.header("X-Request-ID") == requestId)
        #expect(try stack.lakehook.requestLine(id: requestId).string("client") == "127.0.0.3")
    }
}
