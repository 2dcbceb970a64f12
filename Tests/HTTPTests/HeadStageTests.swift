import Foundation
import HTTP
import Testing
import TestSupport

/// The head handler decides before the body is read; the body budget bounds what is buffered;
/// every refusal of the server's own is reported with its reason.
@Suite("HTTPServer: the head stage, the body budget and refusal reports")
struct HeadStageTests {
    /// Refuses every request to /deny (401, as an application would without a key).
    static let denyHead: HTTPHeadHandler = { head in
        guard head.path == "/deny" else { return .proceed }
        return .refuse(HTTPResponse(status: 401, body: Array("no key".utf8)))
    }

    /// Counts the requests that reach the handler.
    final class Calls: @unchecked Sendable {
        private var count = 0
        private let lock = NSLock()
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }

    @Test("a request refused from its head is answered before its body, without 100 Continue, then closed")
    func refusedBeforeBody() throws {
        let calls = Calls()
        try withServer(handler: { request in calls.add(); return echoHandler(request) }, headHandler: Self.denyHead) { server in
            let client = try TestClient(port: server.port)
            // 1,000,000 bytes declared and none sent: the answer comes all the same.
            try client.send("POST /deny HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 401)  // not 100
            #expect(response.header("Connection") == "close")
            #expect(response.text == "no key")
            try? client.send([UInt8](repeating: 0x61, count: 100_000))  // discarded, not buffered
            #expect(client.isClosedByServer())
            #expect(calls.value == 0)
        }
    }

    @Test("a request let through reads its body, after 100 Continue, and reaches the handler")
    func proceedReadsBody() throws {
        try withServer(headHandler: Self.denyHead) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /ok HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            #expect(try client.readResponse().status == 100)
            try client.send("hello")
            let response = try client.readResponse()
            #expect(response.status == 200 && response.text == "hello")
        }
    }

    @Test("what the head stage carries reaches the handler with that request only, not the next one on the connection")
    func carriedDecision() throws {
        let head: HTTPHeadHandler = { head in .proceedCarrying("decided for \(head.path)") }
        let handler: HTTPHandler = { request in
            HTTPResponse(status: 200, body: Array(((request.headDecision as? String) ?? "nothing").utf8))
        }
        try withServer(handler: handler, headHandler: head) { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
            #expect(try client.readResponse().text == "decided for /a")
            // No body, so no head stage: nothing is carried over from the request before.
            try client.send("GET /b HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().text == "nothing")
        }
    }

    @Test("a blocking decision runs off the loop while nothing is read, then the body is read or refused")
    func blockingDecision() throws {
        let head: HTTPHeadHandler = { head in
            .decideBlocking {
                usleep(100_000)
                return head.path == "/deny" ? .refuse(HTTPResponse(status: 403)) : .proceed
            }
        }
        try withServer(eventLoops: 1, headHandler: head) { server in
            let allowed = try TestClient(port: server.port)
            try allowed.send("POST /ok HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
            // The loop is free meanwhile: another connection is answered.
            let other = try TestClient(port: server.port)
            try other.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try other.readResponse().status == 200)
            let response = try allowed.readResponse()
            #expect(response.status == 200 && response.text == "hello")

            let denied = try TestClient(port: server.port)
            try denied.send("POST /deny HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
            #expect(try denied.readResponse().status == 403)
            #expect(denied.isClosedByServer())
        }
    }

    @Test("a body past the budget of bodies held at once is answered 503 before it is read; the budget comes back")
    func bodyBudget() throws {
        var limits = ServerLimits()
        limits.maxBodyBytes = 1000
        limits.maxBufferedBodyBytes = 1000
        let recorder = RefusalRecorder()
        try withServer(limits: limits, onRefusal: recorder.observer) { server in
            let holder = try TestClient(port: server.port)
            try holder.send("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 800\r\n\r\nabc")
            usleep(100_000)
            let second = try TestClient(port: server.port)
            try second.send("POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\n\r\n")
            #expect(try second.readResponse().status == 503)
            #expect(recorder.reasons == [.bodyBudget])
            try holder.send(String(repeating: "x", count: 797))
            #expect(try holder.readResponse().status == 200)
            let third = try TestClient(port: server.port)
            try third.send("POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 900\r\n\r\n" + String(repeating: "y", count: 900))
            #expect(try third.readResponse().status == 200)
        }
    }

    @Test("every refusal of the server's own is reported once with its reason",
          arguments: [
              ("GET / HTTP/1.1\r\n\r\n", HTTPRefusal.Reason.badFraming, 400),
              ("GET / HTTP/1.1\r\nHost: t\r\nX: \(String(repeating: "a", count: 20_000))\r\n\r\n", .headersTooLarge, 431),
              ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n", .tooLarge, 413),
              ("GET / HTTP/2.0\r\n\r\n", .badVersion, 505),
              ("GET / HTTP/1.1\r\nHost: t", .headerTimeout, 408),
              ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\nab", .bodyTimeout, 408),
          ])
    func refusalsReported(raw: String, reason: HTTPRefusal.Reason, status: Int) throws {
        var limits = ServerLimits()
        limits.headerTimeout = .milliseconds(300)
        limits.bodyTimeout = .milliseconds(300)
        let recorder = RefusalRecorder()
        try withServer(limits: limits, onRefusal: recorder.observer) { server in
            let client = try TestClient(port: server.port)
            try client.send(raw)
            #expect(try client.readResponse().status == status)
            #expect(recorder.wait { $0 == [reason] })
        }
    }

    @Test("a connection over the cap is reported as connection_limit")
    func connectionLimitReported() throws {
        var limits = ServerLimits()
        limits.maxConnections = 1
        let recorder = RefusalRecorder()
        try withServer(limits: limits, onRefusal: recorder.observer) { server in
            let first = try TestClient(port: server.port)
            try first.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try first.readResponse().status == 200)
            let second = try TestClient(port: server.port)
            #expect(try second.readResponse().status == 503)
            #expect(recorder.wait { $0 == [.connectionLimit] })
        }
    }
}
