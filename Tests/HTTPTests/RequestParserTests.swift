import Testing
@testable import HTTP

@Suite("RequestParser: well-formed requests")
struct RequestParserTests {
    @Test("a GET parses the same whole and one byte at a time")
    func simpleGet() throws {
        let raw = "GET /api/plugins/webhook/1/issues?x=1&y=%2F HTTP/1.1\r\nHost: example\r\nUser-Agent: t\r\n\r\n"
        let whole = parse(raw)
        let byteWise = parse(raw, oneByteAtATime: true)
        #expect(whole.outcomes == byteWise.outcomes)
        let outcome = try #require(whole.outcomes.first)
        guard case .request(let request) = outcome else { Issue.record("got \(outcome)"); return }
        #expect(request.method == "GET")
        #expect(request.target == "/api/plugins/webhook/1/issues?x=1&y=%2F")
        #expect(request.path == "/api/plugins/webhook/1/issues")
        #expect(request.query == "x=1&y=%2F")
        #expect(request.versionMinor == 1)
        #expect(request.headers == ["Host: example", "User-Agent: t"])
        #expect(request.body.isEmpty)
        #expect(whole.leftover == 0)
    }

    @Test("a POST with Content-Length carries exactly its body, both ways")
    func contentLengthBody() {
        let raw = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"
        let outcomes = parseBothWays(raw)
        #expect(outcomes.count == 1)
        guard case .request(let request) = outcomes.first else { Issue.record("got \(outcomes)"); return }
        #expect(request.bodyText == "hello world")
    }

    @Test("pipelined keep-alive requests come out in order and a partial third waits")
    func pipelined() {
        let first = "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
        let second = "GET /b HTTP/1.1\r\nHost: t\r\n\r\n"
        let third = "GET /c HTTP/1.1\r\nHost: t\r\nHo"
        for oneByte in [false, true] {
            let result = parse(first + second + third, oneByteAtATime: oneByte)
            #expect(result.outcomes.count == 2)
            guard case .request(let a) = result.outcomes.first, case .request(let b) = result.outcomes.last else {
                Issue.record("got \(result.outcomes)"); continue
            }
            #expect(a.path == "/a" && a.bodyText == "abc")
            #expect(b.path == "/b" && b.body.isEmpty)
            // The partial third request is kept whole or as an unfinished line.
            #expect(result.leftover <= third.utf8.count)
        }
    }

