import Testing
@testable import HTTP

/// The refusal the parser reports for `bytes` fed in `pieces`, draining events after each.
private func refusal(_ bytes: [UInt8], pieces: [Range<Int>]) -> HTTPParseError? {
    var parser = RequestParser()
    for piece in pieces {
        parser.feed(bytes[piece])
        draining: while true {
            switch parser.next() {
            case .needMoreData: break draining
            case .headComplete, .request: continue
            case .failure(let error): return error
            }
        }
    }
    return nil
}

/// Inputs found by fuzz/RequestParserFuzzer.swift, kept as tests (fuzz/README.md).
@Suite("RequestParser: fuzzer regressions")
struct RequestParserFuzzRegressionTests {
    // Broke: fed whole it was refused as a bare LF (400), fed in pieces as too large (431).
    @Test("a header line over the limit that ends in a bare LF is refused the same however it arrives")
    func overLongHeaderLineWithBareLF() {
        let bytes = Array(("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "a", count: 16 * 1024) + "\n\r\n").utf8)
        let whole = refusal(bytes, pieces: [bytes.indices])
        let byteWise = refusal(bytes, pieces: bytes.indices.map { $0..<($0 + 1) })
        #expect(whole == byteWise)
        #expect(whole?.status == 431)
    }

    // Broke: fed whole it was refused as "bare LF", fed in pieces as "request line is too long".
    @Test("a request line over the limit that ends in a bare LF is refused the same however it arrives")
    func overLongRequestLineWithBareLF() {
        let bytes = Array(("POST /" + String(repeating: "p", count: 8 * 1024) + " HTTP/1.1\n\r\n").utf8)
        let whole = refusal(bytes, pieces: [bytes.indices])
        let byteWise = refusal(bytes, pieces: bytes.indices.map { $0..<($0 + 1) })
        #expect(whole == byteWise)
        #expect(whole?.status == 400)
    }
}
