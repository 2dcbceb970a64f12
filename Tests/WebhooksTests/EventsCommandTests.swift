import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// `lakehook events`, the binary as a person runs it: "my CI gets a 400 and I can't see why".
@Suite("lakehook events")
struct EventsCommandTests {
    let server = TestServer.shared

    /// Writes a journal row directly, to choose its arrival (`ago`, an SQL interval), route and status.
    static func journal(
        _ connection: DevLakeConnection, requestId: String, route: String, status: Int, ago: String,
        params: String = "{}", message: String = "", causes: String? = nil
    ) throws {
        _ = try LakehookDatabase.rows("""
            INSERT INTO webhook_events (received_at, connection_id, route, params, request_id, status, message, causes, outcome)
            VALUES (now() - $1::interval, $2, $3, $4::jsonb, $5, $6, $7, $8::jsonb, $9)
            """, [ago, String(connection.id), route, params, requestId, String(status), message, causes, status >= 400 ? "refused" : "applied"])
    }

    /// The request ids `events --json` prints for `arguments`, in order.
    static func requestIds(_ arguments: [String]) throws -> [String] {
        let run = try CommandLineBinaryTests.lakehook(["events", "--json"] + arguments)
        guard run.status == 0 else { throw TestFailure("events \(arguments) exited \(run.status): \(run.err)") }
        return try run.out.split(separator: "\n").map { line in
            guard case .object(let event) = try JSONParser.parse(Array(line.utf8)), case .string(let id)? = event["requestId"] else {
                throw TestFailure("not an event: \(line)")
            }
            return id
        }
    }

