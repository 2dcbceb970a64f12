import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// Issue 13, finding 6: a report window had no cap. `GET /api/dora?from=0001-01-01&to=9999-12-31`
/// ran 30–35 s on a pool connection (dora_report walks every week and month of the window), and a
/// few such requests used up the pool. Every entry point that takes a window now refuses one
/// longer than LAKEHOOK_DORA_MAX_WINDOW_DAYS (default 731), naming the window and the cap.
@Suite("DORA windows are capped")
struct DoraWindowCapTests {
    static func at(_ text: String) -> Timestamp { TimestampParser.parse(text)! }
    static let now = at("2024-06-01T00:00:00Z")

    @Test("two calendar years fit the default cap of 731 days, leap day included; a microsecond more does not")
    func defaultCapIsTwoYears() throws {
        #expect(DoraWindow.defaultMaxDays == 731)
        let years = try DoraWindow.resolve(from: "2023-01-01", to: "2025-01-01", now: Self.now, maxDays: 731)
        #expect(years.from.iso8601 == "2023-01-01T00:00:00Z")
        #expect(throws: DoraWindowError.self) {
            try DoraWindow.resolve(from: "2022-12-31T23:59:59.999999Z", to: "2025-01-01", now: Self.now, maxDays: 731)
        }
        // Without a cap (the parser, which has no configuration yet) any length still resolves.
        #expect(try DoraWindow.resolve(from: "0001-01-01", to: "9999-12-31", now: Self.now).to.iso8601 == "9999-12-31T00:00:00Z")
    }

    @Test("the refusal names the window, its length and the cap, and where the cap is set")
    func refusalNamesWindowAndCap() {
        do {
            _ = try DoraWindow.resolve(from: "0001-01-01", to: "9999-12-31", now: Self.now, maxDays: 731)
            Issue.record("the window was accepted")
        } catch {
            #expect(error.problems == [
                "from, to: the window 0001-01-01T00:00:00Z – 9999-12-31T00:00:00Z is 3652058 days long; a report spans at most"
                    + " 731 days (LAKEHOOK_DORA_MAX_WINDOW_DAYS): ask for shorter windows, e.g. one per month or year",
            ])
        }
        // Only `from`: the window runs up to now, and is capped too.
        do {
            _ = try DoraWindow.resolve(from: "2020-01-01T12:00:00Z", to: nil, now: Self.now, maxDays: 731)
            Issue.record("the window was accepted")
        } catch {
            #expect(error.problems.first?.contains("is more than 1612 days long") == true, "\(error.problems)")
        }
    }

    @Test("GET /api/dora with 0001-01-01 to 9999-12-31 ran 30 s; it now answers 400 at once, naming the window and the cap")
    func apiRefusesLongWindow() throws {
        let server = TestServer.shared
        let connection = try server.createConnection(DoraCheck.unique("cap"), project: nil)
        for query in ["project=\(connection.name)&", ""] {
            let started = ContinuousClock.now
            let reply = try server.admin("GET", "/api/dora?\(query)from=0001-01-01&to=9999-12-31")
            #expect(reply.status == 400, "\(reply.text)")
            #expect(ContinuousClock.now - started < .seconds(10))  // it ran 30 s before the cap
            #expect(reply.causes.count == 1)
            #expect(reply.causes.first?.contains("0001-01-01T00:00:00Z – 9999-12-31T00:00:00Z") == true, "\(reply.causes)")
            #expect(reply.causes.first?.contains("at most 731 days") == true, "\(reply.causes)")
        }
        let years = try server.admin("GET", "/api/dora?project=\(connection.name)&from=2023-01-01&to=2025-01-01")
        #expect(years.status == 200, "\(years.text)")
    }

    @Test("GET /dora refuses the same window with a 400 page that names it and the cap")
    func pageRefusesLongWindow() throws {
        let server = TestServer.shared
        let connection = try server.createConnection(DoraCheck.unique("cap-page"), project: nil)
        for query in ["project=\(connection.name)&", ""] {
            let reply = try server.admin("GET", "/dora?\(query)from=2000-01-01&to=2024-01-01")
            #expect(reply.status == 400)
            #expect(reply.header("Content-Type") == "text/html; charset=utf-8")
            #expect(reply.text.contains("2000-01-01T00:00:00Z – 2024-01-01T00:00:00Z is 8766 days long"), "\(reply.text)")
            #expect(reply.text.contains("at most 731 days"))
        }
        #expect(try server.admin("GET", "/dora?project=\(connection.name)&from=2023-01-01&to=2025-01-01").status == 200)
    }

    @Test("LAKEHOOK_DORA_MAX_WINDOW_DAYS sets the cap (1–36525), is listed by --help, and a bad value stops the start")
    func configurable() throws {
        #expect(try Configuration.fromEnvironment([:]).doraMaxWindowDays == 731)
        #expect(try Configuration.fromEnvironment(["LAKEHOOK_DORA_MAX_WINDOW_DAYS": "3660"]).doraMaxWindowDays == 3660)
        for bad in ["0", "-1", "36526", "two years"] {
            #expect(throws: ConfigurationError.self) {
                try Configuration.fromEnvironment(["LAKEHOOK_DORA_MAX_WINDOW_DAYS": bad])
            }
        }
        #expect(Configuration.variables.contains { $0.name == "LAKEHOOK_DORA_MAX_WINDOW_DAYS" && $0.defaultValue == "731" })

        let server = try TestServer(doraMaxWindowDays: 7)
        defer { server.stop() }
        let reply = try server.admin("GET", "/api/dora?from=2024-03-01&to=2024-03-09")
        #expect(reply.status == 400 && reply.causes.first?.contains("is 8 days long; a report spans at most 7 days") == true,
                "\(reply.text)")
        // One project's report: the all-projects one reads every project the test database has
        // gathered, which under the whole suite's load came near the statement timeout (503).
        let connection = try server.createConnection(DoraCheck.unique("cap7"), project: nil)
        let week = try server.admin("GET", "/api/dora?project=\(connection.name)&from=2024-03-01&to=2024-03-08")
        #expect(week.status == 200, "\(week.text)")
    }

    @Test("lakehook dora --from 0001-01-01 --to 9999-12-31 exits 1 with the window and the cap, before connecting")
    func commandLineRefusesLongWindow() throws {
        // In-process: the refusal comes before any connection (this database does not exist).
        let unreachable = try Configuration.fromEnvironment(["DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"])
        let command = try DoraCommand.parse(["--from", "0001-01-01", "--to", "9999-12-31"])
        let error = #expect(throws: DoraCommandError.self) { try command.run(configuration: unreachable) { _ in } }
        #expect(error?.description.contains("is 3652058 days long; a report spans at most 731 days") == true, "\(String(describing: error))")
        let binary = try CommandLineBinaryTests.lakehook(["dora", "--from", "0001-01-01", "--to", "9999-12-31", "--json"])
        #expect(binary.status == 1, "\(binary.err)")
        #expect(binary.err.contains("0001-01-01T00:00:00Z – 9999-12-31T00:00:00Z is 3652058 days long"), "\(binary.err)")
        #expect(binary.out.isEmpty)
        let project = try TestServer.shared.createConnection(DoraCheck.unique("cap-cli"), project: nil).name
        let wider = try CommandLineBinaryTests.lakehook(
            ["dora", "--project", project, "--from", "2020-01-01", "--to", "2024-01-01", "--json"],
            environment: ["LAKEHOOK_DORA_MAX_WINDOW_DAYS": "1461"])
        #expect(wider.status == 0, "\(wider.err)")
    }

    /// Every DORA statement runs on a pool connection, whose session has `statement_timeout`
    /// (ConnectionHandle.connect); nothing resets it. A window past the cap (allowed here by a huge
    /// one) that would run for many seconds is cut off at the timeout: 503, on all three reports.
    @Test("DORA queries run under the pool's statement_timeout: an uncapped long report answers 503 at the timeout")
    func statementTimeoutApplies() throws {
        let connection = try TestServer.shared.createConnection(DoraCheck.unique("timeout"), project: nil)
        var config = TestDatabase.config()
        config.statementTimeout = .milliseconds(300)
        let server = try TestServer(config: config, doraMaxWindowDays: 10_000_000)
        defer { server.stop() }
        let window = "from=0001-01-01&to=9999-12-31"
        for path in ["/api/dora?project=\(connection.name)&\(window)", "/api/dora?\(window)", "/dora?project=\(connection.name)&\(window)"] {
            let started = ContinuousClock.now
            let reply = try server.admin("GET", path)
            let elapsed = ContinuousClock.now - started
            #expect(reply.status == 503, "\(path): \(reply.status) \(reply.text.prefix(300))")
            #expect(reply.header("Retry-After") != nil)
            // The 503 is the cut-off (an uncut report answers 200); the ceiling only says it did
            // not run on for long, and is far from the 300 ms timeout for a loaded machine.
            #expect(elapsed < .seconds(30), "\(path) took \(elapsed)")
        }
    }
}
