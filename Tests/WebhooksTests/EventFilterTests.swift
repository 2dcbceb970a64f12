import Foundation
import Postgres
import Testing
@testable import Webhooks

/// The pieces of `lakehook events` that need no database: reading options, the statements'
/// shape, the line a person reads, and which events a follower has seen.
@Suite("Events: options, statements, lines, the follower's window")
struct EventFilterTests {
    @Test("--status takes one status or a class; nothing else")
    func status() {
        #expect(EventFilter.status("400") == 400...400)
        #expect(EventFilter.status("4xx") == 400...499)
        #expect(EventFilter.status("2XX") == 200...299)
        for bad in ["", "40", "4000", "600", "099", "6xx", "0xx", "x4x", "4x", "abc", "-400", "４００"] {
            #expect(EventFilter.status(bad) == nil, "\(bad)")
        }
    }

    @Test("--since takes a time before now in s, m, h, d or w, or an instant; nothing else")
    func since() {
        #expect(EventFilter.since("30m") == .ago(seconds: 1_800))
        #expect(EventFilter.since("1h") == .ago(seconds: 3_600))
        #expect(EventFilter.since("7d") == .ago(seconds: 604_800))
        #expect(EventFilter.since("90s") == .ago(seconds: 90))
        #expect(EventFilter.since("2w") == .ago(seconds: 1_209_600))
        #expect(EventFilter.since("2026-01-01T12:00:00Z") == .instant(TimestampParser.parse("2026-01-01T12:00:00Z")!))
        #expect(EventFilter.since("2026-01-01T13:00:00+01:00") == .instant(TimestampParser.parse("2026-01-01T12:00:00Z")!))
        #expect(EventFilter.since("2026-01-01") == .instant(TimestampParser.parse("2026-01-01T00:00:00Z")!))
        for bad in ["", "h", "1", "0h", "-1h", "1y", "1 h", "yesterday", "1h30m", "3651d", "9999999999s", "2026-13-01"] {
            #expect(EventFilter.since(bad) == nil, "\(bad)")
        }
    }

    @Test("--route takes a route or its start, a leading slash dropped; --limit a whole number in range")
    func routeAndLimit() {
        #expect(EventFilter.route("deployments") == "deployments")
        #expect(EventFilter.route("/issue") == "issue")
        #expect(EventFilter.route("issue/:issueKey/close") == "issue/:issueKey/close")
        #expect(EventFilter.route("") == nil && EventFilter.route("/") == nil)
        #expect(EventFilter.route(String(repeating: "a", count: 65)) == nil)
        #expect(EventFilter.route("a\nb") == nil)
        #expect(EventFilter.limit("1", max: 1_000) == 1 && EventFilter.limit("1000", max: 1_000) == 1_000)
        for bad in ["0", "1001", "-1", "", "1.5", "ten", "99999999999999999999"] {
            #expect(EventFilter.limit(bad, max: 1_000) == nil, "\(bad)")
        }
    }

    @Test("a route is matched as a prefix with LIKE's own characters escaped (pull_requests has a _)")
    func likePrefix() {
        #expect(EventQuery.likePrefix("issue") == "issue%")
        #expect(EventQuery.likePrefix("pull_requests") == #"pull\_requests%"#)
        #expect(EventQuery.likePrefix(#"50%\x"#) == #"50\%\\x%"#)
    }

