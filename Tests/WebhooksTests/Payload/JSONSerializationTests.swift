import Testing
@testable import Webhooks

@Suite("JSON serialization")
struct JSONSerializationTests {
    @Test("writes compact JSON with members in order")
    func compact() {
        let value: JSONValue = [
            "code": 400, "success": false, "message": "invalid body",
            "causes": ["title: is required"], "data": nil, "ratio": .number("-3.5e2"),
        ]
        #expect(value.serialized()
            == #"{"code":400,"success":false,"message":"invalid body","causes":["title: is required"],"data":null,"ratio":-3.5e2}"#)
    }

    @Test("escapes quotes, backslashes and every control character")
    func escaping() {
        let text = "\"\\/\n\r\t\u{8}\u{C}\u{0}\u{1}\u{1F}\u{7F}"
        #expect(JSONValue.string(text).serialized() == #""\"\\/\n\r\t\b\f\u0000\u0001\u001f"#
            + "\u{7F}\"")
    }

    @Test("writes non-ASCII characters as UTF-8")
    func unicode() {
        #expect(JSONValue.string("é€😀").serialized() == "\"é€😀\"")
        #expect(JSONValue.object(["clé": "ü"]).serialized() == "{\"clé\":\"ü\"}")
    }

    @Test("builds numbers from Swift values, and null from non-finite doubles")
    func numbers() {
        #expect(JSONValue.integer(-42).serialized() == "-42")
        #expect(JSONValue.integer(.min).serialized() == "-9223372036854775808")
        #expect(JSONValue.double(3599.5).serialized() == "3599.5")
        #expect(JSONValue.double(.infinity) == .null)
        #expect(JSONValue.double(.nan) == .null)
    }

    @Test("round-trips through the parser", arguments: [
        #"{"a":[1,-2.5e-3,true,false,null,"x\"y"],"b":{},"c":[],"a":"dup","d":"\u0000\u001f é😀"}"#,
        #"[[[[]]],{"":""}]"#,
        #""\\\/""#,
        "123456789012345678901234567890",
    ])
    func roundTrip(document: String) throws {
        let value = try JSONParser.parse(Array(document.utf8))
        let text = value.serialized()
        #expect(try JSONParser.parse(Array(text.utf8)) == value)
        // Serializing twice gives the same text.
        #expect(try JSONParser.parse(Array(text.utf8)).serialized() == text)
    }

    @Test("a parsed compact document serializes to its own text")
    func identity() throws {
        let document = #"{"issue_key":"DLK-1","story_point":0,"resolution_date":null,"labels":["a"],"n":1.50}"#
        #expect(try JSONParser.parse(Array(document.utf8)).serialized() == document)
    }

    @Test("objects compare members in order")
    func objectEquality() {
        let ab: JSONObject = ["a": 1, "b": 2]
        let ba: JSONObject = ["b": 2, "a": 1]
        #expect(ab != ba)
        #expect(ab == JSONObject(members: [(key: "a", value: 1), (key: "b", value: 2)]))
    }
}
