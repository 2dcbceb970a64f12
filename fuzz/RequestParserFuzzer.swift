import HTTP

/// libFuzzer target for `RequestParser` (build and run with fuzz/run.sh).
///
/// The input is the raw byte stream a client sends on one connection. Beyond "does not crash",
/// each input is checked, under the default limits and under tiny ones (so every limit is
/// reachable by small inputs), for:
/// - the same transcript (requests, then the refusal or the bytes left waiting) whether it is
///   fed whole, one byte at a time, split once at every position (short inputs) and in
///   pseudo-random pieces;
/// - a refusal answers a 4xx/5xx status and the parser stays refused;
/// - every request is within the limits, its fields are well-formed, its body is exactly what
///   its framing declared, and `100 Continue` is offered only to an HTTP/1.1 client that asked;
/// - a request, written back out with Content-Length framing, parses to the same request.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for limits in RequestParserFuzzer.limitSets {
        RequestParserFuzzer.check(bytes, limits: limits)
    }
    return 0
}

enum RequestParserFuzzer {
    static let limitSets: [ServerLimits] = [ServerLimits(), tinyLimits]

    static var tinyLimits: ServerLimits {
        var limits = ServerLimits()
        limits.maxRequestLineBytes = 40
        limits.maxHeaderBytes = 120
        limits.maxHeaderCount = 4
        limits.maxBodyBytes = 64
        return limits
    }

    /// Roomy limits for re-parsing a request written back out (its head may grow a little).
    static var roomyLimits: ServerLimits {
        var limits = ServerLimits()
        limits.maxRequestLineBytes = 1 << 20
        limits.maxHeaderBytes = 1 << 22
        limits.maxHeaderCount = 1 << 16
        limits.maxBodyBytes = 1 << 24
        return limits
    }

    /// What one connection's bytes produced, in a comparable form.
    struct Transcript: Equatable, CustomStringConvertible {
        var requests: [Summary] = []
        var failure: HTTPParseError?
        var leftover = 0
        var partial = false

        var description: String {
            let requestLines = requests.map { "  \($0)" }.joined(separator: "\n")
            return "\(requests.count) requests\n\(requestLines)\n  failure: \(failure?.description ?? "none"), "
                + "leftover \(leftover), partial \(partial)"
        }
    }

    struct Summary: Equatable, CustomStringConvertible {
        var method: String
        var target: String
        var versionMinor: Int
        var headers: [String]
        var body: [UInt8]

        init(_ request: HTTPRequest) {
            method = request.method
            target = request.target
            versionMinor = request.versionMinor
            headers = request.headers.map { "\($0.name): \($0.value)" }
            body = request.body
        }

        var description: String {
            "\(method) \(target) HTTP/1.\(versionMinor) \(headers) body \(body.count) bytes"
        }
    }

    static func check(_ bytes: [UInt8], limits: ServerLimits) {
        let whole = run(bytes, pieces: [0..<bytes.count], limits: limits)
        var strategies: [(String, [Range<Int>])] = [("one byte at a time", bytes.indices.map { $0..<($0 + 1) })]
        if bytes.count <= 128 {
            for cut in 1..<max(1, bytes.count) {
                strategies.append(("split at \(cut)", [0..<cut, cut..<bytes.count]))
            }
        }
        var random = SplitMix(seed: fnv1a(bytes))
        for round in 0..<3 {
            strategies.append(("random pieces #\(round)", randomPieces(count: bytes.count, using: &random)))
        }
        for (name, pieces) in strategies {
            let other = run(bytes, pieces: pieces, limits: limits)
            guard other == whole else {
                fatalError("""
                    fed \(name), the parser produced a different transcript than fed whole
                    whole:
                    \(whole)
                    \(name):
                    \(other)
                    """)
            }
        }
        for request in whole.requests {
            checkRoundTrip(request)
        }
    }

    /// Feeds `pieces` of `bytes` in order, draining events after each, and checks every event.
    static func run(_ bytes: [UInt8], pieces: [Range<Int>], limits: ServerLimits) -> Transcript {
        var parser = RequestParser(limits: limits)
        var transcript = Transcript()
        var headPending = false
        var continueOffered = false
        for (position, piece) in pieces.enumerated() {
            // Both feed overloads are used: the raw-buffer one by every other piece.
            if position % 2 == 0 {
                parser.feed(bytes[piece])
            } else {
                bytes.withUnsafeBytes { parser.feed(UnsafeRawBufferPointer(rebasing: $0[piece])) }
            }
            draining: while true {
                switch parser.next() {
                case .needMoreData:
                    break draining
                case .headComplete(let sendContinue):
                    guard !headPending else { fatalError("two headComplete events without a request between them") }
                    headPending = true
                    continueOffered = sendContinue
                case .request(let request):
                    checkRequest(request, limits: limits, announced: headPending, continueOffered: continueOffered)
                    transcript.requests.append(Summary(request))
                    headPending = false
                    continueOffered = false
                case .failure(let error):
                    guard (400...599).contains(error.status), !error.message.isEmpty else {
                        fatalError("refusal with status \(error.status) and message \"\(error.message)\"")
                    }
                    guard case .failure(let again) = parser.next(), again == error else {
                        fatalError("after refusing with \(error), the parser did not stay refused")
                    }
                    transcript.failure = error
                    return transcript
                }
            }
        }
        transcript.leftover = parser.bufferedByteCount
        transcript.partial = parser.hasPartialRequest
        return transcript
    }

