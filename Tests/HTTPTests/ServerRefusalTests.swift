import Foundation
import HTTP
import Testing
import TestSupport

@Suite("HTTPServer: refusals, limits and timeouts")
struct ServerRefusalTests {
    /// The server's own errors carry the app's error body and close the connection.
    private func expectRefusal(_ response: Reply, status: Int, client: TestClient) {
        #expect(response.status == status)
        #expect(response.header("Connection") == "close")
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.text.hasPrefix(#"{"code":\#(status),"success":false"#))
        #expect(client.isClosedByServer())
    }

    @Test("headers over the limit get 431 with the errorResponse body, then the connection closes")
    func headersTooLarge() throws {
        var limits = ServerLimits()
        limits.maxHeaderBytes = 1024
        try withServer(limits: limits) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "a", count: 2000))\r\n\r\n")
            expectRefusal(try client.readResponse(), status: 431, client: client)
        }
    }

    @Test("more header lines than the limit get 431")
    func tooManyHeaders() throws {
        var limits = ServerLimits()
        limits.maxHeaderCount = 10
        try withServer(limits: limits) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: t\r\n" + (1...11).map { "X-\($0): v\r\n" }.joined() + "\r\n")
            expectRefusal(try client.readResponse(), status: 431, client: client)
        }
    }

    @Test("a declared body over the limit gets 413 at once, without 100 Continue")
    func bodyTooLargeDeclared() throws {
        var limits = ServerLimits()
        limits.maxBodyBytes = 1024
        try withServer(limits: limits) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1025\r\n\r\n")
            expectRefusal(try client.readResponse(), status: 413, client: client)
        }
    }

    @Test("a client still sending a too-large body reads the 413 rather than a reset")
    func bodyTooLargeWhileSending() throws {
        var limits = ServerLimits()
        limits.maxBodyBytes = 1024
        try withServer(limits: limits) { server in
            let client = try TestClient(port: server.port)
            let body = [UInt8](repeating: 0x61, count: 200_000)
            try client.send(Array("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
            expectRefusal(try client.readResponse(), status: 413, client: client)
        }
    }

    @Test("a chunked body growing past the limit gets 413")
    func chunkedTooLarge() throws {
        var limits = ServerLimits()
        limits.maxBodyBytes = 1024
        try withServer(limits: limits) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n"
                + String(repeating: "x", count: 1024) + "\r\n1\r\n")
            expectRefusal(try client.readResponse(), status: 413, client: client)
        }
    }

    @Test("Content-Length with Transfer-Encoding gets 400 and the connection closes")
    func contentLengthWithTransferEncoding() throws {
        try withServer { server in
            let client = try TestClient(port: server.port)
            try client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            expectRefusal(try client.readResponse(), status: 400, client: client)
        }
    }

    @Test("an HTTP/2 request line gets 505")
    func versionNotSupported() throws {
        try withServer { server in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/2.0\r\n\r\n")
            expectRefusal(try client.readResponse(), status: 505, client: client)
        }
    }

    @Test("a head not completed within the header timeout gets 408")
    func headerTimeout() throws {
        var limits = ServerLimits()
        limits.headerTimeout = .milliseconds(300)
        try withServer(limits: limits) { server in
            let client = try TestClient(port: server.port)
            let started = Date()
            try client.send("GET / HTTP/1.1\r\nHost: slow")
            let response = try client.readResponse()
            #expect(Date().timeIntervalSince(started) >= 0.25)
            expectRefusal(response, status: 408, client: client)
        }
    }

    @Test("a body not completed within the body timeout gets 408")
    func bodyTimeout() throws {
        var limits = ServerLimits()
        limits.bodyTimeout = .milliseconds(300)
        try withServer(limits: limits) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            expectRefusal(try client.readResponse(), status: 408, client: client)
        }
    }

    @Test("an idle keep-alive connection is closed silently after the idle timeout")
    func idleTimeout() throws {
        var limits = ServerLimits()
        limits.idleTimeout = .seconds(3)
        try withServer(limits: limits) { server in
            let client = try TestClient(port: server.port, timeoutSeconds: 1)
            try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().status == 200)
            // Not closed early: still open a second in (a slow machine can only close it later).
            #expect(!client.isClosedByServer(), "closed before its idle timeout")
            // Then closed, silently, within a generous ceiling.
            // Each check waits up to the client's 1 s receive timeout, so no pause between them.
            let closed = (try? waitUntil(interval: 0) { client.isClosedByServer() }) != nil
            #expect(closed)
        }
    }

    @Test("a connection beyond the cap gets 503 with the errorResponse body and is closed")
    func connectionCap() throws {
        var limits = ServerLimits()
        limits.maxConnections = 1
        try withServer(limits: limits) { server in
            let first = try TestClient(port: server.port)
            try first.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try first.readResponse().status == 200)
            #expect(server.openConnectionCount == 1)

            let second = try TestClient(port: server.port)
            try second.send("GET /2 HTTP/1.1\r\nHost: t\r\n\r\n")
            expectRefusal(try second.readResponse(), status: 503, client: second)
            #expect(server.openConnectionCount == 1)

            // The first connection still works, and its slot frees when it closes.
            try first.send("GET /1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(try first.readResponse().status == 200)
            #expect(first.isClosedByServer())
            try waitUntil { server.openConnectionCount == 0 }
            let third = try TestClient(port: server.port)
            try third.send("GET /3 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try third.readResponse().status == 200)
        }
    }
}