    @Test("bytes of the next request stay buffered until the parser is asked again")
    func leftoverKeptForNextRound() {
        var parser = RequestParser()
        parser.feed(Array("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        guard case .request(let first) = parser.next() else { Issue.record("no first request"); return }
        #expect(first.path == "/1")
        #expect(parser.hasPartialRequest)
        guard case .request(let second) = parser.next() else { Issue.record("no second request"); return }
        #expect(second.path == "/2")
        guard case .needMoreData = parser.next() else { Issue.record("expected needMoreData"); return }
        #expect(!parser.hasPartialRequest)
    }

    @Test("a chunked body with extensions and trailers is de-chunked, both ways")
    func chunkedWithExtensionsAndTrailers() {
        let raw = "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n"
            + "6 ; quoted=\"a;b\"\r\n world\r\n"
            + "000\r\nX-Trailer: discarded\r\nChecksum: 1\r\n\r\n"
            + "GET /next HTTP/1.1\r\nHost: t\r\n\r\n"
        let outcomes = parseBothWays(raw)
        #expect(outcomes.count == 2)
        guard case .request(let request) = outcomes.first else { Issue.record("got \(outcomes)"); return }
        #expect(request.bodyText == "hello world")
        #expect(!request.headers.contains { $0.hasPrefix("X-Trailer") })
        guard case .request(let next) = outcomes.last else { Issue.record("got \(outcomes)"); return }
        #expect(next.path == "/next")
    }

    @Test("Transfer-Encoding is matched without regard to case")
    func chunkedCaseInsensitive() {
        let outcomes = parseBothWays("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n")
        guard case .request(let request) = outcomes.first else { Issue.record("got \(outcomes)"); return }
        #expect(request.bodyText == "x")
    }

    @Test("an HTTP/1.0 request reports minor version 0")
    func http10() {
        let outcomes = parseBothWays("GET / HTTP/1.0\r\n\r\n")
        guard case .request(let request) = outcomes.first else { Issue.record("got \(outcomes)"); return }
        #expect(request.versionMinor == 0)
    }

    @Test("empty lines before the request line are ignored (RFC 9112 §2.2)")
    func leadingEmptyLines() {
        let outcomes = parseBothWays("\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\n\r\n")
        guard case .request(let request) = outcomes.first else { Issue.record("got \(outcomes)"); return }
        #expect(request.path == "/x")
    }

    @Test("duplicate header fields are all kept, in order, with optional whitespace trimmed")
    func duplicateHeaders() {
        let outcomes = parseBothWays("GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\nx-a:2  \r\nX-A:\t 3\r\n\r\n")
        guard case .request(let request) = outcomes.first else { Issue.record("got \(outcomes)"); return }
        #expect(request.headers == ["Host: t", "X-A: 1", "x-a: 2", "X-A: 3"])
    }

    @Test("identical repeated Content-Length values are accepted")
    func repeatedContentLength() {
        let outcomes = parseBothWays("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok")
        guard case .request(let request) = outcomes.first else { Issue.record("got \(outcomes)"); return }
        #expect(request.bodyText == "ok")
    }

    @Test("a missing Host in HTTP/1.1 is accepted")
    func missingHost() {
        let outcomes = parseBothWays("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(outcomes.count == 1)
        guard case .request = outcomes.first else { Issue.record("got \(outcomes)"); return }
    }

    @Test("Expect: 100-continue asks for a 100 only while no body byte has arrived")
    func expectContinue() {
        let head = "POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
        #expect(parse(head).continues == 1)
        #expect(parse(head + "body").continues == 0)
        #expect(parse(head + "body", oneByteAtATime: true).continues == 1)
        #expect(parse(head + "body").outcomes.count == 1)
        // Not for HTTP/1.0, nor without a body.
        #expect(parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n").continues == 0)
        #expect(parse("GET / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n").continues == 0)
    }

    @Test("an absolute-form target yields its path and query")
    func absoluteForm() {
        let outcomes = parseBothWays("GET http://example.com:8080/a/b?q=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        guard case .request(let request) = outcomes.first else { Issue.record("got \(outcomes)"); return }
        #expect(request.path == "/a/b")
        #expect(request.query == "q=1")
        #expect(request.target == "http://example.com:8080/a/b?q=1")
    }

    @Test("HTTPRequest splits its target into path and query")
    func requestInitSplitsTarget() {
        #expect(HTTPRequest(method: "GET", target: "/a?b=c?d").query == "b=c?d")
        #expect(HTTPRequest(method: "GET", target: "/a?").query == "")
        #expect(HTTPRequest(method: "GET", target: "/a").query == nil)
        #expect(HTTPRequest(method: "GET", target: "/a%3Fb").path == "/a%3Fb")
    }

    @Test("a body arriving in many reads is assembled whole")
    func largeBodyInPieces() {
        let body = String(repeating: "0123456789", count: 20_000)
        var parser = RequestParser()
        parser.feed(Array("PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n".utf8))
        guard case .headComplete = parser.next() else { Issue.record("no head"); return }
        let bytes = Array(body.utf8)
        var index = 0
        var result: HTTPRequest?
        while index < bytes.count {
            parser.feed(bytes[index..<min(index + 7_001, bytes.count)])
            index += 7_001
            if case .request(let request) = parser.next() { result = request }
        }
        #expect(result?.body == bytes)
    }
}
