import Testing
@testable import Webhooks

@Suite("JSON parser: rejected documents")
struct JSONParserRejectionTests {
    private func error(_ bytes: [UInt8], maxDepth: Int = 64) -> JSONParseError? {
        do {
            _ = try JSONParser.parse(bytes, maxDepth: maxDepth)
            return nil
        } catch {
            return error
        }
    }

    private func error(_ text: String) -> JSONParseError? {
        error(Array(text.utf8))
    }

    @Test("refuses documents that are not strict RFC 8259", arguments: [
        "", "   ", "[1,]", #"{"a":1,}"#, "[1 2]", #"{"a" 1}"#, #"{a:1}"#, "{1:2}", "// c\n{}", "/* c */ {}",
        "NaN", "Infinity", "-Infinity", "01", "-01", "00", "1.", ".5", "-", "+1", "1e", "1e+", "0x10",
        "'text'", #"{'a':1}"#, "tru", "nul", "True", "[", "{", #"{"a":"#, #""open"#, "]", "}",
        "{} {}", "[] x", "1 2", "\u{0B}[]", "\u{0C}[]", "[\u{A0}1]", #""\x""#, #""\u12""#, #""\uGGGG""#,
        #""\'""#, "[1]\u{0}",
    ])
    func refusesNonStrictDocuments(document: String) {
        #expect(error(document) != nil, "accepted \(document.debugDescription)")
    }

    @Test("refuses unescaped control characters inside strings", arguments: Array(0x00..<0x20))
    func refusesControlCharacters(byte: Int) {
        let document: [UInt8] = [0x22, 0x61, UInt8(byte), 0x22]
        #expect(error(document)?.offset == 2)
    }

    @Test("refuses lone surrogates", arguments: [
        #""\uD800""#, #""\uDBFF x""#, #""\uDC00""#, #""\uD800\u0041""#, #""\uD800\uD800""#, #""\uDFFF\uD800""#,
    ])
    func refusesLoneSurrogates(document: String) {
        #expect(error(document)?.message.contains("lone surrogate") == true)
    }

    @Test("refuses invalid UTF-8", arguments: [
        [0xC3],                   // truncated two-byte sequence
        [0xC0, 0xAF],             // overlong '/'
        [0xC1, 0xBF],             // overlong
        [0xE0, 0x80, 0xAF],       // overlong three-byte
        [0xED, 0xA0, 0x80],       // encoded surrogate U+D800
        [0xF0, 0x80, 0x80, 0xAF], // overlong four-byte
        [0xF4, 0x90, 0x80, 0x80], // above U+10FFFF
        [0xF5, 0x80, 0x80, 0x80], // invalid lead byte
        [0x80],                   // lone continuation byte
        [0xE2, 0x82],             // truncated euro sign
        [0xE2, 0x28, 0xA1],       // bad continuation
        [0xFF],
    ] as [[UInt8]])
    func refusesInvalidUTF8(sequence: [UInt8]) {
        let document = [0x22, 0x61] + sequence + [0x22]
        let failure = error(document)
        #expect(failure?.message == "invalid UTF-8 at byte 2")
        #expect(failure?.offset == 2)
    }

    @Test("refuses nesting deeper than the limit without crashing on 100 000 brackets")
    func deepNesting() {
        let failure = error(Array(repeating: UInt8(ascii: "["), count: 100_000))
        #expect(failure?.message == "nesting deeper than 64 levels at byte 64")
        #expect(failure?.offset == 64)

        let objects = String(repeating: #"{"a":"#, count: 100_000)
        #expect(error(objects)?.message == "nesting deeper than 64 levels at byte 320")
    }

    @Test("refuses 100 000 open brackets with no limit by reporting the missing end")
    func deepNestingWithoutLimit() {
        let failure = error(Array(repeating: UInt8(ascii: "["), count: 100_000), maxDepth: .max)
        #expect(failure?.message == "unexpected end of input at byte 100000 (expected a value)")
    }

    @Test("one level past the limit is refused")
    func onePastTheLimit() {
        let document = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(error(document)?.message == "nesting deeper than 64 levels at byte 64")
        #expect(error(Array("[]".utf8), maxDepth: 0)?.offset == 0)
    }

    @Test("messages name the problem and the byte", arguments: [
        ("{\"a\": x}", "unexpected character 'x' at byte 6 (expected a value)", 6),
        ("[1,]", "trailing comma before ']' at byte 3", 3),
        ("{\"a\":1,}", "trailing comma before '}' at byte 7", 7),
        ("[1 2]", "expected ',' or ']' but found '2' at byte 3", 3),
        ("{\"a\":1 \"b\":2}", "expected ',' or '}' but found '\"' at byte 7", 7),
        ("{a:1}", "expected a member name in double quotes but found 'a' at byte 1", 1),
        ("{\"a\" 1}", "expected ':' after a member name but found '1' at byte 5", 5),
        ("[01]", "leading zeros are not allowed in numbers at byte 1", 1),
        ("1. 5", "unexpected space at byte 2 (expected a digit after the decimal point)", 2),
        ("1.x", "unexpected character 'x' at byte 2 (expected a digit after the decimal point)", 2),
        ("'a'", "unexpected character ''' at byte 0 (JSON strings use double quotes)", 0),
        ("// x", "unexpected character '/' at byte 0 (JSON has no comments)", 0),
        ("{} x", "unexpected character 'x' at byte 3 after the end of the document", 3),
        ("\"abc", "unterminated string starting at byte 0", 0),
        ("\"a\tb\"", "control character U+0009 inside a string (it must be escaped) at byte 2", 2),
        ("\"\\q\"", "invalid escape '\\q' at byte 1", 1),
        ("\"\\u12x4\"", "invalid \\u escape at byte 1 (expected four hex digits)", 1),
        ("\"\\uD800\"", "lone surrogate \\uD800 at byte 1 (a high surrogate must be followed by a low one)", 1),
        ("[1,", "unexpected end of input at byte 3 (expected a value)", 3),
        ("[1", "expected ',' or ']' but found the end of the input at byte 2", 2),
        ("nulL", "unexpected character 'L' at byte 3 (expected 'null' from byte 0)", 3),
        ("", "the document is empty", 0),
        ("[\u{7F}]", "unexpected byte 0x7F at byte 1 (expected a value)", 1),
    ])
    func messages(document: String, message: String, offset: Int) {
        let failure = error(document)
        #expect(failure?.message == message)
        #expect(failure?.offset == offset)
        #expect(failure?.description == message)
    }
}
