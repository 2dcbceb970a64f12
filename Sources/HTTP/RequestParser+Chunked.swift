/// The chunked transfer coding's size line (RFC 9112 §7.1).
extension RequestParser {
    /// `chunk-size [ chunk-ext ]`: 1*HEXDIG, then optional BWS and `;`-extensions, which are
    /// ignored (§7.1.1). Returns the size.
    func parseChunkSize(_ line: Range<Int>) throws(HTTPParseError) -> Int {
        let invalid = HTTPParseError.badRequest("invalid chunk size line")
        var index = line.lowerBound
        var size = 0
        var significantDigits = 0
        while index < line.upperBound, let value = ASCII.hexValue(buffer[index]) {
            if significantDigits > 0 || value != 0 { significantDigits += 1 }
            // 15 hex digits stay well inside Int; any real chunk is far smaller.
            guard significantDigits <= 15 else { throw .badRequest("chunk size is too large") }
            size = size << 4 | Int(value)
            index += 1
        }
        guard index > line.lowerBound else { throw invalid }
        while index < line.upperBound, ASCII.isOWS(buffer[index]) { index += 1 }
        guard index == line.upperBound || buffer[index] == ASCII.semicolon else { throw invalid }
        guard !buffer[index..<line.upperBound].contains(where: ASCII.isForbiddenInValue) else {
            throw invalid
        }
        return size
    }
}
