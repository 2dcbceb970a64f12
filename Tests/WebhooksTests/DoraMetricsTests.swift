import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// A Lakehook with the DORA routes on a database of its own (so the projects are only the
/// test's), and a `DoraMetricsRefresher` feeding its `/metrics`, logging to a file.
final class DoraMetricsHarness: Sendable {
    let database: ScratchDatabase
    let server: TestServer
    let refresher: DoraMetricsRefresher
    let logPath: String
    private let logFD: Int32

    init(interval: Duration, maxProjects: Int = DoraMetricsRefresher.defaultMaxProjects) throws {
        database = try ScratchDatabase("dorametrics")
        server = try TestServer(config: PostgresConfig(conninfo: database.conninfo))
        logPath = NSTemporaryDirectory() + "lakehook-dora-metrics-\(UUID().uuidString.prefix(8)).log"
        logFD = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        refresher = DoraMetricsRefresher(
            store: DoraStore(pool: server.service.pool), metrics: server.service.metrics,
            log: RequestLog(level: .info, sink: LogSink(fd: logFD)), interval: interval, maxProjects: maxProjects)
    }

    func stop() {
        refresher.stop(deadline: .seconds(30))
        server.stop()
        database.drop()
        close(logFD)
        try? FileManager.default.removeItem(atPath: logPath)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Starts the refresher and waits (up to 30 s) for `count` refreshes in all.
    func refreshed(atLeast count: Int) throws {
        refresher.start()
        try waitUntil(timeout: 30) { refresher.refreshes >= count }
    }

    func scrape() throws -> ScrapedMetrics {
        let reply = try server.request("GET", "/metrics")
        guard reply.status == 200 else { throw TestFailure("/metrics: \(reply.status) \(reply.text)") }
        return ScrapedMetrics(reply.text)
    }

    /// A connection of `project` (nil: its own project, named after it).
    func connection(_ label: String, project: String?) throws -> DoraConnection {
        try server.createConnection(DoraCheck.unique(label), project: project)
    }
}

/// The samples of a text exposition, by `name{labels}` as written.
struct ScrapedMetrics {
    let text: String
    var samples: [String: Double] = [:]

    init(_ text: String) {
        self.text = text
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
    }

    subscript(_ name: String, project project: String? = nil) -> Double? {
        samples[project.map { "\(name){project=\"\($0)\"}" } ?? name]
    }

    /// The DORA lines, in order (what a scrape shows of the snapshot).
    var doraLines: [String] { text.split(separator: "\n").map(String.init).filter { $0.contains("lakehook_dora_") } }
}

/// Instants relative to a whole second near now, as the webhook API takes them.
struct RecentHistory {
    let now = Timestamp(microsecondsSinceEpoch: Timestamp.now().microsecondsSinceEpoch / 1_000_000 * 1_000_000)

    func ago(days: Double, hours: Double = 0) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - Int64((days * 24 + hours) * 3_600_000_000))
    }

    func text(days: Double, hours: Double = 0) -> String { ago(days: days, hours: hours).iso8601 }
}

