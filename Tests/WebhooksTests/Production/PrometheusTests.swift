import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// Debian's `prometheus` package: the server and `promtool` (.ci/run and scripts/deps.sh --test
/// install it). Missing, each test fails saying so; it is never skipped in silence.
enum PrometheusTools {
    static let server = "/usr/bin/prometheus"
    static let promtool = "/usr/bin/promtool"
    /// docker/prometheus, from this file's place (Tests/WebhooksTests/Production/).
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docker/prometheus")

    /// True when `path` can run; else records why the test cannot.
    static func available(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        if FileManager.default.isExecutableFile(atPath: path) { return true }
        Issue.record("\(path) is missing, so this test cannot run: install Debian's package (apt-get install prometheus; .ci/run and scripts/deps.sh --test do)", sourceLocation: sourceLocation)
        return false
    }

    /// Runs a tool to completion; its status and output (stdout and stderr together).
    static func run(_ argv: [String]) throws -> (status: Int32, output: String) {
        let output = NSTemporaryDirectory() + "lakehook-promtool-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        return try spawnAndWait(argv, outputPath: output)
    }

    /// `GET` on Prometheus's HTTP API with curl (Prometheus may answer chunked); the JSON's `data`.
    static func api(port: Int, _ pathAndQuery: String) throws -> [String: Any] {
        let run = try run(["/usr/bin/curl", "-sS", "--max-time", "10", "http://127.0.0.1:\(port)\(pathAndQuery)"])
        guard run.status == 0,
              let object = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any],
              object["status"] as? String == "success", let data = object["data"] as? [String: Any]
        else { throw TestFailure("Prometheus \(pathAndQuery): \(run.status) \(run.output)") }
        return data
    }
}

@Suite("Prometheus: scraping the DORA gauges, and the alert rules")
struct PrometheusTests {
    @Test("a real Prometheus scraping a real lakehook every second gets lakehook_dora_deployment_frequency equal to dora_report")
    func prometheusScrapesDoraGauges() throws {
        guard PrometheusTools.available(PrometheusTools.server), PrometheusTools.available("/usr/bin/curl") else { return }
        let database = try ScratchDatabase("prometheus")
        defer { database.drop() }
        let token = "prometheus-test-admin-token-0123"
        let lakehook = try LakehookProcess(databaseURL: database.conninfo, environment: [
            "LAKEHOOK_DORA_REFRESH": "1", "LAKEHOOK_ADMIN_TOKEN": token,
        ])

        // One project deploying once a week for four weeks: 1 day a week, a figure that is not 0.
        let project = DoraCheck.unique("prom-shop")
        let created = try lakehook.post(
            "/api/rest/plugins/webhook/connections", #"{"name":"\#(DoraCheck.unique("prom"))","project":"\#(project)"}"#, key: token)
        guard created.status == 200, case .number(let id)? = created.data?["id"], case .string(let key)? = created.data?["apiKey"] else {
            Issue.record("cannot create a connection: \(created.status) \(created.text)")
            return
        }
        let history = RecentHistory()
        for (n, days) in [1.0, 8, 15, 22].enumerated() {
            let body = #"{"id":"P\#(n)","result":"SUCCESS","environment":"PRODUCTION","startedDate":"\#(history.text(days: days, hours: 1))","finishedDate":"\#(history.text(days: days))","deploymentCommits":[{"repoUrl":"https://git.example.com/shop","commitSha":"\#(DoraCheck.sha(Character(String(n))))","refName":"main"}]}"#
            let reply = try lakehook.post("/api/rest/plugins/webhook/connections/\(id)/deployments", body, key: key)
            #expect(reply.status == 200, "deployment \(n): \(reply.text)")
        }

        // Prometheus with a configuration and storage of its own, on a free port.
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lakehook-prometheus-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("data"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("prometheus.yml")
        try """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: lakehook
                static_configs:
                  - targets: ["127.0.0.1:\(lakehook.port)"]

            """.write(to: config, atomically: true, encoding: .utf8)
        let port = try freePort()
        let log = folder.appendingPathComponent("prometheus.log").path
        let pid = try spawn([
            PrometheusTools.server, "--config.file=\(config.path)", "--storage.tsdb.path=\(folder.appendingPathComponent("data").path)",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ], stdoutPath: log)
        defer {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }

        // Both series of one query come from one scrape: the figure and the end of its window.
        let query = #"{__name__=~"lakehook_dora_deployment_frequency|lakehook_dora_last_refresh_timestamp_seconds",project=~"\#(project)|"}"#
        let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        var frequency: Double?, end: Double?
        do {
            try waitUntil(timeout: 60) {
                let data = try PrometheusTools.api(port: port, "/api/v1/query?query=\(encoded)")
                frequency = nil
                end = nil
                for series in data["result"] as? [[String: Any]] ?? [] {
                    guard let metric = series["metric"] as? [String: String], let value = series["value"] as? [Any],
                          value.count == 2, let text = value[1] as? String else { continue }
                    switch metric["__name__"] {
                    case "lakehook_dora_deployment_frequency": frequency = Double(text)
                    case "lakehook_dora_last_refresh_timestamp_seconds": end = Double(text)
                    default: break
                    }
                }
                return frequency != nil && end != nil
            }
        } catch {
            let prometheusLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            Issue.record("Prometheus never returned the gauge within 60 s: \(error)\n--- prometheus:\n\(prometheusLog)\n--- lakehook:\n\(lakehook.log)")
            return
        }
        let to = Timestamp(microsecondsSinceEpoch: Int64(try #require(end)) * 1_000_000)
        let from = Timestamp(microsecondsSinceEpoch: to.microsecondsSinceEpoch - 30 * 86_400_000_000)
        let expected = try database.rows(
            "SELECT value FROM dora_report($1, $2::timestamptz, $3::timestamptz) WHERE metric = 'deployment_frequency'",
            [project, from.postgresText, to.postgresText]).first?["value"].flatMap(Double.init)
        #expect(frequency == expected, "Prometheus has \(String(describing: frequency)); dora_report says \(String(describing: expected))")
        #expect(expected == 1, "four weekly deployments in 30 days: 1 day a week")

        // SIGTERM stops the refreshes with the rest: the process exits 0.
        lakehook.signal(SIGTERM)
        #expect(lakehook.waitForExit(timeout: 30) == 0, "lakehook did not exit 0 on SIGTERM:\n\(lakehook.log)")
    }

    @Test("promtool: docker/prometheus's config and DORA rules check out, and the rules pass their unit tests")
    func promtoolChecksConfigAndRules() throws {
        guard PrometheusTools.available(PrometheusTools.promtool) else { return }
        let folder = PrometheusTools.folder.path
        for argv in [
            ["check", "config", "\(folder)/prometheus.yml"],
            ["check", "rules", "\(folder)/dora.rules.yml"],
            ["test", "rules", "\(folder)/dora.rules.test.yml"],
        ] {
            let run = try PrometheusTools.run([PrometheusTools.promtool] + argv)
            #expect(run.status == 0, "promtool \(argv.joined(separator: " ")):\n\(run.output)")
        }
    }
}