    @Test("a refused request is shown with its status, message and every cause, after the requests before it")
    func refusalShowsCauses() throws {
        let (connection, key) = try server.newConnection("events-causes")
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("E-1"), key: key).status == 200)
        let refused = try server.post("/api/plugins/webhook/\(connection.id)/deployments", #"{"id":"d1","startedDate":"yesterday"}"#, key: key)
        #expect(refused.status == 400)
        let run = try CommandLineBinaryTests.lakehook(["events", "--connection", String(connection.id)])
        #expect(run.status == 0, "\(run.err)")
        let lines = run.out.split(separator: "\n").map(String.init)
        try #require(lines.count == 2, "\(run.out)")
        #expect(lines[0].contains("conn \(connection.id) \(connection.name)  issues  200 applied"))
        #expect(lines[1].contains("deployments  400 refused"))
        #expect(lines[1].contains("req \(refused.header("X-Request-ID") ?? "?")  client 127.0.0.1"))
        #expect(lines[1].contains("the request body has invalid fields: "))
        for cause in refused.causes {
            #expect(lines[1].contains(cause), "missing cause \(cause)")
        }
        #expect(refused.causes.count == 3)
    }

    @Test("--connection (id or name), --route, --status, --since and --limit select exactly the matching events, oldest first")
    func filters() throws {
        let (one, _) = try server.newConnection("events-filter")
        let (other, _) = try server.newConnection("events-filter-other")
        let tag = UUID().uuidString.prefix(8)
        try Self.journal(one, requestId: "\(tag)-old", route: "cicd_tasks", status: 200, ago: "2 days")
        try Self.journal(one, requestId: "\(tag)-pr", route: "pull_requests", status: 422, ago: "3 hours")
        try Self.journal(one, requestId: "\(tag)-close", route: "issue/:issueKey/close", status: 404, ago: "30 minutes", params: #"{"issueKey":"I-9"}"#)
        try Self.journal(one, requestId: "\(tag)-issue", route: "issues", status: 400, ago: "20 minutes")
        try Self.journal(one, requestId: "\(tag)-deploy", route: "deployments", status: 200, ago: "10 minutes")
        try Self.journal(other, requestId: "\(tag)-other", route: "deployments", status: 400, ago: "5 minutes")
        let c = ["--connection", String(one.id)]
        #expect(try Self.requestIds(c) == ["old", "pr", "close", "issue", "deploy"].map { "\(tag)-\($0)" })
        #expect(try Self.requestIds(["--connection", one.name]) == Self.requestIds(c))
        #expect(try Self.requestIds(c + ["--route", "issue"]) == ["\(tag)-close", "\(tag)-issue"])
        #expect(try Self.requestIds(c + ["--route", "issues"]) == ["\(tag)-issue"])
        #expect(try Self.requestIds(c + ["--route", "pull_requests"]) == ["\(tag)-pr"])
        #expect(try Self.requestIds(c + ["--status", "4xx"]) == ["\(tag)-pr", "\(tag)-close", "\(tag)-issue"])
        #expect(try Self.requestIds(c + ["--status", "404"]) == ["\(tag)-close"])
        #expect(try Self.requestIds(c + ["--since", "1h"]) == ["\(tag)-close", "\(tag)-issue", "\(tag)-deploy"])
        let instant = try #require(try LakehookDatabase.value(
            "SELECT to_char((now() - interval '25 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"))
        #expect(try Self.requestIds(c + ["--since", instant]) == ["\(tag)-issue", "\(tag)-deploy"])
        #expect(try Self.requestIds(c + ["--limit", "2"]) == ["\(tag)-issue", "\(tag)-deploy"])
        #expect(try Self.requestIds(c + ["--status", "4xx", "--since", "1h", "--limit", "1"]) == ["\(tag)-issue"])
        // Without --connection: every connection's.
        let recent = try Self.requestIds(["--route", "deployments", "--status", "400", "--since", "1h", "--limit", "10000"])
        #expect(recent.contains("\(tag)-other") && !recent.contains("\(tag)-deploy"))
        // The human form names the route with its parameters.
        let human = try CommandLineBinaryTests.lakehook(["events"] + c + ["--status", "404"])
        #expect(human.out.contains("issue/I-9/close  404 refused"), "\(human.out)")
    }

    @Test("--json prints every column, one object per line; the body comes back as it was posted, a non-JSON one as text")
    func jsonRoundTripsTheBody() throws {
        let (connection, key) = try server.newConnection("events-json")
        let body = #"{"issue_key":"J-1","title":"Ünïcode \"quoted\" \\ and \n newline ✓","status":"TODO","original_status":"open","#
            + #""created_date":"2024-01-01T12:00:00Z","story_point":3.5,"labels":["a",{"b":[1,2,null,true,false]}],"epic_key":null}"#
        let accepted = try server.request(
            "POST", "/api/plugins/webhook/\(connection.id)/issues", body: body, key: key,
            headers: [("User-Agent", "events-test/1"), ("Idempotency-Key", "json-key-1")])
        #expect(accepted.status == 200, "\(accepted.text)")
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/issues", "{not json", key: key).status == 400)
        let run = try CommandLineBinaryTests.lakehook(["events", "--json", "--connection", connection.name])
        #expect(run.status == 0, "\(run.err)")
        let lines = run.out.split(separator: "\n")
        try #require(lines.count == 2, "\(run.out)")
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(Set(first.keys) == [
            "id", "receivedAt", "connectionId", "connectionName", "route", "params", "requestId", "clientAddress", "userAgent",
            "contentType", "body", "bodyText", "status", "message", "causes", "durationUs", "idempotencyKey", "outcome",
        ])
        let posted = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? NSDictionary
        #expect((first["body"] as? NSDictionary) == posted)
        #expect(first["bodyText"] is NSNull)
        #expect(first["userAgent"] as? String == "events-test/1" && first["idempotencyKey"] as? String == "json-key-1")
        #expect(first["requestId"] as? String == accepted.header("X-Request-ID"))
        #expect(first["outcome"] as? String == "applied" && first["status"] as? Int == 200 && first["connectionId"] as? Int == Int(connection.id))
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["body"] is NSNull && second["bodyText"] as? String == "{not json")
        #expect((second["message"] as? String)?.hasPrefix("malformed JSON") == true && second["status"] as? Int == 400)
    }

    @Test("a bad option is a usage error (exit status 2) that says what is wrong; an unknown connection is an error (1)")
    func usageErrors() throws {
        for (arguments, message) in [
            (["--status", "5x"], "--status 5x: must be a status (400) or a class of statuses (4xx)"),
            (["--since", "yesterday"], "--since yesterday: must be a time before now"),
            (["--limit", "0"], "--limit 0: must be a whole number from 1 to 10000"),
            (["--frobnicate"], "unknown option --frobnicate for events"),
            (["--connection"], "--connection needs a value"),
        ] {
            let run = try CommandLineBinaryTests.lakehook(["events"] + arguments)
            #expect(run.status == 2 && run.err.contains(message), "\(arguments): \(run.status) \(run.err)")
        }
        let unknown = try CommandLineBinaryTests.lakehook(["events", "--connection", "no-such-connection-\(UUID().uuidString)"])
        #expect(unknown.status == 1 && unknown.err.contains("unknown connection named"), "\(unknown.err)")
        let help = try CommandLineBinaryTests.lakehook(["--help"])
        #expect(help.out.contains("lakehook events [--connection ID|NAME]"))
        let eventsHelp = try CommandLineBinaryTests.lakehook(["events", "--help"])
        #expect(eventsHelp.status == 0 && eventsHelp.out.contains("--follow"))
    }

    /// The lines of a file, once it has at least `count` of them (nil after `timeout` seconds).
    static func lines(of path: String, atLeast count: Int, timeout: Double) -> [String]? {
        var lines: [String] = []
        do {
            try waitUntil(timeout: timeout) {
                lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
                return lines.count >= count
            }
            return lines
        } catch {
            return nil
        }
    }

    @Test("--follow prints events as they come, through this instance and a second one, each once, within a couple of seconds; Ctrl-C ends it with status 0",
          .timeLimit(.minutes(2)))
    func follow() throws {
        let (connection, key) = try server.newConnection("events-follow")
        let second = try LakehookProcess(databaseURL: TestDatabase.config().conninfo, environment: ["LAKEHOOK_LOG_LEVEL": "warn"])
        let first = try server.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("F-0"), key: key)
        let output = NSTemporaryDirectory() + "events-follow-\(UUID().uuidString.prefix(8)).out"
        defer { unlink(output); unlink(output + ".err") }
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = TestDatabase.config().conninfo
        let pid = try spawn(
            [CommandLineBinaryTests.binary.path, "events", "--follow", "--connection", String(connection.id)],
            stdoutPath: output, stderrPath: output + ".err", environment: environment)
        var exited = false
        defer {
            if !exited {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
        }
        // The listing (the request before it started) says it is following.
        let listed = try #require(Self.lines(of: output, atLeast: 1, timeout: 15), "no listing")
        #expect(listed[0].contains(first.header("X-Request-ID") ?? "?"))

        var requestIds = [first.header("X-Request-ID") ?? "?"]
        // A refusal here (journaled on its own), then an accepted request and a refusal on the second instance.
        let posts: [() throws -> Reply] = [
            { try server.post("/api/plugins/webhook/\(connection.id)/deployments", #"{"id":"x"}"#, key: key) },
            { try second.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("F-2"), key: key) },
            { try second.post("/api/plugins/webhook/\(connection.id)/issue/NOPE/close", nil, key: key) },
        ]
        for (number, post) in posts.enumerated() {
            let started = Date()
            let reply = try post()
            let id = try #require(reply.header("X-Request-ID"))
            requestIds.append(id)
            let lines = try #require(Self.lines(of: output, atLeast: requestIds.count, timeout: 15), "event \(number + 1) never shown")
            #expect(lines.last?.contains(id) == true, "\(lines)")
            #expect(Date().timeIntervalSince(started) < 15, "event \(number + 1) took \(Date().timeIntervalSince(started)) s")
        }
        // Two fallback reads later, nothing was printed twice.
        usleep(4_500_000)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == requestIds.count, "\(lines)")
        for id in requestIds {
            #expect(lines.filter { $0.contains("req \(id) ") }.count == 1, "\(id) in \(lines)")
        }
        kill(pid, SIGINT)
        var status: Int32 = 0
        exited = (try? waitUntil { waitpid(pid, &status, WNOHANG) == pid }) != nil
        #expect(exited, "still running 30 s after Ctrl-C")
        #expect(exited && exitCode(ofWaitStatus: status) == 0, "exit status \(exitCode(ofWaitStatus: status)): \((try? String(contentsOfFile: output + ".err", encoding: .utf8)) ?? "")")
    }
}