@Suite("DORA gauges in /metrics")
struct DoraMetricsTests {
    /// Each gauge of `project` against `dora_report(project, to - 30 days, to)`, `to` being the
    /// end the scrape names: equal values, equal levels, and no sample where the report is NULL.
    static func expectGaugesMatchReport(_ scraped: ScrapedMetrics, project: String, database: ScratchDatabase, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let end = try #require(scraped["lakehook_dora_last_refresh_timestamp_seconds"], sourceLocation: sourceLocation)
        let to = Timestamp(microsecondsSinceEpoch: Int64(end) * 1_000_000)
        let from = Timestamp(microsecondsSinceEpoch: to.microsecondsSinceEpoch - 30 * 86_400_000_000)
        let rows = try database.rows(
            "SELECT metric, value, unit, level FROM dora_report($1, $2::timestamptz, $3::timestamptz)",
            [project, from.postgresText, to.postgresText])
        #expect(rows.count == 4, sourceLocation: sourceLocation)
        for row in rows {
            let gauge = try #require(DoraGauge.allCases.first { $0.kind.rawValue == row["metric"] }, sourceLocation: sourceLocation)
            let shown = scraped[gauge.rawValue, project: project]
            let level = scraped[gauge.levelName, project: project]
            guard let value = row["value"].flatMap(Double.init) else {
                #expect(shown == nil, "\(gauge.rawValue) of \(project): dora_report is NULL, so no sample; got \(String(describing: shown))", sourceLocation: sourceLocation)
                #expect(level == nil, sourceLocation: sourceLocation)
                continue
            }
            let factor = try #require(gauge.factor(fromUnit: row["unit"] ?? ""), sourceLocation: sourceLocation)
            let expected = value * factor
            #expect(shown.map { abs($0 - expected) <= 1e-9 * max(1, abs(expected)) } == true,
                    "\(gauge.rawValue) of \(project): \(String(describing: shown)), dora_report says \(expected)", sourceLocation: sourceLocation)
            let expectedLevel = row["level"].flatMap(DoraMetric.Level.init(rawValue:)).map(DoraGauge.number(of:))
            #expect(level == expectedLevel.map(Double.init), "\(gauge.levelName) of \(project)", sourceLocation: sourceLocation)
        }
    }

    @Test("after a small history, each gauge and level equals dora_report for the project and the 30 days up to the refresh; NULL metrics are left out")
    func gaugesEqualDoraReport() throws {
        let harness = try DoraMetricsHarness(interval: .seconds(3600))
        defer { harness.stop() }
        let history = RecentHistory()
        let project = DoraCheck.unique("shop")
        let shop = try harness.connection("shop-deploy", project: project)
        let quiet = try harness.connection("quiet", project: nil) // its own project, named after it
        let sha = DoraCheck.sha
        try shop.pullRequest(1, mergeCommit: sha("1"), created: history.text(days: 22))
        try shop.deployment("D1", commits: [sha("1")], started: history.text(days: 20, hours: 1), finished: history.text(days: 20))
        try shop.pullRequest(2, mergeCommit: sha("2"), created: history.text(days: 15))
        try shop.deployment("D2", commits: [sha("2")], started: history.text(days: 12, hours: 1), finished: history.text(days: 12), result: "FAILURE")
        try shop.deployment("D3", commits: [sha("2")], started: history.text(days: 10, hours: 1), finished: history.text(days: 10))
        try shop.pullRequest(3, mergeCommit: sha("3"), created: history.text(days: 6))
        try shop.deployment("D4", commits: [sha("3")], started: history.text(days: 5, hours: 1), finished: history.text(days: 5))
        try shop.incident("I1", created: history.text(days: 5, hours: -2), resolved: history.text(days: 5, hours: -5))
        // A project with nothing yet: 0 days/week, every other metric NULL (empty denominators).

        try harness.refreshed(atLeast: 1)
        let scraped = try harness.scrape()
        for name in [project, quiet.name] {
            try Self.expectGaugesMatchReport(scraped, project: name, database: harness.database)
        }
        // The history gives every metric of the shop a value, and the quiet project only a frequency.
        for gauge in DoraGauge.allCases {
            #expect(scraped[gauge.rawValue, project: project] != nil, "\(gauge.rawValue) of the shop")
            #expect(scraped[gauge.levelName, project: project] != nil, "\(gauge.levelName) of the shop")
        }
        #expect(scraped[DoraGauge.deploymentFrequency.rawValue, project: quiet.name] == 0)
        #expect(scraped[DoraGauge.deploymentFrequency.levelName, project: quiet.name] == 1)
        for gauge in [DoraGauge.leadTime, .changeFailure, .recoveryTime] {
            #expect(scraped[gauge.rawValue, project: quiet.name] == nil)
            #expect(!scraped.text.contains("\(gauge.rawValue){project=\"\(quiet.name)\"}"))
        }
        #expect(scraped["lakehook_dora_last_deployment_timestamp_seconds", project: project]
            == Double(history.ago(days: 5).microsecondsSinceEpoch / 1_000_000))
        #expect(scraped["lakehook_dora_last_deployment_timestamp_seconds", project: quiet.name] == nil)
        #expect(scraped["lakehook_dora_projects"] == 2)
        #expect(scraped["lakehook_dora_projects_omitted"] == 0)
        #expect(scraped["lakehook_dora_refresh_errors_total"] == 0)
        // The end of the window is the refresh's start: at most a few minutes before now.
        let end = try #require(scraped["lakehook_dora_last_refresh_timestamp_seconds"])
        #expect(abs(end - Double(history.now.microsecondsSinceEpoch / 1_000_000)) < 600)
        for gauge in DoraGauge.allCases {
            #expect(scraped.text.contains("# HELP \(gauge.rawValue) ") && scraped.text.contains("# TYPE \(gauge.rawValue) gauge"))
        }
        let help = scraped.text.split(separator: "\n").first { $0.hasPrefix("# HELP lakehook_dora_deployment_frequency ") }
        #expect(help?.contains("over the 30 days up to the last refresh (UTC") == true, "the HELP names the window: \(String(describing: help))")
    }

    @Test("the gauges are refreshed in the background, every LAKEHOOK_DORA_REFRESH, with no scrape")
    func refreshesWithoutScrape() throws {
        let harness = try DoraMetricsHarness(interval: .seconds(1))
        defer { harness.stop() }
        let history = RecentHistory()
        let project = DoraCheck.unique("later")
        let connection = try harness.connection("later-deploy", project: project)
        try harness.refreshed(atLeast: 1)
        func figures() -> DoraGaugeSnapshot.Project? {
            harness.server.service.metrics.doraSnapshot?.projects.first { $0.name == project }
        }
        #expect(figures()?.values[.deploymentFrequency] == 0)
        #expect(figures()?.lastDeployment == nil)

        // A deployment arrives; no one scrapes; the snapshot takes it in within a few refreshes.
        let before = harness.refresher.refreshes
        try connection.deployment("L1", commits: [DoraCheck.sha("a")], started: history.text(days: 1, hours: 1), finished: history.text(days: 1))
        try waitUntil(timeout: 30) { figures()?.lastDeployment != nil }
        #expect(harness.refresher.refreshes > before)
        #expect(figures()?.lastDeployment == Double(history.ago(days: 1).microsecondsSinceEpoch / 1_000_000))

        // Then a scrape shows what the background refresh found.
        let scraped = try harness.scrape()
        #expect(scraped["lakehook_dora_last_deployment_timestamp_seconds", project: project] == figures()?.lastDeployment)

        // Stopping ends the thread: no refresh after it.
        #expect(harness.refresher.stop(deadline: .seconds(30)))
        let stopped = harness.refresher.refreshes
        harness.refresher.start()
        #expect(harness.refresher.refreshes == stopped, "start after stop does nothing")
    }

    @Test("LAKEHOOK_DORA_PROJECTS_MAX keeps the first projects by name, counts the rest in lakehook_dora_projects_omitted, and logs it")
    func capOmitsProjects() throws {
        let harness = try DoraMetricsHarness(interval: .seconds(3600), maxProjects: 2)
        defer { harness.stop() }
        let stem = DoraCheck.unique("cap")
        for letter in ["c", "a", "b"] {
            _ = try harness.connection("cap-\(letter)", project: "\(stem)-\(letter)")
        }
        try harness.refreshed(atLeast: 1)
        let scraped = try harness.scrape()
        #expect(scraped[DoraGauge.deploymentFrequency.rawValue, project: "\(stem)-a"] == 0)
        #expect(scraped[DoraGauge.deploymentFrequency.rawValue, project: "\(stem)-b"] == 0)
        #expect(scraped[DoraGauge.deploymentFrequency.rawValue, project: "\(stem)-c"] == nil)
        #expect(!scraped.text.contains("\(stem)-c"))
        #expect(scraped["lakehook_dora_projects"] == 2)
        #expect(scraped["lakehook_dora_projects_omitted"] == 1)
        let capLine = harness.log.split(separator: "\n").first { $0.contains("dora metrics capped") }
        #expect(capLine?.contains(#""omitted":1"#) == true, "the log says so: \(harness.log)")
        #expect(capLine?.contains(#""max":2"#) == true)
    }

    @Test("a scrape reads the last snapshot and never the database: with the pool closed, /metrics still shows the same DORA figures")
    func scrapeDoesNotQuery() throws {
        let harness = try DoraMetricsHarness(interval: .seconds(3600))
        defer { harness.stop() }
        let history = RecentHistory()
        let project = DoraCheck.unique("cut")
        let connection = try harness.connection("cut-deploy", project: project)
        try connection.deployment("C1", commits: [DoraCheck.sha("c")], started: history.text(days: 2, hours: 1), finished: history.text(days: 2))
        try harness.refreshed(atLeast: 1)
        let before = try harness.scrape()
        #expect(before[DoraGauge.deploymentFrequency.rawValue, project: project] != nil)

        #expect(harness.refresher.stop(deadline: .seconds(30)))
        harness.server.service.pool.close()
        // Any query would now fail (the pool refuses every checkout).
        #expect(throws: PostgresError.self) { try harness.server.service.pool.withConnection { _ in } }
        for _ in 0..<3 {
            let after = try harness.scrape()
            #expect(after.doraLines == before.doraLines)
        }
    }

    @Test("the exposition: NULL values and levels left out, labels escaped, levels as 4..1, the families always present")
    func rendering() {
        let metrics = Metrics()
        let empty = metrics.render(pool: PoolStatistics(size: 1, open: 0, inUse: 0, idle: 0, waiting: 0))
        #expect(empty.contains("# TYPE lakehook_dora_deployment_frequency gauge"))
        #expect(!empty.contains("\nlakehook_dora_projects_omitted "), "no snapshot yet: the families, no samples")
        #expect(!empty.contains("\nlakehook_dora_deployment_frequency{"))
        var odd = DoraGaugeSnapshot.Project(name: "a\"b\\c")
        odd.values[.deploymentFrequency] = 1.5
        odd.levels[.deploymentFrequency] = 3
        odd.values[.changeFailure] = .nan
        let window = DoraWindow(from: Timestamp(microsecondsSinceEpoch: 0), to: Timestamp(microsecondsSinceEpoch: 30 * 86_400_000_000))
        metrics.publishDora(DoraGaugeSnapshot(window: window, projects: [odd], omitted: 4, seconds: 0.25))
        metrics.recordDoraError()
        let text = metrics.render(pool: PoolStatistics(size: 1, open: 0, inUse: 0, idle: 0, waiting: 0))
        #expect(text.contains(#"lakehook_dora_deployment_frequency{project="a\"b\\c"} 1.5"#))
        #expect(text.contains(#"lakehook_dora_deployment_frequency_level{project="a\"b\\c"} 3"#))
        #expect(!text.contains("lakehook_dora_change_failure_ratio{"))
        #expect(!text.contains("lakehook_dora_lead_time_seconds{"))
        #expect(text.contains("lakehook_dora_projects_omitted 4\n"))
        #expect(text.contains("lakehook_dora_last_refresh_timestamp_seconds 2592000\n"))
        #expect(text.contains("lakehook_dora_refresh_errors_total 1\n"))
    }

    @Test("LAKEHOOK_DORA_REFRESH and LAKEHOOK_DORA_PROJECTS_MAX: defaults 60 and 100, checked at start")
    func configuration() throws {
        let defaults = try Configuration.fromEnvironment([:])
        #expect(defaults.doraRefreshSeconds == 60)
        #expect(defaults.doraProjectsMax == 100)
        let set = try Configuration.fromEnvironment(["LAKEHOOK_DORA_REFRESH": "0", "LAKEHOOK_DORA_PROJECTS_MAX": "5"])
        #expect(set.doraRefreshSeconds == 0)
        #expect(set.doraProjectsMax == 5)
        #expect(throws: ConfigurationError.self) { try Configuration.fromEnvironment(["LAKEHOOK_DORA_REFRESH": "soon"]) }
        #expect(throws: ConfigurationError.self) { try Configuration.fromEnvironment(["LAKEHOOK_DORA_PROJECTS_MAX": "0"]) }
        #expect(Configuration.variables.contains { $0.name == "LAKEHOOK_DORA_REFRESH" && $0.defaultValue == "60" })
        #expect(Configuration.variables.contains { $0.name == "LAKEHOOK_DORA_PROJECTS_MAX" && $0.defaultValue == "100" })
    }
}
