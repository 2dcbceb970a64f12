extension JSONScanner {
    /// Reads a number (RFC 8259 §6) and returns its literal text.
    ///
    ///     number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
    mutating func number() throws(JSONParseError) -> String {
        let start = index
        if peek() == UInt8(ascii: "-") {
            index += 1
        }
        switch peek() {
        case UInt8(ascii: "0"):
            index += 1
            if let next = peek(), isDigit(next) {
                throw failure("leading zeros are not allowed in numbers", at: index - 1)
            }
        case let byte? where isDigit(byte):
            skipDigits()
        case nil:
            throw endOfInput(expected: "a digit")
        default:
            throw unexpected(" (expected a digit after '-')")
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            try requireDigits(after: "the decimal point")
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") {
                index += 1
            }
            try requireDigits(after: "the exponent")
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    private mutating func requireDigits(after what: String) throws(JSONParseError) {
        guard let byte = peek() else { throw endOfInput(expected: "a digit after \(what)") }
        guard isDigit(byte) else {
            throw unexpected(" (expected a digit after \(what))")
        }
        skipDigits()
    }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) {
            index += 1
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
