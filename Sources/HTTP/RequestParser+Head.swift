/// The request line, header lines and message framing (RFC 9112 §3, §5, §6).
extension RequestParser {
    /// `method SP request-target SP HTTP-version` (RFC 9112 §3), exactly one SP each.
    mutating func parseRequestLine(_ line: Range<Int>) throws(HTTPParseError) {
        let malformed = HTTPParseError.badRequest("request line is not 'METHOD SP target SP HTTP/1.x'")
        guard let firstSpace = buffer[line].firstIndex(of: ASCII.space),
              let secondSpace = buffer[(firstSpace + 1)..<line.upperBound].firstIndex(of: ASCII.space)
        else { throw malformed }
        let method = buffer[line.lowerBound..<firstSpace]
        let target = buffer[(firstSpace + 1)..<secondSpace]
        let version = buffer[(secondSpace + 1)..<line.upperBound]
        guard !method.isEmpty, method.allSatisfy(ASCII.isToken) else { throw malformed }
        guard !target.isEmpty else { throw malformed }
        var nonASCII = false
        for byte in target {
            // No whitespace or controls in a request-target (RFC 9112 §3.2).
            if byte <= ASCII.space || byte == 0x7F { throw malformed }
            if byte >= 0x80 { nonASCII = true }
        }
        head.versionMinor = try parseVersion(version)
        head.method = String(decoding: method, as: UTF8.self)
        if nonASCII {
            guard let text = String(validating: target, as: UTF8.self) else {
                throw .badRequest("request target is not valid UTF-8")
            }
            head.target = text
        } else {
            head.target = String(decoding: target, as: UTF8.self)
        }
    }

    /// `HTTP/1.0` → 0, `HTTP/1.1` (and any later 1.x, RFC 9110 §6.2) → 1; another major
    /// version → 505; anything else → 400.
    func parseVersion(_ version: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        let bytes = Array(version)
        guard bytes.count == 8, bytes[0..<5].elementsEqual("HTTP/".utf8), bytes[6] == UInt8(ascii: "."),
              let major = digit(bytes[5]), let minor = digit(bytes[7])
        else { throw .badRequest("request line is not 'METHOD SP target SP HTTP/1.x'") }
        guard major == 1 else {
            throw HTTPParseError(status: 505, message: "only HTTP/1.0 and HTTP/1.1 are supported")
        }
        return minor == 0 ? 0 : 1
    }

