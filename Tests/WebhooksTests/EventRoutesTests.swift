import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// `GET {prefix}/connections/:id/events` behind the admin token, the DORA page's link to a
/// connection's refusals, and the plan that reads only the days asked for.
@Suite("The journal over HTTP")
struct EventRoutesTests {
    let server = TestServer.shared
    let admin = TestServer.adminHeaders

    func get(_ path: String) throws -> Reply {
        try server.request("GET", path, headers: admin)
    }

    /// The request ids of a 200's events, in order.
    static func requestIds(_ reply: Reply) -> [String] {
        guard case .array(let events)? = reply.json?["data"] else { return [] }
        return events.compactMap { event in
            if case .object(let object) = event, case .string(let id)? = object["requestId"] { return id }
            return nil
        }
    }

    @Test("the events of a connection, under every prefix, by id and by name, as --json prints them")
    func listing() throws {
        let (connection, key) = try server.newConnection("events-http")
        let refused = try server.post("/api/plugins/webhook/\(connection.id)/deployments", #"{"id":"d1"}"#, key: key)
        #expect(refused.status == 400)
        let id = try #require(refused.header("X-Request-ID"))
        for prefix in WebhookService.prefixes {
            for path in ["\(prefix)/connections/\(connection.id)/events", "\(prefix)/connections/by-name/\(connection.name)/events"] {
                let reply = try get(path)
                #expect(reply.status == 200 && Self.requestIds(reply) == [id], "\(path): \(reply.status) \(reply.text)")
            }
        }
        let reply = try get("/api/rest/plugins/webhook/connections/\(connection.id)/events")
        guard case .array(let events)? = reply.json?["data"], case .object(let event)? = events.first else {
            Issue.record("no event: \(reply.text)"); return
        }
        #expect(event["status"] == .number("400") && event["outcome"] == .string("refused"))
        #expect(event["causes"] == .array(refused.causes.map(JSONValue.string)))
        #expect(event["body"] == (try JSONParser.parse(Array(#"{"id":"d1"}"#.utf8))))
        #expect(event["connectionName"] == .string(connection.name))
    }

    @Test("the events route needs the admin token: 401 without it, 403 with a wrong one, 403 when administration is off")
    func authorization() throws {
        let (connection, _) = try server.newConnection("events-auth")
        let path = "/api/plugins/webhook/connections/\(connection.id)/events"
        let anonymous = try server.request("GET", path)
        #expect(anonymous.status == 401 && anonymous.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(try server.request("GET", path, headers: [("Authorization", "Bearer wrong")]).status == 403)
        let plain = try TestServer(adminToken: nil)
        defer { plain.stop() }
        let off = try plain.request("GET", path, headers: admin)
        #expect(off.status == 403 && off.json?["message"] == .string(
            "administration over HTTP is off: set LAKEHOOK_ADMIN_TOKEN, or use lakehook events, which works without it"))
    }

    @Test("since, status, route and limit select exactly the matching events, oldest first")
    func filters() throws {
        let (connection, _) = try server.newConnection("events-http-filter")
        let tag = UUID().uuidString.prefix(8)
        try EventsCommandTests.journal(connection, requestId: "\(tag)-old", route: "issues", status: 400, ago: "3 hours")
        try EventsCommandTests.journal(connection, requestId: "\(tag)-close", route: "issue/:issueKey/close", status: 404, ago: "30 minutes")
        try EventsCommandTests.journal(connection, requestId: "\(tag)-task", route: "cicd_tasks", status: 200, ago: "20 minutes")
        try EventsCommandTests.journal(connection, requestId: "\(tag)-deploy", route: "deployments", status: 400, ago: "10 minutes")
        let base = "/api/plugins/webhook/connections/\(connection.id)/events"
        let cases: [(String, [String])] = [
            ("", ["old", "close", "task", "deploy"]),
            ("?status=4xx", ["old", "close", "deploy"]),
            ("?status=404", ["close"]),
            ("?since=1h", ["close", "task", "deploy"]),
            ("?route=issue", ["old", "close"]),
            ("?limit=2", ["task", "deploy"]),
            ("?status=4XX&since=1h&limit=1", ["deploy"]),
            ("?since=1h&route=%2Fdeployments", ["deploy"]),
        ]
        for (query, expected) in cases {
            let reply = try get(base + query)
            #expect(reply.status == 200 && Self.requestIds(reply) == expected.map { "\(tag)-\($0)" }, "\(query): \(reply.text)")
        }
    }

    @Test("a bad parameter is a 400 listing every problem, a limit over 1000 too; an unknown connection is a 404, a bad id a 400")
    func refusals() throws {
        let (connection, _) = try server.newConnection("events-http-bad")
        let base = "/api/plugins/webhook/connections/\(connection.id)/events"
        let bad = try get(base + "?since=yesterday&status=6xx&limit=0&route=%0A")
        #expect(bad.status == 400 && bad.json?["message"] == .string("bad query parameters"))
        #expect(bad.causes == [
            "since: \(EventFilter.sinceProblem)", "status: \(EventFilter.statusProblem)", "route: \(EventFilter.routeProblem)",
            "limit: must be a whole number from 1 to 1000",
        ])
        #expect(try get(base + "?limit=1001").causes == ["limit: must be a whole number from 1 to 1000"])
        #expect(try get(base + "?limit=1000").status == 200)
        #expect(try get(base + "?since=%ZZ").status == 400)
        #expect(try get("/api/plugins/webhook/connections/999999999999/events").status == 404)
        #expect(try get("/api/plugins/webhook/connections/by-name/no-such-\(UUID().uuidString)/events").status == 404)
        #expect(try get("/api/plugins/webhook/connections/abc/events").status == 400)
        #expect(try server.request("POST", base, headers: admin).status == 405)
    }

    @Test("the DORA page lists each connection of the project with its refusals of the last 24 hours, linked to its events")
    func doraPageLinksRefusals() throws {
        let project = "events-dora-\(UUID().uuidString.prefix(8))"
        let (quiet, _) = try server.service.store.create(name: "\(project)-quiet", project: project)
        let (noisy, noisyKey) = try server.service.store.create(name: "\(project)-noisy", project: project)
        for _ in 0..<2 {
            #expect(try server.post("/api/plugins/webhook/\(noisy.id)/issues", "{}", key: noisyKey.plaintext).status == 400)
        }
        #expect(try server.post("/api/plugins/webhook/\(noisy.id)/issues", RoutesTests.issue("D-1"), key: noisyKey.plaintext).status == 200)
        let page = try get("/dora?project=\(project)")
        #expect(page.status == 200)
        let link = "/api/plugins/webhook/connections/\(noisy.id)/events?status=4xx&amp;since=24h"
        #expect(page.text.contains("Refused requests, last 24 hours"))
        #expect(page.text.contains(#"\#(project)-noisy (\#(noisy.id)): <a href="\#(link)">2 refused</a>, the last at "#), "\(page.text)")
        #expect(page.text.contains("\(project)-quiet (\(quiet.id)): none"))
        #expect(page.text.contains("lakehook events --connection ID --status 4xx --since 24h"))
        // The link, followed with the token the page was opened with, shows the two refusals.
        let followed = try get(link.replacingOccurrences(of: "&amp;", with: "&"))
        #expect(followed.status == 200 && Self.requestIds(followed).count == 2)
    }

    @Test("a listing of the last hour reads today's partition only: not the days before or ahead, not the default partition")
    func partitionPruning() throws {
        var filter = EventFilter(connectionId: 1, status: 400...499, since: .ago(seconds: 3_600))
        filter.route = "deployments"
        let plans = try LakehookDatabase.pool.withConnection { db -> [String] in
            func explain(_ sql: String, _ binds: [String?] = []) throws -> String {
                try db.query("EXPLAIN " + sql, binds).rows.compactMap { $0[0] }.joined(separator: "\n")
            }
            var plans: [String] = []
            for (sql, binds) in [EventQuery.recent(filter), EventQuery.window(filter, from: .now())] {
                plans.append(try explain(sql, binds))
                // A generic plan too (the pipelined connections force them; a pool's may choose one):
                // the partitions are chosen when the statement starts, from now() and the parameters.
                let name = "events_pruning_\(UUID().uuidString.prefix(8).lowercased())"
                try db.execute(script: "PREPARE \(name) AS \(sql)")
                try db.execute(script: "SET plan_cache_mode = force_generic_plan")
                let literals = binds.map { "'" + ($0 ?? "").replacingOccurrences(of: "'", with: "''") + "'" }
                plans.append(try explain("EXECUTE \(name)(\(literals.joined(separator: ", ")))"))
                try db.execute(script: "RESET plan_cache_mode; DEALLOCATE \(name)")
            }
            return plans
        }
        let days = try LakehookDatabase.rows("""
            SELECT to_char(d, 'YYYYMMDD') FROM (VALUES ((now() - interval '1 hour') AT TIME ZONE 'UTC'), ((now() + interval '1 hour') AT TIME ZONE 'UTC')) AS v(d)
            """).compactMap { $0[0] }
        for plan in plans {
            let partitions = Set(plan.matches(of: /webhook_events_[0-9a-z]+/).map { String($0.output) })
            #expect(!partitions.isEmpty && partitions.isSubset(of: Set(days.map { "webhook_events_\($0)" })), "\(plan)")
        }
    }
}
