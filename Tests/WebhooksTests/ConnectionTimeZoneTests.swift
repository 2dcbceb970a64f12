import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// A time zone per connection (issue 15): dates posted without an offset, as Jenkins libraries
/// format them (`yyyy-MM-dd HH:mm:ss` in the JVM's zone), are read in the connection's zone.
/// Europe/Berlin springs forward on 2026-03-29 (02:00 CET → 03:00 CEST) and falls back on
/// 2026-10-25 (03:00 CEST → 02:00 CET).
@Suite("A time zone per connection")
struct ConnectionTimeZoneTests {
    let server = TestServer.shared
    let admin = TestServer.adminHeaders

    func call(_ method: String, _ path: String, _ body: String? = nil) throws -> Reply {
        try server.request(method, "/api/plugins/webhook" + path, body: body, headers: admin)
    }

    /// A connection in `zone`, created over HTTP, and its key.
    func connection(in zone: String) throws -> (id: Int64, key: String) {
        let name = "tz-\(UUID().uuidString.prefix(8))"
        let created = try call("POST", "/connections", #"{"name":"\#(name)","timeZone":"\#(zone)"}"#)
        #expect(created.status == 200, "\(created.text)")
        #expect(created.data?["timeZone"] == .string(zone))
        guard case .number(let idText)? = created.data?["id"], let id = Int64(idText),
            case .string(let key)? = created.data?["apiKey"]
        else { throw TimeZoneTestError(message: "no id or key: \(created.text)") }
        return (id, key)
    }

    /// A timestamptz column in UTC, `YYYY-MM-DD HH:MM:SS`.
    static func utc(_ column: String, _ table: String, id: String) throws -> String? {
        try LakehookDatabase.value(
            "SELECT to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM \(table) WHERE id = $1", [id])
    }

    @Test("a wall-clock time is read as PostgreSQL reads it in the zone, across both of Berlin's 2026 clock changes")
    func resolutionAgreesWithPostgreSQL() throws {
        let berlin = try #require(ConnectionTimeZone(identifier: "Europe/Berlin"))
        let walls = [
            "2026-03-29 00:30:00", "2026-03-29 01:59:59", "2026-03-29 02:00:00", "2026-03-29 02:30:00",
            "2026-03-29 03:00:00", "2026-03-29 03:30:00", "2026-10-25 01:30:00", "2026-10-25 02:00:00",
            "2026-10-25 02:30:00", "2026-10-25 02:59:59.5", "2026-10-25 03:00:00", "2026-07-01 12:00:00",
            "2026-01-01 00:00:00", "1960-06-01 12:00:00",
        ]
        for wall in walls {
            let read = try #require(TimestampParser.parseWallClock(wall))
            #expect(!read.hasOffset)
            let ours = berlin.instant(ofWallClock: read.instant).microsecondsSinceEpoch
            let theirs = try LakehookDatabase.value(
                "SELECT (extract(epoch FROM ($1 || ' Europe/Berlin')::timestamptz) * 1000000)::bigint", [wall])
            #expect(theirs == String(ours), "\(wall)")
        }
        // The skipped 02:30 and the repeated 02:30 both take the smaller offset (CET, +01).
        #expect(berlin.instant(ofWallClock: TimestampParser.parse("2026-03-29 02:30:00")!).iso8601 == "2026-03-29T01:30:00Z")
        #expect(berlin.instant(ofWallClock: TimestampParser.parse("2026-10-25 02:30:00")!).iso8601 == "2026-10-25T01:30:00Z")
    }

    @Test("a deployment across the spring-forward change is stored in UTC from Berlin time; its commit too")
    func deploymentAcrossSpringForward() throws {
        let c = try connection(in: "Europe/Berlin")
        // 01:30 CET is 00:30Z; 03:10 CEST is 01:10Z (40 minutes later, not 100). An end with an
        // offset is unaffected.
        let body = #"""
            {"id":"d-spring","startedDate":"2026-03-29 01:30:00","finishedDate":"2026-03-29T01:10:00Z",
             "deploymentCommits":[{"repoUrl":"https://example.com/r","commitSha":"abc","startedDate":"2026-03-29 03:10:00",
             "finishedDate":"2026-03-29 03:20:00"}]}
            """#
        let reply = try server.post("/api/plugins/webhook/\(c.id)/deployments", body, key: c.key)
        #expect(reply.status == 200, "\(reply.text)")
        let id = "webhook:\(c.id):d-spring"
        #expect(try Self.utc("started_date", "cicd_deployments", id: id) == "2026-03-29 00:30:00")
        #expect(try Self.utc("finished_date", "cicd_deployments", id: id) == "2026-03-29 01:10:00")
        let commit = try LakehookDatabase.rows(
            """
            SELECT to_char(started_date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS s,
                   to_char(finished_date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS f
            FROM cicd_deployment_commits WHERE cicd_deployment_id = $1
            """, [id])
        #expect(commit.first?["s"] == "2026-03-29 01:10:00" && commit.first?["f"] == "2026-03-29 01:20:00")
    }

    @Test("a deployment just after midnight in Berlin belongs to the previous UTC day (the v0.17 single-commit form)")
    func deploymentDayMovesAcrossMidnight() throws {
        let c = try connection(in: "Europe/Berlin")
        let body = #"{"pipeline_id":"d-midnight","repo_url":"https://example.com/r","commit_sha":"def","start_time":"2026-03-29 00:10:00","end_time":"2026-03-29 00:40:00"}"#
        let reply = try server.post("/api/plugins/webhook/\(c.id)/deployments", body, key: c.key)
        #expect(reply.status == 200, "\(reply.text)")
        let id = "webhook:\(c.id):d-midnight"
        #expect(try Self.utc("started_date", "cicd_deployments", id: id) == "2026-03-28 23:10:00")
        #expect(try Self.utc("finished_date", "cicd_deployments", id: id) == "2026-03-28 23:40:00")
    }

    @Test("a task across the fall-back change gets the true duration_sec; a start after its finish in real time is refused")
    func taskAcrossFallBack() throws {
        let c = try connection(in: "Europe/Berlin")
        // 01:50 CEST is 23:50Z; the repeated 02:20 is read as CET (+01), 01:20Z: 90 minutes.
        let task = #"{"pipeline_name":"p-fall","name":"deploy","result":"SUCCESS","status":"DONE","type":"DEPLOYMENT","environment":"PRODUCTION","started_date":"2026-10-25 01:50:00","finished_date":"2026-10-25 02:20:00","repo_id":"r"}"#
        let reply = try server.post("/api/plugins/webhook/\(c.id)/cicd_tasks", task, key: c.key)
        #expect(reply.status == 200, "\(reply.text)")
        let id = "webhook:\(c.id):p-fall:deploy"
        #expect(try Self.utc("started_date", "cicd_tasks", id: id) == "2026-10-24 23:50:00")
        #expect(try Self.utc("finished_date", "cicd_tasks", id: id) == "2026-10-25 01:20:00")
        #expect(try LakehookDatabase.value("SELECT duration_sec FROM cicd_tasks WHERE id = $1", [id]) == "5400")

        // 00:30Z finish, 01:00 Berlin (23:00Z) start: in order once both are instants.
        let mixed = #"{"pipeline_name":"p-mixed","name":"t","result":"SUCCESS","status":"DONE","type":"TEST","environment":"PRODUCTION","started_date":"2026-10-25 01:00:00","finished_date":"2026-10-25T00:30:00Z","repo_id":"r"}"#
        let ok = try server.post("/api/plugins/webhook/\(c.id)/cicd_tasks", mixed, key: c.key)
        #expect(ok.status == 200, "\(ok.text)")
        // 02:30 Berlin (CEST, 00:30Z) is after a 00:15Z finish although its wall clock is not.
        let reversed = #"{"pipeline_name":"p-rev","name":"t","result":"SUCCESS","status":"DONE","type":"TEST","environment":"PRODUCTION","started_date":"2026-07-01 02:30:00","finished_date":"2026-07-01T00:15:00Z","repo_id":"r"}"#
        let refused = try server.post("/api/plugins/webhook/\(c.id)/cicd_tasks", reversed, key: c.key)
        #expect(refused.status == 400, "\(refused.text)")
        #expect(refused.text.contains("finished_date: is before started_date"), "\(refused.text)")
    }

    @Test("an issue's lead time counts real minutes across the spring-forward change")
    func issueLeadTimeAcrossSpringForward() throws {
        let c = try connection(in: "Europe/Berlin")
        // 01:00 CET (00:00Z) to 04:00 CEST (02:00Z): 120 minutes, not the wall clock's 180.
        let body = #"{"issue_key":"TZ-1","title":"t","type":"BUG","status":"DONE","original_status":"done","created_date":"2026-03-29 01:00:00","resolution_date":"2026-03-29 04:00:00"}"#
        let reply = try server.post("/api/plugins/webhook/\(c.id)/issues", body, key: c.key)
        #expect(reply.status == 200, "\(reply.text)")
        let id = "webhook:\(c.id):TZ-1"
        #expect(try LakehookDatabase.value("SELECT lead_time_minutes FROM issues WHERE id = $1", [id]) == "120")
        #expect(try Self.utc("created_date", "issues", id: id) == "2026-03-29 00:00:00")
        #expect(try Self.utc("resolution_date", "issues", id: id) == "2026-03-29 02:00:00")
    }

    @Test("a UTC connection reads the same dates as UTC, as before; an offset or Z is never reread")
    func utcByDefault() throws {
        let (connection, key) = try server.newConnection("tz-utc")
        #expect(connection.timeZone == .utc)
        let body = #"{"pullRequestKey":7,"displayTitle":"t","createdDate":"2026-03-29 02:30:00","mergedDate":"2026-03-29T02:30:00+02:00"}"#
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/pull_requests", body, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        let row = try LakehookDatabase.rows(
            """
            SELECT to_char(created_date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS c,
                   to_char(merged_date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS m
            FROM pull_requests WHERE _raw_data_params = $1
            """, [String(connection.id)])
        #expect(row.first?["c"] == "2026-03-29 02:30:00" && row.first?["m"] == "2026-03-29 00:30:00")
    }

    @Test("PATCH changes the zone, the answer shows it, and the next write reads in it at once")
    func patchChangesTheZone() throws {
        let c = try connection(in: "UTC")
        let patched = try call("PATCH", "/connections/\(c.id)", #"{"time_zone":"America/New_York"}"#)
        #expect(patched.status == 200 && patched.data?["timeZone"] == .string("America/New_York"), "\(patched.text)")
        #expect(try call("GET", "/connections/\(c.id)").data?["timeZone"] == .string("America/New_York"))
        let body = #"{"pipeline_id":"d-ny","repo_url":"https://example.com/r","commit_sha":"aaa","start_time":"2026-03-08 01:30:00","end_time":"2026-03-08 03:30:00"}"#
        #expect(try server.post("/api/plugins/webhook/\(c.id)/deployments", body, key: c.key).status == 200)
        // New York springs forward on 2026-03-08: 01:30 EST is 06:30Z, 03:30 EDT is 07:30Z.
        let id = "webhook:\(c.id):d-ny"
        #expect(try Self.utc("started_date", "cicd_deployments", id: id) == "2026-03-08 06:30:00")
        #expect(try Self.utc("finished_date", "cicd_deployments", id: id) == "2026-03-08 07:30:00")
    }

    @Test("an unknown zone is refused with 400 naming it, on create and on PATCH; a miscased one names the right spelling")
    func unknownZoneRefused() throws {
        let name = "tz-bad-\(UUID().uuidString.prefix(8))"
        let created = try call("POST", "/connections", #"{"name":"\#(name)","timeZone":"Mars/Olympus_Mons"}"#)
        #expect(created.status == 400, "\(created.text)")
        #expect(created.causes.contains { $0.contains("\"Mars/Olympus_Mons\" is not a time zone PostgreSQL knows") }, "\(created.text)")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM webhook_connections WHERE name = $1", [name]) == 0)

        let c = try connection(in: "Europe/Berlin")
        let miscased = try call("PATCH", "/connections/\(c.id)", #"{"timeZone":"europe/paris"}"#)
        #expect(miscased.status == 400 && miscased.text.contains("did you mean Europe/Paris?"), "\(miscased.text)")
        // An abbreviation or a POSIX rule is not an IANA name (PostgreSQL would read `UTC+3` as 3 hours west).
        for notAName in ["CEST", "UTC+3", ""] {
            let reply = try call("PATCH", "/connections/\(c.id)", #"{"timeZone":"\#(notAName)"}"#)
            #expect(reply.status == 400, "\(notAName): \(reply.text)")
        }
        #expect(try call("GET", "/connections/\(c.id)").data?["timeZone"] == .string("Europe/Berlin"))
    }

    @Test("lakehook connections create/update --time-zone sets it; an unknown zone is a clear error and exit 1")
    func commandLine() throws {
        _ = LakehookDatabase.pool
        let name = "tz-cli-\(UUID().uuidString.prefix(8))"
        let created = try CommandLineBinaryTests.lakehook(["connections", "create", name, "--time-zone", "Europe/Berlin", "--json"])
        #expect(created.status == 0, "\(created.err)")
        #expect(created.out.contains(#""timeZone":"Europe/Berlin""#), "\(created.out)")
        let updated = try CommandLineBinaryTests.lakehook(["connections", "update", name, "--time-zone=Asia/Kolkata"])
        #expect(updated.status == 0 && updated.out.contains("time zone Asia/Kolkata"), "\(updated.out)\(updated.err)")
        let list = try CommandLineBinaryTests.lakehook(["connections", "list"])
        #expect(list.out.contains("\(name)\t-\tAsia/Kolkata\t"), "\(list.out)")
        let bad = try CommandLineBinaryTests.lakehook(["connections", "update", name, "--time-zone", "Berlin"])
        #expect(bad.status != 0)
        #expect(bad.err.contains("\"Berlin\" is not a time zone PostgreSQL knows"), "\(bad.err)")
        #expect(try LakehookDatabase.value("SELECT time_zone FROM webhook_connections WHERE name = $1", [name]) == "Asia/Kolkata")
    }

    @Test("the command line reads --time-zone, --name and --no-project only where they apply")
    func commandLineParsing() throws {
        #expect(try LakehookCommand.parse(["connections", "create", "ci", "--time-zone", "Europe/Berlin"])
            == .connectionsCreate(name: "ci", project: nil, timeZone: "Europe/Berlin", json: false))
        #expect(try LakehookCommand.parse(["connections", "update", "7", "--no-project", "--name=ci2"])
            == .connectionsUpdate(.id(7), name: "ci2", project: .some(nil), timeZone: nil, json: false))
        #expect(try LakehookCommand.parse(["connections", "update", "ci", "--project", "shop"])
            == .connectionsUpdate(.name("ci"), name: nil, project: .some("shop"), timeZone: nil, json: false))
        for wrong in [["connections", "list", "--time-zone", "UTC"], ["connections", "update", "ci"],
                      ["connections", "create", "ci", "--name", "x"], ["connections", "update", "ci", "--project", "p", "--no-project"],
                      ["connections", "create", "ci", "--time-zone"]] {
            #expect(throws: LakehookCommand.UsageError.self, "\(wrong)") { try LakehookCommand.parse(wrong) }
        }
    }
}

struct TimeZoneTestError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