    static func checkRequest(_ request: HTTPRequest, limits: ServerLimits, announced: Bool, continueOffered: Bool) {
        func fail(_ problem: String) -> Never {
            fatalError("accepted request \(Summary(request)): \(problem)")
        }
        if request.body.count > limits.maxBodyBytes { fail("body is larger than maxBodyBytes \(limits.maxBodyBytes)") }
        if request.headers.count > limits.maxHeaderCount { fail("more header fields than maxHeaderCount") }
        if !isToken(request.method) { fail("method is not a token") }
        if request.target.isEmpty || request.target.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            fail("target is empty or holds whitespace or a control character")
        }
        if request.versionMinor != 0 && request.versionMinor != 1 { fail("version is not HTTP/1.0 or HTTP/1.1") }
        for (name, value) in request.headers {
            if !isToken(name) { fail("header name \"\(name)\" is not a token") }
            if value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
                fail("header value holds a control character")
            }
            if let first = value.utf8.first, let last = value.utf8.last,
               first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 {
                fail("header value keeps surrounding whitespace")
            }
        }
        let transferEncodings = request.headers.values(for: "Transfer-Encoding")
        let contentLengths = request.headers.values(for: "Content-Length")
        if !transferEncodings.isEmpty {
            if !contentLengths.isEmpty { fail("both Transfer-Encoding and Content-Length") }
            if request.versionMinor != 1 { fail("Transfer-Encoding in HTTP/1.0") }
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }
                .map { trimmingOWS($0).lowercased() }.filter { !$0.isEmpty }
            if codings != ["chunked"] { fail("Transfer-Encoding \(transferEncodings) accepted") }
            if !announced { fail("chunked body without a headComplete event") }
        } else if let declared = contentLengths.first {
            let first = declared.split(separator: ",", omittingEmptySubsequences: false).first ?? ""
            guard let length = Int(trimmingOWS(first)) else {
                fail("Content-Length \"\(declared)\" accepted")
            }
            if request.body.count != length { fail("body is \(request.body.count) bytes; Content-Length says \(length)") }
            if length > 0 && !announced { fail("body without a headComplete event") }
        } else if !request.body.isEmpty {
            fail("a body without framing")
        }
        if continueOffered {
            let expects = request.headers.values(for: "Expect").contains { $0.lowercased().contains("100-continue") }
            if request.versionMinor != 1 || !expects { fail("100 Continue offered to a client that did not ask") }
        }
    }

    /// Writes the request back out with Content-Length framing and parses it again.
    static func checkRoundTrip(_ original: Summary) {
        var text = "\(original.method) \(original.target) HTTP/1.\(original.versionMinor)\r\n"
        for header in original.headers where !isFraming(header) {
            text += header + "\r\n"
        }
        if !original.body.isEmpty { text += "Content-Length: \(original.body.count)\r\n" }
        text += "\r\n"
        let again = run(Array(text.utf8) + original.body, pieces: [0..<(text.utf8.count + original.body.count)],
                        limits: roomyLimits)
        var expected = original
        expected.headers = original.headers.filter { !isFraming($0) }
        if !original.body.isEmpty { expected.headers.append("Content-Length: \(original.body.count)") }
        guard again.failure == nil, again.requests == [expected], again.leftover == 0 else {
            fatalError("request \(original) written back out parses as\n\(again)")
        }
    }

    static func isFraming(_ header: String) -> Bool {
        let name = header.prefix { $0 != ":" }.lowercased()
        return name == "content-length" || name == "transfer-encoding"
    }

    static func trimmingOWS(_ text: Substring) -> Substring {
        var result = text
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }

    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// Cuts `count` bytes into pieces of 1 to 64 bytes.
    static func randomPieces(count: Int, using random: inout SplitMix) -> [Range<Int>] {
        var pieces: [Range<Int>] = []
        var start = 0
        while start < count {
            let end = min(count, start + 1 + Int(random.next() % 64))
            pieces.append(start..<end)
            start = end
        }
        return pieces
    }

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}

/// A tiny deterministic generator, so a crash reproduces from its input alone.
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