    @Test("a listing's statement has a condition per filter given, values as parameters in order, and is bounded an hour ahead")
    func statementShape() {
        let bare = EventQuery.recent(EventFilter())
        #expect(bare.binds == ["50"])
        #expect(bare.sql.contains("e.received_at < now() + interval '1 hour'"))
        #expect(!bare.sql.contains("connection_id =") && !bare.sql.contains("LIKE") && !bare.sql.contains("BETWEEN"))

        var filter = EventFilter(connectionId: 7, route: "issue", status: 400...499, since: .ago(seconds: 3_600), limit: 5)
        let full = EventQuery.recent(filter)
        #expect(full.binds == ["3600 seconds", "7", "issue%", "400", "499", "5"])
        for part in ["e.received_at >= now() - $1::interval", "e.connection_id = $2::bigint", "e.route LIKE $3::text ESCAPE '\\'",
                     "e.status BETWEEN $4::smallint AND $5::smallint", "LIMIT $6::integer", "ORDER BY e.received_at DESC, e.id DESC"] {
            #expect(full.sql.contains(part), "missing \(part) in \(full.sql)")
        }
        filter.since = .instant(TimestampParser.parse("2026-01-01T12:00:00Z")!)
        let window = EventQuery.window(filter, from: TimestampParser.parse("2026-02-01T00:00:00Z")!)
        #expect(window.binds.first == "2026-02-01 00:00:00+00")
        #expect(window.binds.dropFirst().first == "2026-01-01 12:00:00+00")
        #expect(window.sql.contains("e.received_at >= $1::timestamptz") && window.sql.contains("e.received_at >= $2::timestamptz"))
        let events = EventQuery.events([3, 1, 2], from: .init(microsecondsSinceEpoch: 0), through: .init(microsecondsSinceEpoch: 1), bodies: false)
        #expect(events.binds.last == "{3,1,2}")
        #expect(events.sql.contains("NULL AS body"))
    }

    static func row(_ values: [String: String?]) -> PostgresRow {
        let columns = ["id", "received_at", "connection_id", "connection_name", "route", "params", "request_id", "client_address",
                       "user_agent", "content_type", "body", "body_text", "status", "message", "causes", "duration_us",
                       "idempotency_key", "outcome"]
        let defaults: [String: String?] = [
            "id": "12", "received_at": "2026-05-04T09:12:01.250300Z", "connection_id": "3", "connection_name": "jenkins",
            "route": "deployments", "params": "{}", "request_id": "req-1", "client_address": "10.1.2.3", "user_agent": "curl/8",
            "content_type": "application/json", "body": #"{"id": "d1"}"#, "body_text": nil, "status": "400",
            "message": "the request body has invalid fields", "causes": #"["startedDate: is required", "finishedDate: is required"]"#,
            "duration_us": "412", "idempotency_key": nil, "outcome": "refused",
        ]
        return PostgresRow(columns: columns, values: columns.map { values[$0] ?? defaults[$0]! })
    }

