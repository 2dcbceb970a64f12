import Foundation
import HTTP
import Testing
import TestSupport

/// Hardening over real sockets: request smuggling is refused with 400 and the connection
/// closed before the handler sees anything, and slow clients cost sockets, not handler threads.
@Suite("Hostile clients")
struct HostileClientTests {
    /// Each a way to make two parsers disagree about where a request ends (RFC 9112 §6.3, §5.2).
    static let smuggling: [(String, String)] = [
        ("Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("two different Content-Lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"),
        ("a list of different Content-Lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 5\r\n\r\nabcde"),
        ("a negative Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
        ("a bad chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
        ("a chunk size with a sign", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n"),
        ("a chunk without its CRLF", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n"),
        ("chunked not last", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
        ("an unknown transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n"),
        ("an obs-fold line", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n Content-Length: 9\r\n\r\nabc"),
        ("whitespace before the colon", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 3\r\n\r\nabc"),
        ("a NUL in a header value", "POST / HTTP/1.1\r\nHost: x\u{0}y\r\nContent-Length: 0\r\n\r\n"),
        ("a bare CR in a header value", "POST / HTTP/1.1\r\nHost: x\ry\r\nContent-Length: 0\r\n\r\n"),
        ("a bare LF ending a header line", "POST / HTTP/1.1\r\nHost: x\nContent-Length: 0\r\n\r\n"),
        ("a NUL in the request target", "POST /a\u{0}b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
    ]

    @Test("request smuggling is refused with 400, the connection closed and the handler never called",
          arguments: smuggling)
    func smugglingRefused(name: String, request: String) throws {
        let calls = Shared(0)
        let handler: HTTPHandler = { request in
            calls.withLock { $0 += 1 }
            return echoHandler(request)
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            try client.send(request)
            let response = try client.readResponse()
            #expect(response.status == 400, "\(name)")
            #expect(response.header("Connection") == "close")
            #expect(response.text.hasPrefix(#"{"code":400,"success":false"#))
            #expect(client.isClosedByServer(), "\(name)")
        }
        #expect(calls.withLock { $0 } == 0, "\(name) reached the handler")
    }

    @Test("200 slow-loris clients each cost a socket, not a handler, and are cut off by the header timeout")
    func slowLoris() throws {
        var limits = ServerLimits()
        limits.headerTimeout = .milliseconds(1500)
        // What a slow client could cost beyond its socket is handler work (a thread of the
        // handler pool): counted exactly, where a process-wide thread count would also count
        // whatever other suites start meanwhile.
        let calls = Shared(0)
        let handler: HTTPHandler = { request in
            calls.withLock { $0 += 1 }
            return echoHandler(request)
        }
        try withServer(limits: limits, handler: handler) { server in
            var clients: [TestClient] = []
            for _ in 0..<200 {
                let client = try TestClient(port: server.port, timeoutSeconds: 10)
                try client.send("POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                clients.append(client)
            }
            for client in clients { try? client.send("a") }
            try waitUntil(timeout: 20) { server.openConnectionCount == 200 }
            #expect(calls.withLock { $0 } == 0, "a slow client reached the handler")
            // The server still answers others while they dribble.
            let other = try TestClient(port: server.port)
            try other.send("GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(try other.readResponse().status == 200)
            #expect(calls.withLock { $0 } == 1)
            // Then the header timeout cuts every slow client off with 408.
            var timedOut = 0
            for client in clients where (try? client.readResponse().status) == 408 { timedOut += 1 }
            #expect(timedOut == 200)
            try waitUntil(timeout: 20) { server.openConnectionCount == 0 }
        }
    }
}
