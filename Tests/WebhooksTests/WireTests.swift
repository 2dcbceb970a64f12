import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// The HTTP framing a CI job's client uses, through the whole service (issue: keep-alive,
/// chunked, Expect: 100-continue, byte-at-a-time, pipelining, header limits).
@Suite("HTTP on the wire")
struct WireTests {
    let server = TestServer.shared
    let connection: DevLakeConnection
    let key: String

    init() throws { (connection, key) = try TestServer.shared.newConnection("wire") }

    func issueRequest(_ issueKey: String, close: Bool = false) -> String {
        let body = RoutesTests.issue(issueKey)
        return "POST /api/plugins/webhook/\(connection.id)/issues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\n"
            + (close ? "Connection: close\r\n" : "") + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    func stored(_ issueKey: String) throws -> Bool {
        try LakehookDatabase.count("SELECT count(*) FROM issues WHERE id = $1", [connection.rowId(issueKey)]) == 1
    }

    @Test("several requests on one keep-alive connection")
    func keepAlive() throws {
        let client = try TestClient(port: server.port, timeoutSeconds: 15)
        for n in 0..<5 {
            try client.send(issueRequest("KA-\(n)"))
            let reply = try client.receive()
            #expect(reply.status == 200)
            #expect(reply.header("Connection")?.lowercased() != "close")
        }
        for n in 0..<5 { #expect(try stored("KA-\(n)")) }
    }

    @Test("a chunked body")
    func chunked() throws {
        let body = Array(RoutesTests.issue("CH-1").utf8)
        var request = "POST /api/plugins/webhook/\(connection.id)/issues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\nTransfer-Encoding: chunked\r\n\r\n"
        var offset = 0
        for size in [1, 10, 50, body.count] where offset < body.count {
            let end = min(body.count, offset + size)
            request += String(end - offset, radix: 16) + "\r\n" + String(decoding: body[offset..<end], as: UTF8.self) + "\r\n"
            offset = end
        }
        request += "0\r\n\r\n"
        let client = try TestClient(port: server.port, timeoutSeconds: 15)
        try client.send(request)
        #expect(try client.receive().status == 200)
        #expect(try stored("CH-1"))
    }

    @Test("Expect: 100-continue gets 100 before the body, then the answer")
    func expectContinue() throws {
        let description = String(repeating: "d", count: 4000)
        let body = RoutesTests.issue("EC-1", extra: #","description":"\#(description)""#)
        let client = try TestClient(port: server.port, timeoutSeconds: 15)
        try client.send("POST /api/plugins/webhook/\(connection.id)/issues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\nExpect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        var interim = [UInt8](repeating: 0, count: 25)
        let n = recv(client.fd, &interim, interim.count, 0)
        #expect(String(decoding: interim[..<max(n, 0)], as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
        try client.send(body)
        #expect(try client.receive().status == 200)
        #expect(try LakehookDatabase.value("SELECT length(description) FROM issues WHERE id = $1", [connection.rowId("EC-1")]) == "4000")
    }

    @Test("a request fed one byte at a time")
    func oneByteAtATime() throws {
        let client = try TestClient(port: server.port, timeoutSeconds: 15)
        for byte in Array(issueRequest("BY-1").utf8) { try client.send([byte]) }
        #expect(try client.receive().status == 200)
        #expect(try stored("BY-1"))
    }

    @Test("two pipelined requests are answered in order")
    func pipelined() throws {
        let client = try TestClient(port: server.port, timeoutSeconds: 15)
        let closeFirst = "POST /api/plugins/webhook/\(connection.id)/issue/PL-1/close HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\nContent-Length: 0\r\n\r\n"
        try client.send(issueRequest("PL-1") + closeFirst)
        let first = try client.receive()
        let second = try client.receive()
        #expect(first.status == 200 && first.data?["id"] == .string(connection.rowId("PL-1")))
        #expect(second.status == 200 && second.data?["status"] == .string("DONE"))
    }

    @Test("headers over the limit are 431 with a JSON body, and the connection is closed")
    func headersTooLarge() throws {
        let client = try TestClient(port: server.port, timeoutSeconds: 15)
        let big = String(repeating: "a", count: 20_000)
        try client.send("POST /api/plugins/webhook/\(connection.id)/issues HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\nContent-Length: 2\r\n\r\n{}")
        let reply = try client.receive()
        #expect(reply.status == 431)
        #expect(reply.json?["success"] == .bool(false))
        #expect(client.isClosedByServer())
    }

    @Test("HTTP/1.0 without keep-alive is answered and closed")
    func http10() throws {
        let client = try TestClient(port: server.port, timeoutSeconds: 15)
        try client.send("GET /livez HTTP/1.0\r\n\r\n")
        #expect(try client.receive().status == 200)
        #expect(client.isClosedByServer())
    }
}

@Suite("Interrupted uploads")
struct InterruptedUploadTests {
    @Test("a client that disconnects mid-body writes nothing")
    func disconnectMidBody() throws {
        let server = TestServer.shared
        let (connection, key) = try server.newConnection("cut")
        let body = RoutesTests.issue("CUT-1")
        let client = try TestClient(port: server.port, timeoutSeconds: 15)
        try client.send("POST /api/plugins/webhook/\(connection.id)/issues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + String(body.prefix(body.count / 2)))
        shutdown(client.fd, Int32(SHUT_RDWR))
        usleep(300_000)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM issues WHERE id = $1", [connection.rowId("CUT-1")]) == 0)
        // A chunked upload cut before its last chunk writes nothing either.
        let chunked = try TestClient(port: server.port, timeoutSeconds: 15)
        try chunked.send("POST /api/plugins/webhook/\(connection.id)/issues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\nTransfer-Encoding: chunked\r\n\r\n\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n")
        shutdown(chunked.fd, Int32(SHUT_RDWR))
        usleep(300_000)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM issues WHERE id = $1", [connection.rowId("CUT-1")]) == 0)
    }
}
