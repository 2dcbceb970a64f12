import Testing
@testable import Webhooks

@Suite("Timestamp formatting and arithmetic")
struct TimestampTests {
    private func at(_ text: String) throws -> Timestamp {
        try #require(TimestampParser.parse(text))
    }

    @Test("formats PostgreSQL and ISO 8601 text exactly", arguments: [
        ("2020-01-01T12:00:00Z", "2020-01-01 12:00:00+00", "2020-01-01T12:00:00Z"),
        ("2020-01-01T12:00:00.123456Z", "2020-01-01 12:00:00.123456+00", "2020-01-01T12:00:00.123456Z"),
        ("2020-01-01T12:00:00.5Z", "2020-01-01 12:00:00.5+00", "2020-01-01T12:00:00.5Z"),
        ("2020-01-01T12:00:00.000001Z", "2020-01-01 12:00:00.000001+00", "2020-01-01T12:00:00.000001Z"),
        ("2020-01-01T12:00:00.12Z", "2020-01-01 12:00:00.12+00", "2020-01-01T12:00:00.12Z"),
        ("2020-01-01T12:00:00.123+05:30", "2020-01-01 06:30:00.123+00", "2020-01-01T06:30:00.123Z"),
        ("2020-01-01T20:00:00-05:00", "2020-01-02 01:00:00+00", "2020-01-02T01:00:00Z"),
        ("2020-02-29", "2020-02-29 00:00:00+00", "2020-02-29T00:00:00Z"),
        ("1969-12-31T23:59:59.5Z", "1969-12-31 23:59:59.5+00", "1969-12-31T23:59:59.5Z"),
        ("1970-01-01", "1970-01-01 00:00:00+00", "1970-01-01T00:00:00Z"),
        ("0001-01-01", "0001-01-01 00:00:00+00", "0001-01-01T00:00:00Z"),
        ("0999-03-01T01:02:03Z", "0999-03-01 01:02:03+00", "0999-03-01T01:02:03Z"),
        ("9999-12-31T23:59:59.999999Z", "9999-12-31 23:59:59.999999+00", "9999-12-31T23:59:59.999999Z"),
    ])
    func formats(text: String, postgres: String, iso: String) throws {
        let instant = try at(text)
        #expect(instant.postgresText == postgres)
        #expect(instant.iso8601 == iso)
        #expect(TimestampParser.parse(instant.iso8601) == instant)
    }

    @Test("formats instants outside years 1–9999 with BC and expanded years")
    func formatsOutsideTheRange() {
        let dayBeforeYear1 = Timestamp(microsecondsSinceEpoch: -62_135_596_800_000_000 - 86_400_000_000)
        #expect(dayBeforeYear1.postgresText == "0001-12-31 00:00:00+00 BC")
        #expect(dayBeforeYear1.iso8601 == "0000-12-31T00:00:00Z")
        let year10000 = Timestamp(microsecondsSinceEpoch: 253_402_300_800_000_000)
        #expect(year10000.iso8601 == "+10000-01-01T00:00:00Z")
        #expect(Timestamp(microsecondsSinceEpoch: .min).iso8601.hasPrefix("-"))
        #expect(Timestamp(microsecondsSinceEpoch: .max).postgresText.hasSuffix("+00"))
    }

    @Test("agrees with the civil calendar on every day of four centuries")
    func calendarRoundTrip() {
        var days = GregorianCalendar.days(year: 1600, month: 1, day: 1)
        for year in Int64(1600)...2400 {
            for month in 1...12 {
                for dayOfMonth in 1...GregorianCalendar.daysInMonth(year: year, month: month) {
                    #expect(GregorianCalendar.days(year: year, month: month, day: dayOfMonth) == days)
                    let date = GregorianCalendar.date(days: days)
                    if date != (year, month, dayOfMonth) {
                        Issue.record("day \(days) is \(date), expected \(year)-\(month)-\(dayOfMonth)")
                        return
                    }
                    days += 1
                }
            }
        }
        #expect(GregorianCalendar.days(year: 1970, month: 1, day: 1) == 0)
    }

    @Test("counts whole minutes truncated toward zero")
    func minutes() throws {
        let created = try at("2020-01-01T12:00:00Z")
        #expect(try at("2020-01-01T12:59:59.999999Z").minutes(since: created) == 59)
        #expect(try at("2020-01-01T13:00:00Z").minutes(since: created) == 60)
        #expect(try at("2020-01-02T12:00:00+00:00").minutes(since: created) == 1_440)
        #expect(try at("2020-01-01T11:00:30Z").minutes(since: created) == -59)
        #expect(created.minutes(since: created) == 0)
        #expect(Timestamp(microsecondsSinceEpoch: .max).minutes(since: Timestamp(microsecondsSinceEpoch: .min))
            == Int64((Int128(Int64.max) - Int128(Int64.min)) / 60_000_000))
    }

    @Test("measures seconds with the fraction")
    func seconds() throws {
        let started = try at("2020-01-01T12:00:00+00:00")
        #expect(try at("2020-01-01T12:59:59+00:00").seconds(since: started) == 3_599)
        #expect(try at("2020-01-01T12:00:01.5Z").seconds(since: started) == 1.5)
        #expect(started.seconds(since: try at("2020-01-01T12:00:00.25Z")) == -0.25)
    }

    @Test("orders instants and reads the clock in the accepted range")
    func orderingAndNow() throws {
        #expect(try at("2020-01-01T12:00:00Z") < at("2020-01-01T12:00:00.000001Z"))
        #expect(try at("2020-01-01T12:00:00+01:00") < at("2020-01-01T12:00:00Z"))
        let now = Timestamp.now()
        #expect(try now > at("2024-01-01"))
        #expect(now < TimestampParser.latest)
        #expect(Set([try at("2020-01-01"), try at("2020-01-01T00:00:00Z")]).count == 1)
    }
}
