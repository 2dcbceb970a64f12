import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTP
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// Issue 13 (2), (3), (5): what hostile clients could grow or hold is bounded, and what the HTTP
/// layer refuses is logged and counted.
@Suite("Resource bounds under hostile clients")
struct ResourceBoundTests {
    @Test("20,000 invented methods add no metrics series: /metrics keeps its size")
    func junkMethodsAddNoSeries() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port, timeoutSeconds: 15)
        func junk(_ count: Int, from start: Int) throws {
            // Pipelined in batches: each gets its 404 on the same connection.
            for batch in stride(from: start, to: start + count, by: 500) {
                var text = ""
                for n in batch..<min(batch + 500, start + count) {
                    text += "X\(n)JUNK\(String(repeating: "Q", count: n % 50)) /x HTTP/1.1\r\nHost: t\r\n\r\n"
                }
                try client.send(text)
                for _ in batch..<min(batch + 500, start + count) { #expect(try client.receive().status == 404) }
            }
        }
        try junk(10, from: 0)  // the OTHER series exists from here on
        _ = try server.request("GET", "/metrics")  // and so does the one of /metrics itself
        let before = try server.request("GET", "/metrics").text
        try junk(20_000, from: 10)
        let after = try server.request("GET", "/metrics").text
        // The same series; only values changed (counters' digits, latency sums, the RSS gauge).
        func series(_ text: String) -> [Substring] { text.split(separator: "\n").map { $0.prefix { $0 != " " } } }
        #expect(series(after) == series(before))
        #expect(abs(after.utf8.count - before.utf8.count) < 256, "\(before.utf8.count) → \(after.utf8.count) bytes")
        #expect(after.contains(#"lakehook_http_requests_total{method="OTHER",route="unmatched",status="404"} 20010"#))
        #expect(!after.contains("JUNK"))
    }

    @Test("1,024 silent sockets on 4 loops: /readyz and an ingest still answer long before the header timeout, and the silent are shed")
    func silentSocketsCannotTakeTheService() throws {
        var limits = ServerLimits()
        // Long enough that a request held up behind the silent sockets would wait for it.
        limits.headerTimeout = .seconds(20)
        let server = try TestServer(limits: limits, eventLoops: 4)
        defer { server.stop() }
        let (connection, key) = try server.newConnection("silent")
        _ = try server.request("GET", "/readyz")  // the pool's first connection is opened
        let silent = try (0..<1024).map { _ in try TestClient(port: server.port, timeoutSeconds: 40) }
        let started = Date()
        let ready = try server.request("GET", "/readyz")
        let ingest = try server.post(
            "/api/plugins/webhook/\(connection.id)/issues",
            #"{"issue_key":"S-1","title":"t","status":"TODO","original_status":"open","created_date":"2024-01-01"}"#, key: key)
        let elapsed = Date().timeIntervalSince(started)
        #expect(ready.status == 200 && ingest.status == 200, "\(ready.text) \(ingest.text)")
        #expect(elapsed < 10, "answered after \(elapsed) s")
        print("1,024 silent sockets: /readyz and an ingest answered in \(Int(elapsed * 1000)) ms")
        // The oldest were evicted as others arrived; the rest go at the header timeout.
        #expect(silent.allSatisfy { $0.isClosedByServer() })
        let metrics = try server.request("GET", "/metrics").text
        let evicted = RequestObservabilityTests.sample(metrics, #"lakehook_http_refusals_total{reason="evicted_silent"}"#)
        let timedOut = RequestObservabilityTests.sample(metrics, #"lakehook_http_refusals_total{reason="header_timeout"}"#)
        #expect(evicted >= 1024 - 256)
        #expect(evicted + timedOut == 1024)
    }

    @Test("refusals are logged (rate-limited) and counted (every one), with their reasons")
    func refusalsLoggedAndCounted() throws {
        let logFile = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("refusals-\(UUID().uuidString.prefix(8)).log")
        #expect(FileManager.default.createFile(atPath: logFile.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: logFile) }
        let fd = open(logFile.path, O_WRONLY | O_APPEND)
        var limits = ServerLimits()
        limits.headerTimeout = .milliseconds(300)
        limits.maxHeaderBytes = 1024
        let server = try TestServer(limits: limits, log: RequestLog(level: .info, sink: LogSink(fd: fd)))
        defer { server.stop() }
        for _ in 0..<15 {
            let client = try TestClient(port: server.port, timeoutSeconds: 15)
            try client.send("GET /livez HTTP/1.1\r\n\r\n")  // no Host
            #expect(try client.receive().status == 400)
        }
        let big = try TestClient(port: server.port, timeoutSeconds: 15)
        try big.send("GET /livez HTTP/1.1\r\nHost: t\r\nX: \(String(repeating: "a", count: 2000))\r\n\r\n")
        #expect(try big.receive().status == 431)
        let slow = try TestClient(port: server.port, timeoutSeconds: 15)
        try slow.send("GET /livez HTTP/1.1\r\nHost: t\r\n")
        #expect(try slow.receive().status == 408)

        let metrics = try server.request("GET", "/metrics").text
        #expect(RequestObservabilityTests.sample(metrics, #"lakehook_http_refusals_total{reason="bad_framing"}"#) == 15)
        #expect(RequestObservabilityTests.sample(metrics, #"lakehook_http_refusals_total{reason="headers_too_large"}"#) == 1)
        #expect(RequestObservabilityTests.sample(metrics, #"lakehook_http_refusals_total{reason="header_timeout"}"#) == 1)
        // The refusal's line is written on the loop after its answer went out: a slow build
        // (make check) can read the file first, so wait for the last one (up to 3 s).
        func refusedLines() -> [Substring] {
            ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").split(separator: "\n")
                .filter { $0.contains(#""msg":"refused""#) }
        }
        try? waitUntil(timeout: 3) { refusedLines().contains { $0.contains(#""reason":"header_timeout""#) } }
        let refused = refusedLines()
        let badFraming = refused.filter { $0.contains(#""reason":"bad_framing""#) }
        // 15 in well under a second: at most 10 lines (two seconds' worth if the run straddled one).
        #expect(badFraming.count >= 10 && badFraming.count <= 15 && badFraming.count < 15 + 1)
        #expect(badFraming.allSatisfy { $0.contains(#""status":400"#) && $0.contains(#""client":"127.0.0.1:"#) })
        #expect(refused.contains { $0.contains(#""reason":"headers_too_large""#) && $0.contains(#""status":431"#) })
        #expect(refused.contains { $0.contains(#""reason":"header_timeout""#) && $0.contains(#""status":408"#) })
    }
}

@Suite("RefusalLog: at most N lines per reason and second, every refusal counted")
struct RefusalLogTests {
    final class Clock: @unchecked Sendable {
        var second: Int64 = 0
    }

    @Test("past the limit lines are suppressed, then one line says how many; the metric counts all")
    func rateLimited() throws {
        let logFile = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("refusal-log-\(UUID().uuidString.prefix(8)).log")
        #expect(FileManager.default.createFile(atPath: logFile.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: logFile) }
        let metrics = Metrics()
        let clock = Clock()
        let refusals = RefusalLog(
            log: RequestLog(level: .info, sink: LogSink(fd: open(logFile.path, O_WRONLY | O_APPEND))),
            metrics: metrics, linesPerSecond: 3, clock: { clock.second })
        let timeout = HTTPRefusal(reason: .headerTimeout, status: nil, remoteAddress: "192.0.2.1:5")
        for _ in 0..<10 { refusals.record(timeout) }
        refusals.record(HTTPRefusal(reason: .tooLarge, status: 413, remoteAddress: "192.0.2.1:6"))
        clock.second = 1
        refusals.record(timeout)
        let lines = try String(contentsOf: logFile, encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0.contains(#""reason":"header_timeout""#) && $0.contains(#""msg":"refused""#) }.count == 4)
        #expect(lines.filter { $0.contains(#""reason":"too_large""#) }.count == 1)
        let summary = lines.filter { $0.contains(#""msg":"refusals not logged""#) }
        #expect(summary.count == 1 && summary[0].contains(#""count":7"#) && summary[0].contains("header_timeout"))
        let text = metrics.render(pool: PoolStatistics(size: 1, open: 0, inUse: 0, idle: 0, waiting: 0))
        #expect(RequestObservabilityTests.sample(text, #"lakehook_http_refusals_total{reason="header_timeout"}"#) == 11)
    }
}