    private func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }

    /// `field-name ":" OWS field-value OWS` (RFC 9112 §5). `keep` is false for trailers.
    mutating func parseHeaderLine(_ line: Range<Int>, keep: Bool) throws(HTTPParseError) {
        head.headerCount += 1
        head.headerBytes += line.count + 2
        guard head.headerCount <= limits.maxHeaderCount else {
            throw .headersTooLarge("more than \(limits.maxHeaderCount) header fields")
        }
        // RFC 9112 §5.2: obs-fold (a line starting with whitespace) is refused; so is
        // whitespace between the start-line and the first field (§2.2).
        guard !ASCII.isOWS(buffer[line.lowerBound]) else {
            throw .badRequest("header line starts with whitespace (obsolete line folding)")
        }
        guard let colon = buffer[line].firstIndex(of: ASCII.colon) else {
            throw .badRequest("header line has no colon")
        }
        let name = buffer[line.lowerBound..<colon]
        guard !name.isEmpty else { throw .badRequest("header field name is empty") }
        // RFC 9112 §5.1: no whitespace between the field name and the colon; MUST answer 400.
        if let last = name.last, ASCII.isOWS(last) {
            throw .badRequest("whitespace between header field name and colon")
        }
        guard name.allSatisfy(ASCII.isToken) else {
            throw .badRequest("header field name is not a token")
        }
        var valueStart = colon + 1
        var valueEnd = line.upperBound
        while valueStart < valueEnd, ASCII.isOWS(buffer[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, ASCII.isOWS(buffer[valueEnd - 1]) { valueEnd -= 1 }
        let value = buffer[valueStart..<valueEnd]
        // NUL, CR, LF and other controls never belong in a field value (RFC 9110 §5.5).
        guard !value.contains(where: ASCII.isForbiddenInValue) else {
            throw .badRequest("header field value contains a control character")
        }
        guard keep else { return }
        // Bytes beyond ASCII (obs-text) are decoded as UTF-8, invalid sequences replaced.
        head.headers.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    /// After the empty line: decides the framing (RFC 9112 §6.3). Returns the event to report,
    /// or nil to keep going (the body parser will report).
    mutating func finishHead() throws(HTTPParseError) -> Event? {
        try checkHost()
        let transferEncodings = head.headers.values(for: "Transfer-Encoding")
        let contentLengths = head.headers.values(for: "Content-Length")
        var chunked = false
        var length = 0
        if !transferEncodings.isEmpty {
            // RFC 9112 §6.1: Content-Length with Transfer-Encoding is a smuggling attempt
            // (a server MAY reject it; Lakehook does, and closes).
            guard contentLengths.isEmpty else {
                throw .badRequest("request has both Content-Length and Transfer-Encoding")
            }
            // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
            guard head.versionMinor == 1 else {
                throw .badRequest("Transfer-Encoding in an HTTP/1.0 request")
            }
            // Only a single `chunked` is supported. RFC 9112 §6.1 requires 400 when chunked is
            // not final; unknown codings (for which 501 would also do) get 400 too, so every
            // framing refusal answers the same.
            guard head.headers.lowercasedTokens(for: "Transfer-Encoding") == ["chunked"] else {
                throw .badRequest("unsupported Transfer-Encoding; only a single 'chunked' is accepted")
            }
            chunked = true
        } else if !contentLengths.isEmpty {
            length = try parseContentLength(contentLengths)
        }
        guard length <= limits.maxBodyBytes else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
        if !chunked && length == 0 { return .request(completeRequest()) }

        let expectsContinue = head.headers.lowercasedTokens(for: "Expect").contains("100-continue")
        // RFC 9110 §10.1.1: send 100 only to HTTP/1.1 clients that asked, and only while
        // no body byte has arrived yet.
        let sendContinue = expectsContinue && head.versionMinor == 1 && bufferedByteCount == 0
        body.reserveCapacity(chunked ? 0 : min(length, 64 * 1024))
        state = chunked ? .chunkSizeLine : .fixedBody(remaining: length)
        return .headComplete(sendContinue: sendContinue)
    }

    /// RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
    /// HTTP/1.1 request message that lacks a Host header field and to any request message that
    /// contains more than one Host header field line". HTTP/1.0 had no Host, so there it may be
    /// absent (but still not repeated).
    func checkHost() throws(HTTPParseError) {
        let hosts = head.headers.values(for: "Host").count
        if hosts > 1 { throw .badRequest("more than one Host header field") }
        if hosts == 0, head.versionMinor == 1 { throw .badRequest("an HTTP/1.1 request needs a Host header field") }
    }

    /// Every Content-Length field and list element must be the same decimal number
    /// (RFC 9112 §6.3 item 5: identical repeated values may be accepted, anything else is
    /// unrecoverable).
    func parseContentLength(_ values: [String]) throws(HTTPParseError) -> Int {
        var result: Int?
        for value in values {
            for element in value.split(separator: ",", omittingEmptySubsequences: false) {
                let digits = element.trimmingOWS().utf8
                guard !digits.isEmpty, digits.count <= 18,
                      digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                      let number = Int(Substring(digits))
                else { throw .badRequest("Content-Length is not a non-negative decimal number") }
                if let result, result != number {
                    throw .badRequest("conflicting Content-Length values")
                }
                result = number
            }
        }
        return result ?? 0
    }
}
