import Foundation
import Testing
@testable import Webhooks

@Suite("Client addresses behind proxies")
struct TrustedProxiesTests {
    static func proxies(_ text: String) throws -> TrustedProxies {
        try TrustedProxies.parse(text).get()
    }

    @Test("X-Forwarded-For is believed only from a trusted proxy")
    func onlyFromTrusted() throws {
        let trusted = try Self.proxies("127.0.0.1, 10.0.0.0/8")
        #expect(trusted.clientAddress(peer: "127.0.0.1:5000", forwardedFor: ["203.0.113.7"]) == "203.0.113.7")
        #expect(trusted.clientAddress(peer: "192.0.2.1:5000", forwardedFor: ["203.0.113.7"]) == "192.0.2.1")
        #expect(TrustedProxies.none.clientAddress(peer: "127.0.0.1:5000", forwardedFor: ["203.0.113.7"]) == "127.0.0.1")
    }

    @Test("the rightmost untrusted hop is the client; a spoofed leftmost entry is ignored")
    func rightmostUntrusted() throws {
        let trusted = try Self.proxies("10.0.0.0/8")
        #expect(trusted.clientAddress(peer: "10.0.0.2:1", forwardedFor: ["1.1.1.1, 198.51.100.4, 10.0.0.9"]) == "198.51.100.4")
        #expect(trusted.clientAddress(peer: "10.0.0.2:1", forwardedFor: ["1.1.1.1", "198.51.100.4"]) == "198.51.100.4")
        #expect(trusted.clientAddress(peer: "10.0.0.2:1", forwardedFor: ["garbage, 198.51.100.4"]) == "198.51.100.4")
        #expect(trusted.clientAddress(peer: "10.0.0.2:1", forwardedFor: ["198.51.100.4, garbage"]) == "10.0.0.2")
    }

    @Test("IPv6 peers, mapped IPv4 and CIDR edges")
    func ipv6() throws {
        let trusted = try Self.proxies("::1, 192.168.0.0/16, fd00::/8")
        #expect(trusted.clientAddress(peer: "[::1]:80", forwardedFor: ["2001:db8::1"]) == "2001:db8::1")
        #expect(trusted.clientAddress(peer: "[::ffff:192.168.3.4]:80", forwardedFor: ["203.0.113.1"]) == "203.0.113.1")
        #expect(trusted.isTrusted("fd12::3") && !trusted.isTrusted("fe80::1") && !trusted.isTrusted("192.169.0.1"))
    }

    @Test("bad values are refused", arguments: ["10.0.0.0/33", "nonsense", "::/129", "1.2.3.4/x"])
    func bad(text: String) {
        #expect(throws: TrustedProxies.ParseProblem.self) { try TrustedProxies.parse(text).get() }
    }
}

@Suite("Request ids and metrics")
struct RequestObservabilityTests {
    let server = TestServer.shared

    @Test("X-Request-ID is honoured when sent, generated otherwise, and echoed")
    func requestIds() throws {
        let sent = try server.request("GET", "/livez", headers: [("X-Request-ID", "ci-job-42.step-3")])
        #expect(sent.header("X-Request-ID") == "ci-job-42.step-3")
        let generated = try server.request("GET", "/livez")
        #expect(generated.header("X-Request-ID")?.count == 16)
        let hostile = try server.request("GET", "/livez", headers: [("X-Request-ID", String(repeating: "x", count: 500))])
        #expect(hostile.header("X-Request-ID")?.count == 16)
    }

    /// The value of one sample line, e.g. `lakehook_http_requests_total{method="POST",route="...",status="200"}`.
    static func sample(_ text: String, _ prefix: String) -> Double {
        for line in text.split(separator: "\n") where line.hasPrefix(prefix + " ") {
            return Double(line.split(separator: " ").last ?? "") ?? 0
        }
        return 0
    }

    @Test("/metrics counts requests by route and status, rows by table, and shows pool and process gauges")
    func metricsMove() throws {
        let own = try TestServer()
        defer { own.stop() }
        let (connection, key) = try own.newConnection("metrics")
        let route = "/api/plugins/webhook/:connectionId/issues"
        let before = try own.request("GET", "/metrics").text
        for n in 0..<3 {
            #expect(try own.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("M-\(n)", extra: #","board_key":"B""#), key: key).status == 200)
        }
        #expect(try own.post("/api/plugins/webhook/\(connection.id)/issues", "{}", key: key).status == 400)
        let after = try own.request("GET", "/metrics")
        #expect(after.status == 200 && after.header("Content-Type")?.hasPrefix("text/plain") == true)
        let text = after.text
        func delta(_ prefix: String) -> Double { Self.sample(text, prefix) - Self.sample(before, prefix) }
        #expect(delta("lakehook_http_requests_total{method=\"POST\",route=\"\(route)\",status=\"200\"}") == 3)
        #expect(delta("lakehook_http_requests_total{method=\"POST\",route=\"\(route)\",status=\"400\"}") == 1)
        #expect(delta("lakehook_http_request_duration_seconds_count{route=\"\(route)\"}") == 4)
        #expect(delta("lakehook_rows_written_total{table=\"issues\"}") == 3)
        #expect(delta("lakehook_rows_written_total{table=\"board_issues\"}") == 6)
        #expect(delta("lakehook_rows_written_total{table=\"boards\"}") == 1)
        #expect(Self.sample(text, "lakehook_db_pool_size") == 8)
        #expect(Self.sample(text, "process_resident_memory_bytes") > 1_000_000)
        #expect(Self.sample(text, "process_open_fds") > 3)
    }
}

@Suite("Log formatting")
struct LogFormattingTests {
    @Test("durations print as milliseconds with three decimals", arguments: [
        (0.0, "0.000"), (0.000_001, "0.001"), (0.0123456, "12.346"), (1.5, "1500.000"), (0.000_0004, "0.000"),
    ])
    func milliseconds(seconds: Double, text: String) {
        #expect(RequestLog.milliseconds(seconds) == text)
    }
}
