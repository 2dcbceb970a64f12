#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An instant, with the microsecond precision of PostgreSQL's `timestamptz`.
///
/// Values read from payloads (`TimestampParser`) lie in years 0001–9999 UTC. The formatting
/// properties use the proleptic Gregorian calendar and also handle instants outside that range.
public struct Timestamp: Sendable, Hashable, Comparable {
    /// Microseconds since 1970-01-01T00:00:00Z; negative before it.
    public var microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// The current time from the system's real-time clock.
    public static func now() -> Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(
            microsecondsSinceEpoch: Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1_000)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// Whole minutes from `other` to `self`, truncated toward zero (59.9 minutes is 59, −59.9
    /// is −59), as DevLake's `lead_time_minutes`. Saturates at the `Int64` bounds.
    public func minutes(since other: Timestamp) -> Int64 {
        let difference = Int128(microsecondsSinceEpoch) - Int128(other.microsecondsSinceEpoch)
        return Int64(clamping: difference / 60_000_000)
    }

    /// Seconds from `other` to `self`, with the fraction (for `duration_sec`).
    public func seconds(since other: Timestamp) -> Double {
        let difference = Int128(microsecondsSinceEpoch) - Int128(other.microsecondsSinceEpoch)
        return Double(difference) / 1_000_000
    }

    /// `2020-01-01 12:00:00.123456+00`: always UTC, the fraction only when it is not zero
    /// (trailing zeros dropped, as PostgreSQL prints it). Meant to be bound as a text
    /// parameter to a `timestamptz` column. Years before 1 are written with PostgreSQL's
    /// ` BC` suffix (year 0 is `0001 ... BC`).
    public var postgresText: String {
        let parts = components
        var output: [UInt8] = []
        output.reserveCapacity(36)
        let isBC = parts.year <= 0
        appendYear(isBC ? 1 - parts.year : parts.year, signed: false, to: &output)
        appendDateAndTime(parts, separator: UInt8(ascii: " "), to: &output)
        output.append(contentsOf: "+00".utf8)
        if isBC { output.append(contentsOf: " BC".utf8) }
        return String(decoding: output, as: UTF8.self)
    }

    /// `2020-01-01T12:00:00.123456Z`, RFC 3339 in UTC for JSON answers: the fraction only when
    /// it is not zero (trailing zeros dropped). Years outside 0000–9999 use ISO 8601's expanded
    /// form with a sign (`+10000`, `-0001`).
    public var iso8601: String {
        let parts = components
        var output: [UInt8] = []
        output.reserveCapacity(32)
        appendYear(parts.year, signed: parts.year < 0 || parts.year > 9999, to: &output)
        appendDateAndTime(parts, separator: UInt8(ascii: "T"), to: &output)
        output.append(UInt8(ascii: "Z"))
        return String(decoding: output, as: UTF8.self)
    }

    // MARK: - Formatting

    private struct Components {
        var year: Int64
        var month: Int
        var day: Int
        var secondOfDay: Int64
        var microsecond: Int64
    }

    private var components: Components {
        let (days, microsecondOfDay) = GregorianCalendar.floorDivide(
            microsecondsSinceEpoch, by: GregorianCalendar.microsecondsPerDay)
        let date = GregorianCalendar.date(days: days)
        return Components(
            year: date.year, month: date.month, day: date.day,
            secondOfDay: microsecondOfDay / 1_000_000, microsecond: microsecondOfDay % 1_000_000)
    }

    private func appendYear(_ year: Int64, signed: Bool, to output: inout [UInt8]) {
        if signed { output.append(year < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")) }
        let digits = Array(String(year.magnitude).utf8)
        output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, 4 - digits.count)))
        output.append(contentsOf: digits)
    }

    private func appendDateAndTime(_ parts: Components, separator: UInt8, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "-"))
        appendTwoDigits(parts.month, to: &output)
        output.append(UInt8(ascii: "-"))
        appendTwoDigits(parts.day, to: &output)
        output.append(separator)
        appendTwoDigits(Int(parts.secondOfDay / 3600), to: &output)
        output.append(UInt8(ascii: ":"))
        appendTwoDigits(Int(parts.secondOfDay / 60 % 60), to: &output)
        output.append(UInt8(ascii: ":"))
        appendTwoDigits(Int(parts.secondOfDay % 60), to: &output)
        guard parts.microsecond != 0 else { return }
        output.append(UInt8(ascii: "."))
        var fraction = parts.microsecond
        var digits = 6
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        var divisor: Int64 = 1
        for _ in 1..<digits { divisor *= 10 }
        while divisor > 0 {
            output.append(UInt8(ascii: "0") + UInt8(fraction / divisor % 10))
            divisor /= 10
        }
    }

    private func appendTwoDigits(_ value: Int, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "0") + UInt8(value / 10))
        output.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
