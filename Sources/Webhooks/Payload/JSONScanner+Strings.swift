extension JSONScanner {
    /// Reads a string starting at its opening quote; returns it decoded.
    ///
    /// Unescaped runs are validated as UTF-8 in place and decoded in one step; a buffer is only
    /// built once the first escape appears.
    mutating func string() throws(JSONParseError) -> String {
        let opening = index
        index += 1
        var segmentStart = index
        // Filled only once an escape appears; an empty array does not allocate.
        var decoded: [UInt8] = []
        var hasEscapes = false
        while true {
            guard index < bytes.count else {
                throw JSONParseError(
                    message: "unterminated string starting at byte \(opening)", offset: opening)
            }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                let run = UnsafeBufferPointer(rebasing: bytes[segmentStart..<index])
                index += 1
                guard hasEscapes else {
                    return String(decoding: run, as: UTF8.self)
                }
                decoded.append(contentsOf: run)
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                hasEscapes = true
                decoded.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[segmentStart..<index]))
                try escape(into: &decoded)
                segmentStart = index
            case 0x00..<0x20:
                throw failure(
                    "control character U+00\(hex(byte)) inside a string (it must be escaped)")
            case 0x80...:
                try skipMultibyteScalar()
            default:
                index += 1
            }
        }
    }

    /// Reads one escape sequence starting at its backslash and appends its UTF-8 encoding.
    private mutating func escape(into buffer: inout [UInt8]) throws(JSONParseError) {
        let start = index
        index += 1
        guard let letter = peek() else { throw endOfInput(expected: "an escape sequence") }
        index += 1
        switch letter {
        case UInt8(ascii: "\""): buffer.append(0x22)
        case UInt8(ascii: "\\"): buffer.append(0x5C)
        case UInt8(ascii: "/"): buffer.append(0x2F)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hexQuad(escapeStart: start)
            let scalar: Unicode.Scalar?
            switch unit {
            case 0xD800...0xDBFF:
                let lowStart = index
                guard index + 1 < bytes.count,
                      bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else {
                    throw JSONParseError(
                        message: "lone surrogate \\u\(hex(UInt8(unit >> 8)))\(hex(UInt8(unit & 0xFF)))"
                            + " at byte \(start) (a high surrogate must be followed by a low one)",
                        offset: start)
                }
                index += 2
                let low = try hexQuad(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw JSONParseError(
                        message: "lone surrogate \\u\(hex(UInt8(unit >> 8)))\(hex(UInt8(unit & 0xFF)))"
                            + " at byte \(start) (a high surrogate must be followed by a low one)",
                        offset: start)
                }
                scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
            case 0xDC00...0xDFFF:
                throw JSONParseError(
                    message: "lone surrogate \\u\(hex(UInt8(unit >> 8)))\(hex(UInt8(unit & 0xFF)))"
                        + " at byte \(start) (a low surrogate must follow a high one)",
                    offset: start)
            default:
                scalar = Unicode.Scalar(unit)
            }
            // Both branches produce a valid scalar by construction.
            buffer.append(contentsOf: UTF8.encode(scalar!)!)
        default:
            index -= 1
            throw JSONParseError(
                message: "invalid escape '\\\(Character(Unicode.Scalar(letter)))' at byte \(start)",
                offset: start)
        }
    }

    /// Reads the four hex digits after `\u`.
    private mutating func hexQuad(escapeStart: Int) throws(JSONParseError) -> UInt32 {
        var unit: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek() else { throw endOfInput(expected: "four hex digits after \\u") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw JSONParseError(
                    message: "invalid \\u escape at byte \(escapeStart) (expected four hex digits)",
                    offset: escapeStart)
            }
            unit = unit << 4 | UInt32(digit)
            index += 1
        }
        return unit
    }

    /// Checks one multi-byte UTF-8 sequence at the index (RFC 3629 §4: no overlong forms, no
    /// encoded surrogates, nothing above U+10FFFF) and steps over it.
    private mutating func skipMultibyteScalar() throws(JSONParseError) {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xE1...0xEF: length = 3
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw invalidUTF8()
        }
        guard index + length <= bytes.count, secondRange.contains(bytes[index + 1]) else {
            throw invalidUTF8()
        }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) {
            throw invalidUTF8()
        }
        index += length
    }

    private func invalidUTF8() -> JSONParseError {
        JSONParseError(message: "invalid UTF-8 at byte \(index)", offset: index)
    }
}
