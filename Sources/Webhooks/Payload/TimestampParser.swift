/// Reads the date forms of API.md §2, by hand: strict, allocation-free, no Foundation.
///
/// Accepted string forms (`D` = `YYYY-MM-DD`):
///
///     D                                   2020-01-01                  midnight, read as UTC
///     D␣HH:MM  and  D␣HH:MM:SS             2020-01-01 12:00            read as UTC
///     D␣HH:MM:SS.f                         2020-01-01T12:00:00.5
///     any of the three with a zone         ...Z  ...z  ...+05:30  ...-0800
///
/// where `␣` is `T`, `t` or one space, `f` is 1 to 9 digits, and a zone is `Z`, `z`,
/// `±hh:mm` or `±hhmm` (`-00:00` is UTC). A fraction finer than a microsecond is truncated,
/// not rounded: `.1234569` is 123456 µs (PostgreSQL keeps microseconds). A fraction needs
/// seconds before it.
///
/// Ranges are checked: year 0001–9999, month 01–12, day within the month (leap years
/// included), hour 00–23, minute and second 00–59 (no leap second `:60`, no `24:00`), offset
/// hours 00–23 and minutes 00–59; the instant itself, after the offset, must lie in years
/// 0001–9999 UTC. Everything else is refused: other separators, one-digit fields, hour-only
/// offsets (`+00`), a missing minute (`T12`), ten or more fraction digits, surrounding
/// whitespace or trailing text, epoch numbers sent as strings, the empty string.
///
/// "Read as UTC" is `parse`'s reading; `parseWallClock` tells a date without an offset apart, so
/// that a connection's time zone can read it (`ConnectionTimeZone`).
public enum TimestampParser {
    /// The earliest and latest instants accepted: 0001-01-01T00:00:00Z and
    /// 9999-12-31T23:59:59.999999Z.
    public static let earliest = Timestamp(
        microsecondsSinceEpoch: GregorianCalendar.days(year: 1, month: 1, day: 1)
            * GregorianCalendar.microsecondsPerDay)
    public static let latest = Timestamp(
        microsecondsSinceEpoch: GregorianCalendar.days(year: 10_000, month: 1, day: 1)
            * GregorianCalendar.microsecondsPerDay - 1)

    /// The instant `text` names, or nil when it is not one of the accepted forms.
    public static func parse(_ text: String) -> Timestamp? {
        parseWallClock(text)?.instant
    }

    /// The date `text` names and whether it carries an offset (`Z`, `+02:00`); without one,
    /// `instant` is its wall-clock time read as UTC, for the caller to read in a zone. Nil when
    /// `text` is not one of the accepted forms.
    public static func parseWallClock(_ text: String) -> (instant: Timestamp, hasOffset: Bool)? {
        if let result = text.utf8.withContiguousStorageIfAvailable({ parse(bytes: $0) }) {
            return result
        }
        return Array(text.utf8).withUnsafeBufferPointer { parse(bytes: $0) }
    }

    /// The instant of a JSON number read as milliseconds since 1970-01-01T00:00:00Z (classic
    /// DevLake's epoch dates), in any JSON notation: `1577880000000`, `1.57788e12`,
    /// `1577880000000.5` (500 µs later), `-86400000`. The value is read exactly from its digits,
    /// never through `Double`. Digits finer than a microsecond (PostgreSQL keeps microseconds) are
    /// truncated toward the past, not rounded — as a date string's extra fraction digits are, so a
    /// number and the RFC 3339 text of one instant store the same microsecond (`-0.0005` is
    /// 1969-12-31T23:59:59.999999Z, as `1969-12-31T23:59:59.9999995Z` is). Nil when the text is
    /// not a JSON number or the instant lies outside years 0001–9999.
    public static func fromEpochMilliseconds(_ numberLiteral: String) -> Timestamp? {
        guard let microseconds = DecimalLiteral(numberLiteral)?.floored(timesTenToThe: 3) else { return nil }
        let instant = Timestamp(microsecondsSinceEpoch: microseconds)
        return instant >= earliest && instant <= latest ? instant : nil
    }

    // MARK: - The string grammar

    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> (instant: Timestamp, hasOffset: Bool)? {
        var cursor = Cursor(bytes: bytes)
        guard let year = cursor.digits(4), year >= 1,
              cursor.take(UInt8(ascii: "-")), let month = cursor.digits(2), (1...12).contains(month),
              cursor.take(UInt8(ascii: "-")), let day = cursor.digits(2), day >= 1,
              day <= GregorianCalendar.daysInMonth(year: Int64(year), month: month)
        else { return nil }
        let days = GregorianCalendar.days(year: Int64(year), month: month, day: day)
        var seconds = days * GregorianCalendar.secondsPerDay
        var microseconds: Int64 = 0
        var hasOffset = false
        if !cursor.atEnd {
            guard cursor.take(UInt8(ascii: "T")) || cursor.take(UInt8(ascii: "t"))
                    || cursor.take(UInt8(ascii: " ")),
                  let hour = cursor.digits(2), hour <= 23,
                  cursor.take(UInt8(ascii: ":")), let minute = cursor.digits(2), minute <= 59
            else { return nil }
            var second = 0
            if cursor.take(UInt8(ascii: ":")) {
                guard let value = cursor.digits(2), value <= 59 else { return nil }
                second = value
                if cursor.take(UInt8(ascii: ".")) {
                    guard let fraction = cursor.fractionMicroseconds() else { return nil }
                    microseconds = fraction
                }
            }
            seconds += Int64(hour * 3600 + minute * 60 + second)
            if !cursor.atEnd {
                guard let offset = cursor.zoneOffsetSeconds() else { return nil }
                seconds -= Int64(offset)
                hasOffset = true
            }
        }
        guard cursor.atEnd else { return nil }
        let instant = Timestamp(microsecondsSinceEpoch: seconds * 1_000_000 + microseconds)
        return instant >= earliest && instant <= latest ? (instant, hasOffset) : nil
    }

    /// A read position over ASCII bytes; every step either consumes what it wants or fails.
    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// Exactly `count` decimal digits as a number.
        mutating func digits(_ count: Int) -> Int? {
            guard bytes.count - index >= count else { return nil }
            var value = 0
            for offset in index..<index + count {
                let byte = bytes[offset]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }

        /// 1 to 9 fraction digits after the point, truncated to microseconds.
        mutating func fractionMicroseconds() -> Int64? {
            var microseconds: Int64 = 0
            var count = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if count < 6 {
                    microseconds = microseconds * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                }
                count += 1
                index += 1
            }
            guard (1...9).contains(count) else { return nil }
            for _ in min(count, 6)..<6 { microseconds *= 10 }
            return microseconds
        }

        /// `Z`, `z`, `±hh:mm` or `±hhmm`, as seconds east of UTC; must end the text.
        mutating func zoneOffsetSeconds() -> Int? {
            if take(UInt8(ascii: "Z")) || take(UInt8(ascii: "z")) { return 0 }
            let sign: Int
            if take(UInt8(ascii: "+")) {
                sign = 1
            } else if take(UInt8(ascii: "-")) {
                sign = -1
            } else {
                return nil
            }
            guard let hours = digits(2), hours <= 23 else { return nil }
            _ = take(UInt8(ascii: ":"))
            guard let minutes = digits(2), minutes <= 59 else { return nil }
            return sign * (hours * 3600 + minutes * 60)
        }
    }
}
