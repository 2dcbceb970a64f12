/// The state of one `JSONParser.parse` run: the bytes, the read position, and the containers
/// open around it. Containers live on an explicit stack, not the call stack.
struct JSONScanner: ~Copyable {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var index = 0

    /// A container being filled; `key` is the name of the member whose value comes next.
    private enum OpenContainer {
        case array([JSONValue])
        case object([(key: String, value: JSONValue)], key: String)
    }

    private var open: [OpenContainer] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Reads the whole document: one value and nothing after it but whitespace.
    mutating func document() throws(JSONParseError) -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            index = 3
        }
        skipWhitespace()
        if index == bytes.count {
            throw JSONParseError(message: "the document is empty", offset: index)
        }
        let value = try valueAndContainers()
        skipWhitespace()
        if index < bytes.count {
            throw unexpected(" after the end of the document")
        }
        return value
    }

    /// Reads values until the outermost one is complete. Each turn reads one scalar or opens a
    /// container, then closes as many containers as the following bytes close.
    private mutating func valueAndContainers() throws(JSONParseError) -> JSONValue {
        while true {
            var value: JSONValue
            guard let byte = peek() else { throw endOfInput(expected: "a value") }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if open.count >= maxDepth {
                    throw failure("nesting deeper than \(maxDepth) levels")
                }
                index += 1
                skipWhitespace()
                if byte == UInt8(ascii: "[") {
                    if peek() == UInt8(ascii: "]") {
                        index += 1
                        value = .array([])
                    } else {
                        open.append(.array([]))
                        continue
                    }
                } else {
                    if peek() == UInt8(ascii: "}") {
                        index += 1
                        value = .object(JSONObject())
                    } else {
                        let key = try memberName()
                        open.append(.object([], key: key))
                        continue
                    }
                }
            default:
                value = try scalar()
            }
            // Attach the finished value to the containers around it, closing those that end.
            while let container = open.popLast() {
                skipWhitespace()
                let next = peek()
                switch container {
                case .array(var elements):
                    elements.append(value)
                    if next == UInt8(ascii: ",") {
                        index += 1
                        skipWhitespace()
                        if peek() == UInt8(ascii: "]") {
                            throw failure("trailing comma before ']'", at: index)
                        }
                        open.append(.array(elements))
                    } else if next == UInt8(ascii: "]") {
                        index += 1
                        value = .array(elements)
                        continue
                    } else {
                        throw expected("',' or ']'")
                    }
                case .object(var members, let key):
                    members.append((key: key, value: value))
                    if next == UInt8(ascii: ",") {
                        index += 1
                        skipWhitespace()
                        if peek() == UInt8(ascii: "}") {
                            throw failure("trailing comma before '}'", at: index)
                        }
                        let nextKey = try memberName()
                        open.append(.object(members, key: nextKey))
                    } else if next == UInt8(ascii: "}") {
                        index += 1
                        value = .object(JSONObject(members: members))
                        continue
                    } else {
                        throw expected("',' or '}'")
                    }
                }
                break
            }
            if open.isEmpty {
                return value
            }
        }
    }

    /// Reads `"name"` and the `:` after it, leaving the index at the member's value.
    private mutating func memberName() throws(JSONParseError) -> String {
        guard peek() == UInt8(ascii: "\"") else {
            throw expected("a member name in double quotes")
        }
        let key = try string()
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else {
            throw expected("':' after a member name")
        }
        index += 1
        skipWhitespace()
        return key
    }

    /// Reads a string, number, `true`, `false` or `null`.
    private mutating func scalar() throws(JSONParseError) -> JSONValue {
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try number())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "'"):
            throw unexpected(" (JSON strings use double quotes)")
        case UInt8(ascii: "/"):
            throw unexpected(" (JSON has no comments)")
        default:
            throw unexpected(" (expected a value)")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let start = index
        for offset in 0..<word.utf8CodeUnitCount {
            let expected = word.utf8Start[offset]
            guard let byte = peek() else {
                throw endOfInput(expected: "'\(word)'")
            }
            guard byte == expected else {
                throw unexpected(" (expected '\(word)' from byte \(start))")
            }
            index += 1
        }
    }

    // MARK: - Helpers shared by the scanning extensions

    func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    /// Skips RFC 8259 whitespace: space, tab, line feed, carriage return — nothing else.
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// "unexpected character 'x' at byte 17" (or "unexpected byte 0x0B at byte 17" for a byte
    /// that is not printable ASCII), followed by `suffix`.
    func unexpected(_ suffix: String = "") -> JSONParseError {
        JSONParseError(message: "unexpected \(found()) at byte \(index)\(suffix)", offset: index)
    }

    /// "expected ',' or ']' but found 'x' at byte 17".
    func expected(_ what: String) -> JSONParseError {
        guard index < bytes.count else {
            return JSONParseError(
                message: "expected \(what) but found the end of the input at byte \(index)", offset: index)
        }
        return JSONParseError(message: "expected \(what) but found \(found(quoted: true)) at byte \(index)", offset: index)
    }

    /// The byte at the index in words: "character 'x'" or "byte 0x0B" ("'x'" when `quoted`).
    private func found(quoted: Bool = false) -> String {
        let byte = bytes[index]
        if byte >= 0x21 && byte <= 0x7E {
            let character = "'\(Character(Unicode.Scalar(byte)))'"
            return quoted ? character : "character \(character)"
        }
        return "byte 0x\(hex(byte))"
    }

    func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    /// "<problem> at byte N", N being `offset` or the index.
    func failure(_ problem: String, at offset: Int? = nil) -> JSONParseError {
        let offset = offset ?? index
        return JSONParseError(message: "\(problem) at byte \(offset)", offset: offset)
    }

    /// "unexpected end of input at byte N (expected <what>)".
    func endOfInput(expected: String) -> JSONParseError {
        JSONParseError(message: "unexpected end of input at byte \(index) (expected \(expected))", offset: index)
    }
}
