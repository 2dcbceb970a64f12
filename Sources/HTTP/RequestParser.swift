#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An incremental HTTP/1.1 request parser (RFC 9112). Feed it byte slices of any size; ask
/// `next()` for events until it answers `.needMoreData`. Bytes of a following (pipelined)
/// request stay buffered for the next round. After a `.failure` the parser stays failed: the
/// connection must answer the error and close.
public struct RequestParser: Sendable {
    public enum Event: Sendable {
        /// Nothing more can be produced until more bytes are fed.
        case needMoreData
        /// The head of a request with a body is complete. `sendContinue` is true when the client
        /// asked for `100-continue`, the declared body is within the limit, and no body byte has
        /// arrived yet: write `HTTP/1.1 100 Continue` before waiting for the body.
        case headComplete(sendContinue: Bool)
        /// A complete request, body de-chunked.
        case request(HTTPRequest)
        /// The request is refused; answer `status` and close.
        case failure(HTTPParseError)
    }

    enum State: Sendable {
        case requestLine
        case headerLines
        case fixedBody(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailerLines
        case failed(HTTPParseError)
    }

    /// The head being assembled, until the request completes.
    struct PendingHead: Sendable {
        var method = ""
        var target = ""
        var versionMinor = 1
        var headers = HTTPHeaders()
        /// Bytes of header (and trailer) lines so far, CRLFs included.
        var headerBytes = 0
        /// Header (and trailer) lines so far.
        var headerCount = 0
    }

    /// A chunk-size line longer than this (extensions included) is refused with 400.
    static let maxChunkSizeLineBytes = 4096

    let limits: ServerLimits
    var buffer: [UInt8] = []
    /// Start of the unconsumed bytes in `buffer`.
    var readIndex = 0
    /// Bytes after `readIndex` already searched for LF, so a line fed one byte at a time is
    /// scanned once, not quadratically.
    var scanned = 0
    var state: State = .requestLine
    var head = PendingHead()
    var body: [UInt8] = []

    public init(limits: ServerLimits = .init()) {
        self.limits = limits
    }

    /// True when some bytes of an unfinished request have arrived (the header timer runs).
    public var hasPartialRequest: Bool {
        if case .requestLine = state { return readIndex < buffer.count }
        return true
    }

    /// The request whose head is complete and whose body is still to come (after
    /// `.headComplete`): method, target, version and headers, with an empty body.
    public var pendingHead: HTTPRequest {
        var request = HTTPRequest(method: head.method, target: head.target, headers: head.headers)
        request.versionMinor = head.versionMinor
        return request
    }

    /// The body size the head declared: its Content-Length, or nil when chunked (unknown until
    /// it ends). Meaningful after `.headComplete`.
    public var declaredBodyLength: Int? {
        if case .fixedBody(let remaining) = state { return remaining + body.count }
        return nil
    }

