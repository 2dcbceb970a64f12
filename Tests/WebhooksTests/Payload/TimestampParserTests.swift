import Testing
@testable import Webhooks

/// Instants are checked against values computed by hand:
/// 2020-01-01T00:00:00Z is 1 577 836 800 s after the epoch (18 262 days × 86 400 s).
private let newYear2020: Int64 = 1_577_836_800
private let second: Int64 = 1_000_000
private let minute: Int64 = 60 * second
private let hour: Int64 = 60 * minute
private let day: Int64 = 24 * hour
/// 2020-01-01T12:00:00Z in microseconds.
private let noon: Int64 = newYear2020 * second + 12 * hour

/// Every accepted string form with its instant in microseconds.
private let acceptedForms: [(String, Int64)] = [
    // The DevLake samples' form and each zone form.
    ("2020-01-01T12:00:00+00:00", noon),
    ("2020-01-01T12:00:00+0000", noon),          // CircleCI: date '+%Y-%m-%dT%H:%M:%S%z'
    ("2020-01-01T12:00:00Z", noon),
    ("2020-01-01T12:00:00z", noon),
    ("2020-01-01T12:00:00-00:00", noon),
    ("2020-01-01T12:00:00+05:30", noon - 5 * hour - 30 * minute),
    ("2020-01-01T12:00:00+0530", noon - 5 * hour - 30 * minute),
    ("2020-01-01T12:00:00-08:00", noon + 8 * hour),
    ("2020-01-01T12:00:00-0800", noon + 8 * hour),
    ("2020-01-01T12:00:00+23:59", noon - 23 * hour - 59 * minute),
    // Separators.
    ("2020-01-01t12:00:00Z", noon),
    ("2020-01-01 12:00:00Z", noon),
    ("2020-01-01 12:00:00+00:00", noon),
    // Without a zone: UTC.
    ("2020-01-01T12:00:00", noon),
    ("2020-01-01 12:00:00", noon),
    ("2020-01-01T12:00", noon),
    ("2020-01-01 12:00", noon),
    ("2020-01-01 12:34", noon + 34 * minute),
    // Without seconds, with a zone.
    ("2020-01-01T12:00Z", noon),
    ("2020-01-01T12:00+01:00", noon - hour),
    // A date alone: UTC midnight.
    ("2020-01-01", newYear2020 * second),
    // Fractions of 1, 3, 6, 7 and 9 digits with each zone form.
    ("2020-01-01T12:00:00.1Z", noon + 100_000),
    ("2020-01-01T12:00:00.1+00:00", noon + 100_000),
    ("2020-01-01T12:00:00.1-0100", noon + hour + 100_000),
    ("2020-01-01T12:00:00.123Z", noon + 123_000),
    ("2020-01-01T12:00:00.123+05:30", noon - 5 * hour - 30 * minute + 123_000),
    ("2020-01-01T12:00:00.123+0530", noon - 5 * hour - 30 * minute + 123_000),
    ("2020-01-01T12:00:00.123456Z", noon + 123_456),
    ("2020-01-01T12:00:00.123456-08:00", noon + 8 * hour + 123_456),
    ("2020-01-01T12:00:00.123456", noon + 123_456),
    ("2020-01-01T12:00:00.1234567Z", noon + 123_456),
    ("2020-01-01T12:00:00.1234567+00:00", noon + 123_456),
    ("2020-01-01T12:00:00.1234567-0800", noon + 8 * hour + 123_456),
    ("2020-01-01T12:00:00.123456789Z", noon + 123_456),
    ("2020-01-01T12:00:00.123456789+05:30", noon - 5 * hour - 30 * minute + 123_456),
    ("2020-01-01T12:00:00.123456789-0800", noon + 8 * hour + 123_456),
    ("2020-01-01 12:00:00.5", noon + 500_000),
    // Truncated, not rounded.
    ("2020-01-01T12:00:00.999999999Z", noon + 999_999),
    ("2020-01-01T12:00:00.0000009Z", noon),
    // Offsets that cross midnight, both ways.
    ("2020-01-01T20:00:00-05:00", newYear2020 * second + day + hour),
    ("2019-12-31T23:30:00-01:00", newYear2020 * second + 30 * minute),
    ("2020-01-01T01:00:00+02:00", newYear2020 * second - hour),
    ("2020-01-01T00:00:00.5+00:01", newYear2020 * second - minute + 500_000),
    // Leap days and month ends.
    ("2020-02-29", newYear2020 * second + 59 * day),
    ("2020-02-29T23:59:59Z", newYear2020 * second + 60 * day - second),
    ("2000-02-29", 951_782_400 * second),
    ("2020-12-31T23:59:59.999999Z", (newYear2020 + 366 * 86_400) * second - 1),
    // The epoch, before it, and the ends of the range.
    ("1970-01-01T00:00:00Z", 0),
    ("1969-12-31T23:59:59.5Z", -500_000),
    ("0001-01-01T00:00:00Z", -62_135_596_800 * second),
    ("0001-01-01", -62_135_596_800 * second),
    ("9999-12-31T23:59:59.999999Z", 253_402_300_800 * second - 1),
    ("0001-01-01T00:00:00-01:00", -62_135_596_800 * second + hour),
]

