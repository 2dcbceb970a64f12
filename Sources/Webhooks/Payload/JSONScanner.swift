/// The state of one `JSONParser.parse` run: the bytes, the read position, and the containers
/// open around it. Containers live on an explicit stack, not the call stack.
struct JSONScanner: ~Copyable {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var index = 0

    private enum ContainerKind {
        case array
        case object
    }

    // The open containers, innermost last. Each one's contents live in the array for its kind
    // and are appended to in place (an enum payload would be copied on every append).
    private var openKinds: [ContainerKind] = []
    private var openArrays: [[JSONValue]] = []
    private var openObjects: [[(key: String, value: JSONValue)]] = []
    /// Per open object, the name of the member whose value is being read.
    private var pendingKeys: [String] = []

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
            case UInt8(ascii: "["):
                try enter()
                if peek() == UInt8(ascii: "]") {
                    index += 1
                    value = .array([])
                } else {
                    openKinds.append(.array)
                    openArrays.append([])
                    continue
                }
            case UInt8(ascii: "{"):
                try enter()
                if peek() == UInt8(ascii: "}") {
                    index += 1
                    value = .object(JSONObject())
                } else {
                    pendingKeys.append(try memberName())
                    openKinds.append(.object)
                    openObjects.append([])
                    continue
                }
            default:
                value = try scalar()
            }
            // Add the finished value to the innermost container, closing those that end here.
            attach: while let kind = openKinds.last {
                skipWhitespace()
                let next = peek()
                switch kind {
                case .array:
                    openArrays[openArrays.count - 1].append(value)
                    if next == UInt8(ascii: ",") {
                        index += 1
                        skipWhitespace()
                        if peek() == UInt8(ascii: "]") {
                            throw failure("trailing comma before ']'", at: index)
                        }
                        break attach
                    }
                    guard next == UInt8(ascii: "]") else { throw expected("',' or ']'") }
                    index += 1
                    openKinds.removeLast()
                    value = .array(openArrays.removeLast())
                case .object:
                    let key = pendingKeys.removeLast()
                    openObjects[openObjects.count - 1].append((key: key, value: value))
                    if next == UInt8(ascii: ",") {
                        index += 1
                        skipWhitespace()
                        if peek() == UInt8(ascii: "}") {
                            throw failure("trailing comma before '}'", at: index)
                        }
                        pendingKeys.append(try memberName())
                        break attach
                    }
                    guard next == UInt8(ascii: "}") else { throw expected("',' or '}'") }
                    index += 1
                    openKinds.removeLast()
                    value = .object(JSONObject(members: openObjects.removeLast()))
                }
            }
            if openKinds.isEmpty {
                return value
            }
        }
    }

    /// Steps into an array or object after checking the nesting limit.
    private mutating func enter() throws(JSONParseError) {
        if openKinds.count >= maxDepth {
            throw failure("nesting deeper than \(maxDepth) levels")
        }
        index += 1
        skipWhitespace()
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
        return JSONParseError(
            message: "expected \(what) but found \(found(quoted: true)) at byte \(index)", offset: index)
    }

    /// The byte at the index in words: "character 'x'", "space" or "byte 0x0B" ("'x'" when
    /// `quoted`).
    private func found(quoted: Bool = false) -> String {
        let byte = bytes[index]
        if byte == 0x20 {
            return "space"
        }
        if byte >= 0x21 && byte <= 0x7E {
            let character = "'\(Character(Unicode.Scalar(byte)))'"
            return quoted ? character : "character \(character)"
        }
        return "byte 0x\(hex(byte))"
    }

    /// Two upper-case hex digits.
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