    /// Bytes fed but not yet consumed.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func feed(_ bytes: some Collection<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Advances as far as the buffered bytes allow.
    public mutating func next() -> Event {
        do throws(HTTPParseError) {
            while true {
                switch state {
                case .failed(let error):
                    return .failure(error)
                case .requestLine:
                    guard let line = try nextLine(limit: limits.maxRequestLineBytes,
                                                  overLimit: .badRequest("request line is too long"))
                    else { return .needMoreData }
                    // RFC 9112 §2.2: a server SHOULD ignore empty lines before the request-line.
                    if line.isEmpty { continue }
                    try parseRequestLine(line)
                    state = .headerLines
                case .headerLines:
                    guard let line = try nextHeaderLine() else { return .needMoreData }
                    if !line.isEmpty {
                        try parseHeaderLine(line, keep: true)
                        continue
                    }
                    if let event = try finishHead() { return event }
                case .fixedBody(let remaining):
                    let taken = takeBody(upTo: remaining)
                    if taken == remaining { return .request(completeRequest()) }
                    state = .fixedBody(remaining: remaining - taken)
                    return .needMoreData
                case .chunkSizeLine:
                    guard let line = try nextLine(limit: Self.maxChunkSizeLineBytes,
                                                  overLimit: .badRequest("chunk size line is too long"))
                    else { return .needMoreData }
                    let size = try parseChunkSize(line)
                    if size == 0 {
                        state = .trailerLines
                    } else {
                        guard size <= limits.maxBodyBytes - body.count else {
                            throw .bodyTooLarge(limit: limits.maxBodyBytes)
                        }
                        state = .chunkData(remaining: size)
                    }
                case .chunkData(let remaining):
                    let taken = takeBody(upTo: remaining)
                    guard taken == remaining else {
                        state = .chunkData(remaining: remaining - taken)
                        return .needMoreData
                    }
                    state = .chunkDataEnd
                case .chunkDataEnd:
                    guard bufferedByteCount >= 2 else { return .needMoreData }
                    guard buffer[readIndex] == ASCII.cr, buffer[readIndex + 1] == ASCII.lf else {
                        throw .badRequest("chunk data is not followed by CRLF")
                    }
                    readIndex += 2
                    state = .chunkSizeLine
                case .trailerLines:
                    // RFC 9112 §7.1.2: trailer fields are accepted and discarded; they count
                    // against the header limits.
                    guard let line = try nextHeaderLine() else { return .needMoreData }
                    if line.isEmpty { return .request(completeRequest()) }
                    try parseHeaderLine(line, keep: false)
                }
            }
        } catch {
            state = .failed(error)
            return .failure(error)
        }
    }

    // MARK: - Lines

    /// The next complete line's content (without CRLF), or nil if it hasn't all arrived.
    /// Lines must end with CRLF; a bare LF is refused (RFC 9112 §2.2 allows refusing it).
    mutating func nextLine(limit: Int, overLimit: HTTPParseError) throws(HTTPParseError) -> Range<Int>? {
        let searchStart = readIndex + scanned
        let end = buffer.count
        let lf: Int? = buffer.withUnsafeBufferPointer { bytes in
            guard searchStart < end, let base = bytes.baseAddress else { return nil }
            guard let found = memchr(base + searchStart, Int32(ASCII.lf), end - searchStart) else {
                return nil
            }
            return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
        }
        guard let lf else {
            scanned = end - readIndex
            // One byte of slack: the CR of the CRLF may already be here.
            if scanned > limit + 1 { throw overLimit }
            return nil
        }
        // The same verdict however the bytes arrive: had they come in pieces, the limit would
        // have been hit before this LF was seen (found by fuzz/RequestParserFuzzer.swift).
        if lf - readIndex > limit + 1 { throw overLimit }
        guard lf > readIndex, buffer[lf - 1] == ASCII.cr else {
            throw .badRequest("bare LF in the request head; lines must end with CRLF")
        }
        let line = readIndex..<(lf - 1)
        if line.count > limit { throw overLimit }
        readIndex = lf + 1
        scanned = 0
        return line
    }

    /// The next header or trailer line, held to what is left of the header byte budget.
    mutating func nextHeaderLine() throws(HTTPParseError) -> Range<Int>? {
        let budget = max(0, limits.maxHeaderBytes - head.headerBytes - 2)
        return try nextLine(
            limit: budget,
            overLimit: .headersTooLarge("request header fields are larger than \(limits.maxHeaderBytes) bytes"))
    }

    /// Moves up to `count` buffered bytes into the body; returns how many.
    mutating func takeBody(upTo count: Int) -> Int {
        let taken = min(count, bufferedByteCount)
        if taken > 0 {
            body.append(contentsOf: buffer[readIndex..<(readIndex + taken)])
            readIndex += taken
        }
        return taken
    }

    mutating func completeRequest() -> HTTPRequest {
        var request = HTTPRequest(method: head.method, target: head.target, headers: head.headers, body: body)
        request.versionMinor = head.versionMinor
        head = PendingHead()
        body = []
        state = .requestLine
        return request
    }

    /// Drops consumed bytes before new ones are appended, keeping the allocation.
    mutating func compact() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= 4096, readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}