/// JSON number literals with their instant in microseconds.
private let epochMillisecondLiterals: [(String, Int64)] = [
    ("1577880000000", noon),
    ("1577880000000.5", noon + 500),
    ("1577880000000.25", noon + 250),
    ("1577880000000.123", noon + 123),
    ("0", 0),
    ("-0", 0),
    ("-1000", -second),
    ("-1.5", -1_500),
    ("-62135596800000", -62_135_596_800 * second),
    ("253402300799999", 253_402_300_800 * second - 1_000),
]

@Suite("Timestamp parser: accepted forms")
struct TimestampParserTests {
    @Test("parses every accepted form to the exact instant", arguments: acceptedForms)
    func parses(text: String, microseconds: Int64) {
        #expect(TimestampParser.parse(text)?.microsecondsSinceEpoch == microseconds)
    }

    @Test("reads JSON numbers as epoch milliseconds", arguments: epochMillisecondLiterals)
    func epochMilliseconds(literal: String, microseconds: Int64) {
        #expect(TimestampParser.fromEpochMilliseconds(literal)?.microsecondsSinceEpoch == microseconds)
    }

    @Test("refuses epoch milliseconds that are not JSON numbers or out of range", arguments: [
        "", "abc", "01", "+1", "1.", " 1",
        "1577880000000 ", "-62135596800001", "253402300800000", "999999999999999999999",
    ])
    func refusesEpochMilliseconds(literal: String) {
        #expect(TimestampParser.fromEpochMilliseconds(literal) == nil)
    }
}

@Suite("Timestamp parser: rejected forms")
struct TimestampRejectionTests {
    @Test("refuses everything outside API.md §2", arguments: [
        "",
        "2020-01-01T12:00:00+00",        // hour-only offset
        "2020-01-01T12:00:00+5:30",
        "2020-01-01T12:00:00+05:3",
        "2020-01-01T12:00:00+05:",
        "2020-01-01T12:00:00+053",
        "2020-01-01T12:00:00+05:30:00",
        "2020-01-01T12:00:00 +05:30",
        "2020-01-01T12:00:00UTC",
        "2020-01-01T12:00:00GMT+1",
        "2020-1-1",
        "2020-01-1",
        "20-01-01",
        "02020-01-01",
        "2020/01/01",
        "20200101",
        "2020-01-01T12",                  // hour without minutes
        "2020-01-01T1:00",
        "2020-01-01T12:0",
        "2020-01-01T12:00:0",
        "2020-01-01T12:00:00.",           // a fraction without digits
        "2020-01-01T12:00:00.Z",
        "2020-01-01T12:00:00.1234567890Z", // ten fraction digits
        "2020-01-01T12:00:00,5Z",
        "2020-01-01T12:00.5",              // a fraction without seconds
        "2020-01-01T12:00:00Zjunk",        // trailing text
        "2020-01-01T12:00:00Z ",
        " 2020-01-01T12:00:00Z",           // leading whitespace
        "2020-01-01\n",
        "2020-01-01T",
        "2020-01-01 ",
        "2020-01-01  12:00",
        "2020-01-01_12:00",
        "2020-01-01Z",                     // a date alone with a zone
        "2020-02-30",                      // days beyond the month
        "2019-02-29",
        "1900-02-29",
        "2020-04-31",
        "2020-13-01",
        "2020-00-10",
        "2020-01-00",
        "2020-01-32",
        "0000-01-01",                      // year 0
        "2020-01-01T24:00:00",
        "2020-01-01T23:60:00",
        "2020-01-01T23:59:60Z",            // no leap seconds
        "2020-01-01T12:00:00+24:00",
        "2020-01-01T12:00:00+05:60",
        "1577880000000",                   // epoch numbers come as JSON numbers, not strings
        "-2020-01-01",
        "+2020-01-01",
        "9999-12-31T23:59:59-00:01",       // past 9999 once the offset is applied
        "0001-01-01T00:00:00+00:01",       // before 0001
        "２０２０-01-01",                   // full-width digits
        "2020-01-01T12:00:00.１Z",
    ])
    func refuses(text: String) {
        #expect(TimestampParser.parse(text) == nil, "accepted \(text.debugDescription)")
    }

    @Test("parses text built from a substring")
    func substringText() {
        let text = String(Substring("x2020-01-01T12:00:00Z".dropFirst()))
        #expect(TimestampParser.parse(text)?.microsecondsSinceEpoch == noon)
    }
}
