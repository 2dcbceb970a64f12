import Testing
@testable import HTTP

@Suite("ResponseSerializer and HTTPHeaders")
struct ResponseSerializerTests {
    private func wire(_ response: HTTPResponse, isHead: Bool = false, connection: String? = nil) -> String {
        String(decoding: ResponseSerializer.serialize(response, isHead: isHead, connectionHeader: connection)
            .flatMap { $0 }, as: UTF8.self)
    }

    @Test("the server sets Content-Length and drops the handler's framing headers")
    func framingOwnedByServer() {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "999")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        headers.add(name: "Connection", value: "keep-alive")
        headers.add(name: "X-Kept", value: "yes")
        let text = wire(HTTPResponse(status: 200, headers: headers, body: Array("hello".utf8)), connection: "close")
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("\r\nContent-Length: 5\r\n"))
        #expect(!text.contains("999"))
        #expect(!text.contains("chunked"))
        #expect(!text.contains("keep-alive"))
        #expect(text.contains("\r\nConnection: close\r\n"))
        #expect(text.contains("\r\nX-Kept: yes\r\n"))
        #expect(text.hasSuffix("\r\n\r\nhello"))
    }

    @Test("a header value with CR, LF or NUL never reaches the wire")
    func injectionDropped() {
        var headers = HTTPHeaders()
        headers.add(name: "X-Evil", value: "a\r\nSet-Cookie: x=1")
        headers.add(name: "X-Lf", value: "a\nb")
        headers.add(name: "X-Nul", value: "a\u{0}b")
        headers.add(name: "Bad Name", value: "v")
        headers.add(name: "X-Good", value: "fine")
        let text = wire(HTTPResponse(status: 200, headers: headers))
        #expect(!text.contains("Evil"))
        #expect(!text.contains("Set-Cookie"))
        #expect(!text.contains("X-Lf"))
        #expect(!text.contains("X-Nul"))
        #expect(!text.contains("Bad Name"))
        #expect(text.contains("X-Good: fine"))
    }

    @Test("204 has neither Content-Length nor body; HEAD has the length but no body")
    func bodilessAnswers() {
        let noContent = wire(HTTPResponse(status: 204, body: Array("x".utf8)))
        #expect(!noContent.contains("Content-Length"))
        #expect(noContent.hasSuffix("\r\n\r\n"))
        let head = wire(HTTPResponse(status: 200, body: Array("hello".utf8)), isHead: true)
        #expect(head.contains("Content-Length: 5"))
        #expect(head.hasSuffix("\r\n\r\n"))
    }

    @Test("a Date header is added unless the handler set one")
    func dateHeader() {
        #expect(wire(HTTPResponse(status: 200)).contains("\r\nDate: "))
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test("HTTPHeaders looks names up case-insensitively and keeps duplicates")
    func headers() {
        var headers = HTTPHeaders([("Accept", "a"), ("accept", "b"), ("X-One", "1")])
        #expect(headers[first: "ACCEPT"] == "a")
        #expect(headers.values(for: "Accept") == ["a", "b"])
        headers.replaceOrAdd(name: "ACCEPT", value: "c")
        #expect(headers.values(for: "accept") == ["c"])
        headers.replaceOrAdd(name: "X-New", value: "n")
        #expect(headers.map(\.name) == ["Accept", "X-One", "X-New"])
        headers.add(name: "x-one", value: "2")
        #expect(headers.values(for: "X-ONE") == ["1", "2"])
        #expect(headers[first: "missing"] == nil)
    }
}
