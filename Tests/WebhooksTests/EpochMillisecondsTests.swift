import Foundation
import Testing
@testable import Webhooks

/// 2020-01-01T12:00:00Z in microseconds since the epoch.
private let noon: Int64 = 1_577_880_000_000_000

/// API.md §2: a date may be a JSON number, read as epoch milliseconds — any JSON number. Only
/// integers and up to three fraction digits were read: `1.5e12`, `1577880000000.1234` and
/// `157788000000000000e-5` answered "is not a valid date".
@Suite("Epoch milliseconds in any JSON number notation")
struct EpochMillisecondsTests {
    /// Literals the old reader refused, with the instant each names, in microseconds.
    static let notations: [(String, Int64)] = [
        ("1.5e12", 1_500_000_000_000_000),
        ("1.5E12", 1_500_000_000_000_000),
        ("1.5e+12", 1_500_000_000_000_000),
        ("15e11", 1_500_000_000_000_000),
        ("1577880000000e0", noon),
        ("1.57788e12", noon),
        ("1577880000000000e-3", noon),
        ("157788000000000000e-5", noon),      // 18 integer digits, brought back by the exponent
        ("0.00000000157788e21", noon),
        ("1577880000000.000000000000000000001", noon),
        ("1e-400", 0),
        // Exact, not through Double: 9007199254740993 µs is 2^53 + 1, which a Double rounds to 2^53.
        ("9007199254740.993", 9_007_199_254_740_993),
        ("9.007199254740993e12", 9_007_199_254_740_993),
        // Finer than a microsecond: truncated toward the past, as a date string's extra digits are.
        ("1577880000000.1234", noon + 123),
        ("1577880000000.1239", noon + 123),
        ("1577880000000.0005", noon),
        ("-0.0005", -1),
        ("-1.0005", -1_001),
        ("-1e-400", -1),
        // The ends of the range, 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z.
        ("-6.21355968e13", -62_135_596_800_000_000),
        ("253402300799999.999", 253_402_300_800_000_000 - 1),
        ("253402300799999.99999", 253_402_300_800_000_000 - 1),
    ]

    @Test("reads the instant of every notation exactly", arguments: notations)
    func reads(literal: String, microseconds: Int64) {
        #expect(TimestampParser.fromEpochMilliseconds(literal)?.microsecondsSinceEpoch == microseconds)
    }

    @Test("a number and the RFC 3339 text of one instant store the same microsecond")
    func sameAsText() {
        #expect(TimestampParser.fromEpochMilliseconds("1577880000000.0009")
            == TimestampParser.parse("2020-01-01T12:00:00.0000009Z"))
        #expect(TimestampParser.fromEpochMilliseconds("-0.0005") == TimestampParser.parse("1969-12-31T23:59:59.9999995Z"))
    }

    @Test("refuses values outside years 0001-9999, and text that is not a JSON number", arguments: [
        "253402300800000", "2.534023008e14", "-62135596800000.0001", "-6.21355968000000001e13", "1e400",
        "-1e400", "1e4503599627370496", "99999999999999999999999999", "", "abc", "+1", "1.", ".5", " 1", "1e", "0x10",
    ])
    func refuses(literal: String) {
        #expect(TimestampParser.fromEpochMilliseconds(literal) == nil)
    }

    @Test("a task posted with started_date 1.5e12 is stored at that instant; a numeric string is still not a date")
    func throughTheAPI() throws {
        let server = TestServer.shared
        let (connection, key) = try server.newConnection("epoch")
        let body = #"{"pipeline_name":"p","name":"t","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":1.5e12,"finished_date":1500000000000.0015,"repo_id":"r"}"#
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/cicd_tasks", body, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try LakehookDatabase.value("""
            SELECT started_date = to_timestamp(1500000000) AND finished_date = to_timestamp(1500000000) + interval '1 microsecond'
            FROM cicd_tasks WHERE id = $1
            """, [connection.rowId("p:t")]) == "t")
        let text = body.replacingOccurrences(of: "1.5e12", with: #""1.5e12""#)
        let refused = try server.post("/api/plugins/webhook/\(connection.id)/cicd_tasks", text, key: key)
        #expect(refused.status == 400 && refused.causes.first?.hasPrefix("started_date: is not a valid date") == true, "\(refused.text)")
    }
}
