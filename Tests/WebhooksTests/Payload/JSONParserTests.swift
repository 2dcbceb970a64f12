import Testing
@testable import Webhooks

@Suite("JSON parser: valid documents")
struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test("parses every kind of value at the top level")
    func scalarsAtTopLevel() throws {
        #expect(try parse("null") == .null)
        #expect(try parse("true") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("0") == .number("0"))
        #expect(try parse(#""text""#) == .string("text"))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object(JSONObject()))
    }

    @Test("parses a nested document with members in order")
    func nestedDocument() throws {
        let value = try parse(#"""
            {"issue_key": "DLK-1", "story_point": 3.5, "labels": ["a", "b"],
             "assignee": {"id": 7, "active": true}, "resolution_date": null}
            """#)
        let expected: JSONValue = [
            "issue_key": "DLK-1",
            "story_point": .number("3.5"),
            "labels": ["a", "b"],
            "assignee": ["id": 7, "active": true],
            "resolution_date": nil,
        ]
        #expect(value == expected)
    }

    @Test("accepts all four whitespace characters between tokens")
    func whitespace() throws {
        #expect(try parse(" \t\r\n[ 1 ,\t2\r\n]\n ") == [1, 2])
    }

    @Test("skips a UTF-8 byte order mark at the start")
    func byteOrderMark() throws {
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == .object(JSONObject()))
    }

    @Test("accepts any collection of bytes, including String.utf8 and slices")
    func collections() throws {
        #expect(try JSONParser.parse("[1]".utf8) == [1])
        let bytes = Array("xx[true]yy".utf8)
        #expect(try JSONParser.parse(bytes[2..<8]) == [true])
        #expect(try JSONParser.parse(AnyCollection(Array("null".utf8))) == .null)
    }

    @Test("keeps numbers as their literal text", arguments: [
        "0", "-0", "1234", "-3.5e2", "1E+10", "0.000001", "1e-7", "123456789012345678901234567890",
        "9007199254740993", "2.50",
    ])
    func numbersKeepTheirText(literal: String) throws {
        #expect(try parse(literal) == .number(literal))
        #expect(try parse("[\(literal)]") == .array([.number(literal)]))
    }

    @Test("decodes every simple escape")
    func simpleEscapes() throws {
        #expect(try parse(#""\" \\ \/ \b \f \n \r \t""#) == .string("\" \\ / \u{8} \u{C} \n \r \t"))
    }

    @Test("decodes \\u escapes, including a surrogate pair and U+0000")
    func unicodeEscapes() throws {
        #expect(try parse(#""\u0041\u00e9\u20AC""#) == .string("Aé€"))
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""x\uD834\uDD1Ey""#) == .string("x𝄞y"))
        #expect(try parse(#""\u0000""#) == .string("\u{0}"))
    }

    @Test("keeps raw UTF-8 text of one to four bytes per character")
    func rawUTF8() throws {
        #expect(try parse(#""é € 😀 ü\u00fc""#) == .string("é € 😀 üü"))
    }

    @Test("keeps duplicate keys in order and looks up the last")
    func duplicateKeys() throws {
        let value = try parse(#"{"a": 1, "b": 2, "a": 3}"#)
        let object = try #require(value.objectValue)
        #expect(object.members.map(\.key) == ["a", "b", "a"])
        #expect(object["a"] == .number("3"))
        #expect(object["b"] == .number("2"))
        #expect(object["c"] == nil)
    }

    @Test("accepts nesting up to the limit exactly")
    func nestingAtTheLimit() throws {
        let document = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSONParser.parse(Array(document.utf8)) }
        let objects = String(repeating: #"{"a":"#, count: 3) + "1" + String(repeating: "}", count: 3)
        #expect(throws: Never.self) { try JSONParser.parse(Array(objects.utf8), maxDepth: 3) }
    }

    @Test("parses deep documents without recursion when the limit allows it")
    func deepWithRaisedLimit() throws {
        let depth = 5_000
        let document = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        var value = try JSONParser.parse(Array(document.utf8), maxDepth: depth)
        var levels = 0
        while case .array(let elements) = value {
            levels += 1
            value = elements.first ?? .null
        }
        #expect(levels == depth)
    }
}
