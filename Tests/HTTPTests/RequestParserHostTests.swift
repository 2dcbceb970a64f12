@testable import HTTP
import Testing

/// RFC 9112 §3.2: an HTTP/1.1 request without Host, or any request with two, is answered 400.
@Suite("RequestParser: the Host header field")
struct RequestParserHostTests {
    @Test("an HTTP/1.1 request without Host is refused with 400, whole and one byte at a time",
          arguments: ["GET / HTTP/1.1\r\n\r\n", "POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nok",
                      "GET / HTTP/1.1\r\nX-Host: a\r\n\r\n"])
    func missingHost(raw: String) {
        #expect(parseBothWays(raw) == [.failure(400)])
    }

    @Test("two Host lines are refused with 400 in HTTP/1.1 and HTTP/1.0, also when equal",
          arguments: ["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
                      "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"])
    func repeatedHost(raw: String) {
        #expect(parseBothWays(raw) == [.failure(400)])
    }

    @Test("one Host in HTTP/1.1, and none in HTTP/1.0, are accepted")
    func accepted() {
        let outcomes = parseBothWays("GET /a HTTP/1.1\r\nHost: example.com\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
        #expect(outcomes.count == 2)
        guard outcomes.count == 2, case .request(let first) = outcomes[0], case .request(let second) = outcomes[1] else { return }
        #expect(first.path == "/a" && first.headers == ["Host: example.com"])
        #expect(second.path == "/b" && second.versionMinor == 0)
    }
}
