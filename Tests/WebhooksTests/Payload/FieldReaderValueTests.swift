import Testing
@testable import Webhooks

/// Reads `field` of `{"field": <json>}` with `read`; returns the value and the causes.
private func read<Value>(
    _ json: String,
    _ read: (inout FieldReader) -> Value?
) throws -> (Value?, [String]) {
    var reader = try fieldReader(#"{"field": \#(json)}"#)
    let value = read(&reader)
    return (value, reader.causes)
}

@Suite("Field reader: values")
struct FieldReaderValueTests {
    // MARK: Strings

    @Test("takes strings, and numbers and booleans as their text", arguments: [
        (#""DLK-1""#, "DLK-1"), ("1234", "1234"), ("-3.50e2", "-3.50e2"), ("true", "true"),
        ("false", "false"), (#""""#, ""), (#""é😀""#, "é😀"),
    ])
    func strings(json: String, expected: String) throws {
        let (value, causes) = try read(json) { $0.string("field") }
        #expect(value == expected)
        #expect(causes.isEmpty)
    }

    @Test("refuses strings that are not text, hold NUL, or are required and empty", arguments: [
        ("[]", "field: must be a string"),
        ("{}", "field: must be a string"),
        (#"["a"]"#, "field: must be a string"),
        (#""a\u0000b""#, "field: must not contain NUL characters"),
        (#""""#, "field: is required"),
        ("null", "field: is required"),
    ])
    func stringRejections(json: String, cause: String) throws {
        let (value, causes) = try read(json) { $0.string("field", required: true) }
        #expect(value == nil)
        #expect(causes == [cause])
    }

    @Test("an absent optional string is nil without a cause")
    func absentString() throws {
        #expect(try read("null") { $0.string("field") } == (nil, []))
        #expect(try read("null") { $0.string("other") }.1.isEmpty)
    }

    @Test("counts the length in characters, not bytes: 255 é fit, 256 do not")
    func maxLengthCountsCharacters() throws {
        let fits = String(repeating: "é", count: 255)
        #expect(fits.utf8.count == 510)
        #expect(try read(#""\#(fits)""#) { $0.string("field", maxLength: 255) } == (fits, []))
        let tooLong = fits + "é"
        #expect(try read(#""\#(tooLong)""#) { $0.string("field", maxLength: 255) }
            == (nil, ["field: is longer than 255 characters"]))
        #expect(try read(#""\#(String(repeating: "a", count: 256))""#) { $0.string("field", maxLength: 255) }
            .1 == ["field: is longer than 255 characters"])
        #expect(try read("1234") { $0.string("field", maxLength: 3) }.1 == ["field: is longer than 3 characters"])
    }

    // MARK: Numbers

    @Test("reads numbers, and strings holding one", arguments: [
        ("3.5", 3.5), (#""3.5""#, 3.5), ("-2", -2), (#""-2""#, -2), (#""1e3""#, 1_000), ("0", 0),
        (#""0.25""#, 0.25), ("1e-400", 0), ("1.7976931348623157e308", 1.7976931348623157e308), (#""03""#, 3),
    ])
    func doubles(json: String, expected: Double) throws {
        #expect(try read(json) { $0.double("field") } == (expected, []))
    }

    @Test("refuses what is not a finite decimal number", arguments: [
        #"" 3.5""#, #""3.5 ""#, #""abc""#, #""NaN""#, #""Infinity""#, #""inf""#, #""+3""#, #"".5""#,
        #""5.""#, #""0x10""#, #""1,5""#, #""+03""#, "1e400", #""-1e400""#, "true", "[]", "{}", #""3.5abc""#,
    ])
    func doubleRejections(json: String) throws {
        #expect(try read(json) { $0.double("field") } == (nil, ["field: must be a number"]))
    }

    // MARK: Integers

    @Test("reads integers exactly in any integral notation", arguments: [
        ("3", 3), (#""3""#, 3), ("3.0", 3), (#""3.0""#, 3), ("1e3", 1_000), (#""1.50e2""#, 150),
        ("-0", 0), ("0.0e5", 0), ("-12", -12), ("9007199254740993", 9_007_199_254_740_993),
        ("9223372036854775807", .max), ("-9223372036854775808", .min), ("92233720368547758.07e2", .max),
        ("1000000000000000000000e-3", 1_000_000_000_000_000_000),
    ] as [(String, Int64)])
    func integers(json: String, expected: Int64) throws {
        #expect(try read(json) { $0.integer("field") } == (expected, []))
    }

    @Test("refuses fractions and non-numbers as integers", arguments: [
        "3.5", #""3.5""#, "1e-1", "0.000001", #""three""#, "true", "[]", #"" 3""#,
    ])
    func integerRejections(json: String) throws {
        #expect(try read(json) { $0.integer("field") } == (nil, ["field: must be an integer"]))
    }

    @Test("refuses integers beyond 64 bits", arguments: [
        "9223372036854775808", "-9223372036854775809", "1e19", #""1e999999999999""#,
    ])
    func integerOverflow(json: String) throws {
        #expect(try read(json) { $0.integer("field") }
            == (nil, ["field: must be an integer between -9223372036854775808 and 9223372036854775807"]))
    }

    // MARK: Booleans

    @Test("reads booleans from true/false, their text in any case, and 0/1", arguments: [
        ("true", true), ("false", false), (#""true""#, true), (#""TRUE""#, true), (#""False""#, false),
        ("1", true), ("0", false), ("1.0", true), (#""1""#, true), (#""0""#, false),
    ])
    func booleans(json: String, expected: Bool) throws {
        #expect(try read(json) { $0.boolean("field") } == (expected, []))
    }

    @Test("refuses other values as booleans", arguments: [
        "2", "-1", "0.5", #""yes""#, #""t""#, #"" true""#, #""2""#, "[]", "{}",
    ])
    func booleanRejections(json: String) throws {
        #expect(try read(json) { $0.boolean("field") } == (nil, ["field: must be true or false"]))
    }

    // MARK: Dates

    @Test("reads dates from strings and epoch-millisecond numbers", arguments: [
        (#""2020-01-01T12:00:00+00:00""#, 1_577_880_000_000_000),
        (#""2020-01-01T12:00:00+0000""#, 1_577_880_000_000_000),
        ("1577880000000", 1_577_880_000_000_000),
        ("1577880000000.5", 1_577_880_000_000_500),
        ("1.5e12", 1_500_000_000_000_000),
    ] as [(String, Int64)])
    func timestamps(json: String, microseconds: Int64) throws {
        #expect(try read(json) { $0.timestamp("field") }
            == (Timestamp(microsecondsSinceEpoch: microseconds), []))
    }

    @Test("refuses values that are not dates", arguments: [
        #""1577880000000""#, #""2020-01-01T12:00:00+00""#, #""yesterday""#, "true", "[]", "{}", "1e400",
    ])
    func timestampRejections(json: String) throws {
        #expect(try read(json) { $0.timestamp("field") }
            == (nil, ["field: is not a valid date (expected RFC 3339, e.g. 2020-01-01T12:00:00+00:00)"]))
    }

    // MARK: Enumerations

    @Test("matches enumerations without regard to case and returns the allowed spelling", arguments: [
        ("success", "SUCCESS"), ("Failure", "FAILURE"), ("in_progress", "IN_PROGRESS"),
        ("IN_PROGRESS", "IN_PROGRESS"), ("aBoRt", "ABORT"),
    ])
    func enumerations(text: String, expected: String) throws {
        #expect(try read(#""\#(text)""#) {
            $0.enumeration("field", allowed: ["SUCCESS", "FAILURE", "ABORT", "IN_PROGRESS"])
        } == (expected, []))
    }

    @Test("refuses values outside the enumeration, naming the allowed ones in order", arguments: [
        #""DONE""#, #""SUCCESS ""#, #""SUCCES""#, #""ſuccess""#, "1", "true", "[]",
    ])
    func enumerationRejections(json: String) throws {
        #expect(try read(json) { $0.enumeration("field", allowed: ["SUCCESS", "FAILURE", "ABORT", "IN_PROGRESS"]) }
            == (nil, ["field: must be one of SUCCESS, FAILURE, ABORT, IN_PROGRESS"]))
    }

    // MARK: Absence

    @Test("null and the empty string are absent for every non-text kind", arguments: ["null", #""""#])
    func emptyIsAbsent(json: String) throws {
        var reader = try fieldReader(#"{"a": \#(json), "b": \#(json), "c": \#(json), "d": \#(json), "e": \#(json)}"#)
        #expect(reader.double("a") == nil)
        #expect(reader.integer("b") == nil)
        #expect(reader.boolean("c") == nil)
        #expect(reader.timestamp("d") == nil)
        #expect(reader.enumeration("e", allowed: ["X"]) == nil)
        #expect(reader.causes.isEmpty)

        _ = reader.double("a", required: true)
        _ = reader.integer("b", required: true)
        _ = reader.boolean("c", required: true)
        _ = reader.timestamp("d", required: true)
        _ = reader.enumeration("e", allowed: ["X"], required: true)
        #expect(reader.causes == ["a: is required", "b: is required", "c: is required", "d: is required", "e: is required"])
    }
}