    @Test("a refused event's line shows when, connection, route, status, outcome, duration, request, client, message and every cause")
    func refusedLine() throws {
        let event = try JournalEvent(row: Self.row([:]))
        #expect(event.line == "2026-05-04T09:12:01.250Z  conn 3 jenkins  deployments  400 refused  0.4 ms  req req-1  client 10.1.2.3  "
            + "the request body has invalid fields: startedDate: is required; finishedDate: is required")
        let close = try JournalEvent(row: Self.row([
            "route": "issue/:issueKey/close", "params": #"{"issueKey": "I-7"}"#, "status": "200", "outcome": "applied",
            "message": "", "causes": nil, "connection_name": nil, "received_at": "2026-05-04T09:12:01.000000Z", "request_id": "",
        ]))
        #expect(close.line == "2026-05-04T09:12:01.000Z  conn 3 (deleted)  issue/I-7/close  200 applied  0.4 ms  req -  client 10.1.2.3")
    }

    @Test("what a client sent cannot forge a line or drive the terminal: control characters are shown escaped")
    func printable() throws {
        let event = try JournalEvent(row: Self.row(["causes": #"["name: \u001b[31mred\nfake line"]"#]))
        #expect(!event.line.contains("\n") && !event.line.contains("\u{1B}"))
        #expect(event.line.contains(#"\u{1b}[31mred\u{a}fake line"#))
    }

    @Test("the JSON of an event has every column, the body as JSON, params as an object")
    func json() throws {
        let event = try JournalEvent(row: Self.row(["params": #"{"issueKey": "I-7"}"#]))
        guard case .object(let object) = event.json else { Issue.record("not an object"); return }
        #expect(object.members.map(\.key) == [
            "id", "receivedAt", "connectionId", "connectionName", "route", "params", "requestId", "clientAddress", "userAgent",
            "contentType", "body", "bodyText", "status", "message", "causes", "durationUs", "idempotencyKey", "outcome",
        ])
        #expect(object["receivedAt"] == .string("2026-05-04T09:12:01.2503Z"))
        #expect(object["body"] == ["id": "d1"])
        #expect(object["params"] == ["issueKey": "I-7"])
        #expect(object["causes"] == ["startedDate: is required", "finishedDate: is required"])
        #expect(object["bodyText"] == .null && object["idempotencyKey"] == .null)
    }

    @Test("the command line: every option in both forms; a bad value, a repeated or unknown option, an argument: a usage error naming it")
    func parse() throws {
        let command = try EventsCommand.parse(["--connection", "jenkins", "--route=issue", "--status", "4xx", "--since=1h", "--limit", "7", "--json", "--follow"])
        #expect(command.connection == .name("jenkins"))
        #expect(command.filter == EventFilter(route: "issue", status: 400...499, since: .ago(seconds: 3_600), limit: 7))
        #expect(command.json && command.follow && !command.help)
        #expect(try EventsCommand.parse(["--connection=12"]).connection == .id(12))
        #expect(try EventsCommand.parse([]) == EventsCommand())
        #expect(try EventsCommand.parse(["--help"]).help)
        let refusals: [([String], String)] = [
            (["--status", "5x"], "--status 5x: must be a status"),
            (["--since", "yesterday"], "--since yesterday: must be a time before now"),
            (["--limit", "0"], "--limit 0: must be a whole number from 1 to 10000"),
            (["--limit", "10001"], "--limit 10001"),
            (["--route", ""], "--route : must be a route"),
            (["--connection"], "--connection needs a value"),
            (["--since", "1h", "--since", "2h"], "--since is given twice"),
            (["--tail"], "unknown option --tail for events"),
            (["3"], "events takes options only"),
        ]
        for (arguments, message) in refusals {
            #expect {
                _ = try EventsCommand.parse(arguments)
            } throws: { error in
                (error as? LakehookCommand.UsageError)?.description.hasPrefix(message) == true
            }
        }
        #expect(try LakehookCommand.parse(["events", "--json"]) == .events(EventsCommand(json: true)))
        #expect(LakehookCommand.usage.contains("lakehook events [--connection ID|NAME]"))
    }

    static func keys(_ ids: [Int64], at seconds: Int64 = 0) -> [EventKey] {
        ids.map { EventKey(id: $0, receivedAt: Timestamp(microsecondsSinceEpoch: seconds * 1_000_000)) }
    }

    @Test("the follower's window: an event is new once, a late commit within the overlap is new, the seen set holds one window")
    func followWindow() {
        let t0 = Timestamp(microsecondsSinceEpoch: 1_000 * 1_000_000)
        var window = FollowWindow(now: t0, overlap: .seconds(30))
        #expect(window.start.microsecondsSinceEpoch == 970 * 1_000_000)
        // What the window holds at start is known, not new; the listing's events are remembered.
        #expect(window.admit(Self.keys([1, 2]), readAt: t0).map(\.id) == [1, 2])
        window.remember([2, 3])
        let t1 = Timestamp(microsecondsSinceEpoch: 1_002 * 1_000_000)
        #expect(window.admit(Self.keys([1, 2, 3, 5]), readAt: t1).map(\.id) == [5])
        #expect(window.start.microsecondsSinceEpoch == 972 * 1_000_000)
        // 4 arrived before 5 but committed after it was read: still new, once.
        let t2 = Timestamp(microsecondsSinceEpoch: 1_004 * 1_000_000)
        #expect(window.admit(Self.keys([1, 2, 3, 4, 5, 6]), readAt: t2).map(\.id) == [4, 6])
        #expect(window.admit(Self.keys([1, 2, 3, 4, 5, 6]), readAt: t2).isEmpty)
        // Events that left the window are forgotten: memory is one window, however long it runs.
        let later = Timestamp(microsecondsSinceEpoch: 2_000 * 1_000_000)
        #expect(window.admit(Self.keys([7], at: 1_990), readAt: later).map(\.id) == [7])
        #expect(window.seen == [7])
        // A clock that steps back never moves the window back.
        #expect(window.admit(Self.keys([7]), readAt: t0).isEmpty && window.start.microsecondsSinceEpoch == 1_970 * 1_000_000)
    }
}
