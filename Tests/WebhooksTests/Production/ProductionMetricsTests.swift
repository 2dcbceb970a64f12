import Foundation
import Testing
@testable import Webhooks

/// `/metrics` as Prometheus reads it: parsed by `prometheus_client`'s text parser (PyPI), and its
/// counters moved by exactly the requests made.
@Suite("Production: /metrics")
struct ProductionMetricsTests {
    static let issues = "/api/plugins/webhook/:connectionId/issues"
    static let tasks = "/api/plugins/webhook/:connectionId/cicd_tasks"

    @Test("/metrics parses with prometheus_client, and known requests move its counters by exactly their number")
    func countersMoveByKnownRequests() throws {
        // A server of its own: no other test's requests move these counters.
        let server = try TestServer()
        defer { server.stop() }
        let (connection, key) = try server.newConnection("metrics")
        let base = "/api/plugins/webhook/\(connection.id)"

        func scrape() throws -> MetricsPage {
            let reply = try server.request("GET", "/metrics")
            #expect(reply.status == 200)
            #expect(reply.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            return try MetricsPage.parse(reply.text)
        }

        let before = try scrape()
        for n in 1...3 {
            let body = BriefSampleCallsTests.issueBody.replacingOccurrences(of: #""DLK-1234""#, with: #""M-\#(n)""#)
            #expect(try server.post("\(base)/issues", body, key: key).status == 200)
        }
        #expect(try server.post("\(base)/issues", #"{"issue_key": "#, key: key).status == 400)
        #expect(try server.post("\(base)/cicd_tasks", BriefSampleCallsTests.taskBody, key: key).status == 200)
        let after = try scrape()

        #expect(after.types["lakehook_http_requests"] == "counter")
        #expect(after.types["lakehook_http_request_duration_seconds"] == "histogram")
        #expect(after.types["lakehook_rows_written"] == "counter")
        #expect(after.types["lakehook_db_errors"] == "counter")
        for gauge in ["lakehook_db_pool_connections", "lakehook_db_pool_size", "lakehook_db_pool_waiting", "process_resident_memory_bytes", "process_open_fds"] {
            #expect(after.types[gauge] == "gauge", "\(gauge)")
        }

        typealias Key = MetricsPage.Key
        func request(_ method: String, _ route: String, _ status: Int) -> Key {
            Key(name: "lakehook_http_requests_total", labels: ["method": method, "route": route, "status": String(status)])
        }
        // The first scrape is counted once it is answered, so it shows in the second.
        #expect(after.delta("lakehook_http_requests_total", since: before) == [
            request("POST", Self.issues, 200): 3, request("POST", Self.issues, 400): 1,
            request("POST", Self.tasks, 200): 1, request("GET", "/metrics", 200): 1,
        ])
        func rows(_ table: String) -> Key { Key(name: "lakehook_rows_written_total", labels: ["table": table]) }
        // Three issues, each linked to two boards: the connection's (made with the connection,
        // so not written here) and DLK (written by the first). One task creating its pipeline
        // and one pipeline commit. The 400 writes nothing.
        #expect(after.delta("lakehook_rows_written_total", since: before) == [
            rows("issues"): 3, rows("boards"): 1, rows("board_issues"): 6,
            rows("cicd_pipelines"): 1, rows("cicd_tasks"): 1, rows("cicd_pipeline_commits"): 1,
        ])
        func histogram(_ suffix: String, _ route: String, _ extra: [String: String] = [:]) -> Key {
            Key(name: "lakehook_http_request_duration_seconds\(suffix)", labels: ["route": route].merging(extra) { $1 })
        }
        #expect(after.delta("lakehook_http_request_duration_seconds_count", since: before) == [
            histogram("_count", Self.issues): 4, histogram("_count", Self.tasks): 1, histogram("_count", "/metrics"): 1,
        ])
        #expect(after.samples[histogram("_bucket", Self.issues, ["le": "+Inf"])] == 4)
        #expect((after.samples[histogram("_sum", Self.issues)] ?? 0) > 0)
        // Buckets are cumulative: never fewer in a wider one.
        for route in [Self.issues, Self.tasks, "/metrics"] {
            let buckets = after.samples.filter { $0.key.name == "lakehook_http_request_duration_seconds_bucket" && $0.key.labels["route"] == route }
                .map { (Double($0.key.labels["le"] ?? "") ?? .infinity, $0.value) }.sorted { $0.0 < $1.0 }
            #expect(buckets.count == Metrics.latencyBuckets.count + 1, "\(route)")
            #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.1 <= $1.1 }, "\(route): \(buckets)")
        }
        #expect(after.delta("lakehook_db_errors_total", since: before).isEmpty)
        #expect(after.samples[Key(name: "lakehook_db_pool_size", labels: [:])] == 8)
        #expect((after.samples[Key(name: "process_resident_memory_bytes", labels: [:])] ?? 0) > 0)
        #expect((after.samples[Key(name: "process_open_fds", labels: [:])] ?? 0) > 0)
        #expect(after.samples[Key(name: "lakehook_db_pool_waiting", labels: [:])] != nil)
        #expect(after.samples[Key(name: "lakehook_db_pool_connections", labels: ["state": "idle"])] != nil)
    }
}
