import Foundation
import HTTP
import Testing
import TestSupport

@Suite("HTTPServer: exchanges over loopback")
struct ServerExchangeTests {
    @Test("several requests share one keep-alive connection")
    func keepAlive() throws {
        try withServer { server in
            let client = try TestClient(port: server.port)
            for index in 1...5 {
                try client.send("POST /r\(index) HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n#\(index)")
                let response = try client.readResponse()
                #expect(response.status == 200)
                #expect(response.header("X-Path") == "/r\(index)")
                #expect(response.text == "#\(index)")
                #expect(response.header("Connection") == nil)
            }
            #expect(server.openConnectionCount == 1)
        }
    }

    @Test("a chunked body reaches the handler de-chunked")
    func chunked() throws {
        try withServer { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "Wikipedia")
        }
    }

    @Test("Expect: 100-continue gets 100 Continue before the body is sent, then the answer")
    func expectContinue() throws {
        try withServer { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let interim = try client.readResponse()
            #expect(interim.status == 100)
            try client.send("hello")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "hello")
        }
    }

    @Test("a request written one byte at a time is answered")
    func oneByteAtATime() throws {
        try withServer { server in
            let client = try TestClient(port: server.port)
            try client.sendOneByteAtATime("POST /slowly HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.header("X-Path") == "/slowly")
            #expect(response.text == "abc")
        }
    }

    @Test("two pipelined requests in one write are answered in order")
    func pipelined() throws {
        try withServer { server in
            let client = try TestClient(port: server.port)
            try client.send("POST /first HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\n1GET /second HTTP/1.1\r\nHost: t\r\n\r\n")
            let first = try client.readResponse()
            let second = try client.readResponse()
            #expect(first.header("X-Path") == "/first")
            #expect(first.text == "1")
            #expect(second.header("X-Path") == "/second")
        }
    }

    @Test("HTTP/1.0 closes after the answer; with keep-alive it stays open")
    func http10() throws {
        try withServer { server in
            let closing = try TestClient(port: server.port)
            try closing.send("GET /old HTTP/1.0\r\n\r\n")
            let answer = try closing.readResponse()
            #expect(answer.status == 200)
            #expect(answer.header("Connection") == "close")
            #expect(closing.isClosedByServer())

            let keeping = try TestClient(port: server.port)
            for _ in 1...2 {
                try keeping.send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                let response = try keeping.readResponse()
                #expect(response.status == 200)
                #expect(response.header("Connection") == "keep-alive")
            }
        }
    }

    @Test("Connection: close from an HTTP/1.1 client is honoured")
    func http11Close() throws {
        try withServer { server in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedByServer())
        }
    }

    @Test("a 2 MiB response body arrives complete")
    func largeResponse() throws {
        let payload = (0..<(2 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try withServer(handler: { _ in HTTPResponse(status: 200, body: payload) }) { server in
            let client = try TestClient(port: server.port)
            for _ in 1...2 {
                try client.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 200)
                #expect(response.body.count == payload.count)
                #expect(response.body == payload)
            }
        }
    }

    @Test("the handler sees the peer address and the request's head")
    func requestDetails() throws {
        let handler: HTTPHandler = { request in
            let text = "\(request.remoteAddress)|\(request.method)|\(request.path)|\(request.query ?? "-")|"
                + "\(request.headers[first: "x-test"] ?? "-")"
            return HTTPResponse(status: 201, body: Array(text.utf8))
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            try client.send("DELETE /a/b?c=d HTTP/1.1\r\nHost: t\r\nX-Test: yes\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 201)
            let parts = response.text.split(separator: "|").map(String.init)
            #expect(parts.count == 5)
            #expect(parts.first?.hasPrefix("127.0.0.1:") == true)
            #expect(Array(parts.dropFirst()) == ["DELETE", "/a/b", "c=d", "yes"])
        }
    }

    @Test("a handler header with CRLF is dropped before the wire")
    func headerInjection() throws {
        let handler: HTTPHandler = { _ in
            HTTPResponse(status: 200, headers: HTTPHeaders([("X-Evil", "a\r\nX-Injected: 1"), ("X-Ok", "1")]))
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.header("X-Ok") == "1")
            #expect(response.header("X-Evil") == nil)
            #expect(response.header("X-Injected") == nil)
        }
    }

    @Test("a client that disconnects mid-request never reaches the handler")
    func disconnectMidRequest() throws {
        let calls = CallCounter()
        try withServer(handler: { request in calls.increment(); return echoHandler(request) }) { server in
            do {
                let client = try TestClient(port: server.port)
                try client.send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            }
            let probe = try TestClient(port: server.port)
            try probe.send("GET /probe HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try probe.readResponse().status == 200)
            #expect(calls.value == 1)
        }
    }
}

/// Counts handler calls across threads.
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
