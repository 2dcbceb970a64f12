import Testing
@testable import HTTP

/// One malformed or over-limit request and the status the parser must refuse it with.
struct Refusal: CustomTestStringConvertible, Sendable {
    var name: String
    var raw: String
    var status: Int
    var limits: ServerLimits = ServerLimits()

    var testDescription: String { "\(name) → \(status)" }
}

private func limits(_ change: (inout ServerLimits) -> Void) -> ServerLimits {
    var limits = ServerLimits()
    change(&limits)
    return limits
}

@Suite("RequestParser: refusals")
struct RequestParserRefusalTests {
    static let framing: [Refusal] = [
        Refusal(name: "Content-Length together with Transfer-Encoding",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
        Refusal(name: "two different Content-Length fields",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", status: 400),
        Refusal(name: "a Content-Length list with different values",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 4\r\n\r\nabcd", status: 400),
        Refusal(name: "a non-numeric Content-Length",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", status: 400),
        Refusal(name: "a negative Content-Length",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", status: 400),
        Refusal(name: "a Content-Length with a plus sign",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello", status: 400),
        Refusal(name: "an overflowing Content-Length",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n", status: 400),
        Refusal(name: "an empty Content-Length",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n\r\n", status: 400),
        Refusal(name: "a transfer coding other than chunked",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", status: 400),
        Refusal(name: "chunked that is not the final coding",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", status: 400),
        Refusal(name: "chunked after another coding",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 400),
        Refusal(name: "chunked applied twice",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400),
        Refusal(name: "Transfer-Encoding in an HTTP/1.0 request",
                raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
        Refusal(name: "a chunk size that is not hexadecimal",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", status: 400),
        Refusal(name: "a chunk size with trailing garbage",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n", status: 400),
        Refusal(name: "an empty chunk size line",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", status: 400),
        Refusal(name: "a chunk size that overflows",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", status: 400),
        Refusal(name: "chunk data not followed by CRLF",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", status: 400),
    ]

    static let syntax: [Refusal] = [
        Refusal(name: "obs-fold continuation line",
                raw: "GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n  folded\r\n\r\n", status: 400),
        Refusal(name: "whitespace before the first header line",
                raw: "GET / HTTP/1.1\r\n X-A: 1\r\n\r\n", status: 400),
        Refusal(name: "NUL in a header value",
                raw: "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\u{0}b\r\n\r\n", status: 400),
        Refusal(name: "a bare CR in a header value",
                raw: "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n", status: 400),
        Refusal(name: "a bare LF ending a header line",
                raw: "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\nX-B: b\r\n\r\n", status: 400),
        Refusal(name: "a bare LF ending the request line",
                raw: "GET / HTTP/1.1\n\r\n", status: 400),
        Refusal(name: "a bare CR in the request line",
                raw: "GET /\r HTTP/1.1\r\nHost: t\r\n\r\n", status: 400),
        Refusal(name: "NUL in the request target",
                raw: "GET /a\u{0}b HTTP/1.1\r\nHost: t\r\n\r\n", status: 400),
        Refusal(name: "whitespace between a header name and the colon",
                raw: "GET / HTTP/1.1\r\nHost : x\r\n\r\n", status: 400),
        Refusal(name: "a header name that is not a token",
                raw: "GET / HTTP/1.1\r\nHost: t\r\nBad{Name}: x\r\n\r\n", status: 400),
        Refusal(name: "a header line without a colon",
                raw: "GET / HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n", status: 400),
        Refusal(name: "an empty header name",
                raw: "GET / HTTP/1.1\r\nHost: t\r\n: x\r\n\r\n", status: 400),
        Refusal(name: "a request line without a version",
                raw: "GET /\r\n\r\n", status: 400),
        Refusal(name: "a request line with two spaces",
                raw: "GET  / HTTP/1.1\r\nHost: t\r\n\r\n", status: 400),
        Refusal(name: "a request line with a space inside the target",
                raw: "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", status: 400),
        Refusal(name: "a lowercase protocol name",
                raw: "GET / http/1.1\r\n\r\n", status: 400),
        Refusal(name: "a method that is not a token",
                raw: "G(T / HTTP/1.1\r\nHost: t\r\n\r\n", status: 400),
        Refusal(name: "HTTP/2.0 in the request line",
                raw: "GET / HTTP/2.0\r\n\r\n", status: 505),
        Refusal(name: "a malformed version",
                raw: "GET / HTTP/1.10\r\n\r\n", status: 400),
    ]

    static let limited: [Refusal] = [
        Refusal(name: "a request line over the limit",
                raw: "GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\nHost: t\r\n\r\n", status: 400,
                limits: limits { $0.maxRequestLineBytes = 64 }),
        Refusal(name: "header bytes over the limit",
                raw: "GET / HTTP/1.1\r\nHost: t\r\nX-A: " + String(repeating: "a", count: 60) + "\r\nX-B: "
                    + String(repeating: "b", count: 60) + "\r\n\r\n", status: 431,
                limits: limits { $0.maxHeaderBytes = 100 }),
        Refusal(name: "more header lines than the limit",
                raw: "GET / HTTP/1.1\r\nHost: t\r\n" + (1...6).map { "X-\($0): v\r\n" }.joined() + "\r\n", status: 431,
                limits: limits { $0.maxHeaderCount = 5 }),
        Refusal(name: "a Content-Length over the body limit",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n", status: 413,
                limits: limits { $0.maxBodyBytes = 10 }),
        Refusal(name: "chunk sizes adding up past the body limit",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n", status: 413,
                limits: limits { $0.maxBodyBytes = 10 }),
        Refusal(name: "trailer bytes over the header limit",
                raw: "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: "
                    + String(repeating: "t", count: 120) + "\r\n\r\n", status: 431,
                limits: limits { $0.maxHeaderBytes = 100 }),
    ]

    @Test("framing errors are refused, whole and one byte at a time", arguments: framing)
    func framingRefused(_ refusal: Refusal) {
        #expect(parseBothWays(refusal.raw, limits: refusal.limits).last == .failure(refusal.status))
    }

    @Test("syntax errors in the head are refused, whole and one byte at a time", arguments: syntax)
    func syntaxRefused(_ refusal: Refusal) {
        #expect(parseBothWays(refusal.raw, limits: refusal.limits).last == .failure(refusal.status))
    }

    @Test("each limit is enforced with its status, whole and one byte at a time", arguments: limited)
    func limitRefused(_ refusal: Refusal) {
        #expect(parseBothWays(refusal.raw, limits: refusal.limits).last == .failure(refusal.status))
    }

    @Test("an over-long request line is refused before its end arrives")
    func requestLineRefusedEarly() {
        var limits = ServerLimits()
        limits.maxRequestLineBytes = 64
        let result = parse("GET /" + String(repeating: "a", count: 200), limits: limits)
        #expect(result.outcomes == [.failure(400)])
    }

    @Test("a body over the limit is refused from Content-Length, before any body byte")
    func bodyRefusedBeforeData() {
        var limits = ServerLimits()
        limits.maxBodyBytes = 1_048_576
        let result = parse("POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1048577\r\n\r\n", limits: limits)
        #expect(result.outcomes == [.failure(413)])
        #expect(result.continues == 0)
    }

    @Test("a body exactly at the limit is accepted")
    func bodyAtLimit() {
        var limits = ServerLimits()
        limits.maxBodyBytes = 10
        let outcomes = parseBothWays("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits)
        guard case .request(let request) = outcomes.first else { Issue.record("got \(outcomes)"); return }
        #expect(request.body.count == 10)
    }

    @Test("a parser stays failed after a refusal")
    func staysFailed() {
        var parser = RequestParser()
        parser.feed(Array("GET / HTTP/2.0\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        guard case .failure(let first) = parser.next(), case .failure(let second) = parser.next() else {
            Issue.record("expected failures"); return
        }
        #expect(first == second)
        #expect(first.status == 505)
    }
}
