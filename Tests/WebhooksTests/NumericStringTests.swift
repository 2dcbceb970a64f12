import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// API.md §2: "a numeric string is accepted (`"3.5"`)". A string with leading zeros is numeric
/// too — `"007"` is 7, as any reader of the text takes it — yet it was refused (`pullRequestKey:
/// must be an integer`), because numeric strings were held to the JSON number grammar. A JSON
/// *number* with leading zeros is still malformed JSON.
@Suite("Numeric strings with leading zeros")
struct NumericStringTests {
    func read<Value: Equatable>(_ json: String, _ body: (inout FieldReader) -> Value?) throws -> (Value?, [String]) {
        guard case .object(let object) = try JSONParser.parse(Array(#"{"field":\#(json)}"#.utf8)) else {
            throw TestFailure("not an object")
        }
        var reader = FieldReader(object)
        let value = body(&reader)
        return (value, reader.causes)
    }

    @Test("integers: \"007\" is 7, in any notation the string allows", arguments: [
        (#""007""#, 7), (#""-007""#, -7), (#""00""#, 0), (#""-00""#, 0), (#""0007.0""#, 7), (#""007e1""#, 70),
        (#""09223372036854775807""#, .max), (#""\#(String(repeating: "0", count: 400))12""#, 12),
    ] as [(String, Int64)])
    func integers(json: String, expected: Int64) throws {
        #expect(try read(json) { $0.integer("field") } == (expected, []))
    }

    @Test("numbers: \"03\" is 3 and \"00.5\" is 0.5", arguments: [
        (#""03""#, 3), (#""00.5""#, 0.5), (#""-01.25""#, -1.25), (#""001e2""#, 100),
    ] as [(String, Double)])
    func doubles(json: String, expected: Double) throws {
        #expect(try read(json) { $0.double("field") } == (expected, []))
    }

    @Test("still refused: signs, bare points, spaces and other text around the digits", arguments: [
        #""+007""#, #"".5""#, #""007.""#, #"" 007""#, #""007 ""#, #""0x07""#, #""0_07""#, #""--7""#, #""""#,
    ])
    func refused(json: String) throws {
        let (value, causes) = try read(json) { $0.integer("field") }
        #expect(value == nil)
        #expect(json == #""""# ? causes.isEmpty : causes == ["field: must be an integer"], "\(causes)")
    }

    @Test("a bare JSON number with leading zeros is still malformed JSON")
    func bareNumber() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(#"{"pullRequestKey":007}"#.utf8)) }
    }

    @Test("a pull request with pullRequestKey \"007\" is stored as key 7; a bare 007 answers 400")
    func throughTheAPI() throws {
        let server = TestServer.shared
        let (connection, key) = try server.newConnection("numeric-string")
        let path = "/api/rest/plugins/webhook/connections/\(connection.id)/pull_requests"
        let body = #"{"pullRequestKey":"007","displayTitle":"t","createdDate":"2024-01-01","additions":"0012"}"#
        let reply = try server.post(path, body, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.data?["id"] == .string(connection.rowId("7")))
        #expect(try LakehookDatabase.value(
            "SELECT pull_request_key || ' ' || additions FROM pull_requests WHERE id = $1", [connection.rowId("7")]) == "7 12")
        let bare = try server.post(path, body.replacingOccurrences(of: #""007""#, with: "007"), key: key)
        #expect(bare.status == 400 && bare.text.contains("malformed JSON"), "\(bare.text)")
    }
}
