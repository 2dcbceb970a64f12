extension Timestamp {
    /// `2020-01-01 12:00:00.123456+00`: always UTC, the fraction only when it is not zero
    /// (trailing zeros dropped, as PostgreSQL prints it). Meant to be bound as a text
    /// parameter to a `timestamptz` column. Years before 1 are written with PostgreSQL's
    /// ` BC` suffix (year 0 is `0001 ... BC`).
    public var postgresText: String {
        let parts = components
        return String(unsafeUninitializedCapacity: 40) { buffer in
            var writer = ASCIIWriter(buffer)
            let isBC = parts.year <= 0
            writer.year(isBC ? 1 - parts.year : parts.year, signed: false)
            writer.dateAndTime(parts, separator: UInt8(ascii: " "))
            writer.append("+00")
            if isBC { writer.append(" BC") }
            return writer.count
        }
    }

    /// `2020-01-01T12:00:00.123456Z`, RFC 3339 in UTC for JSON answers: the fraction only when
    /// it is not zero (trailing zeros dropped). Years outside 0000–9999 use ISO 8601's expanded
    /// form with a sign (`+10000`, `-0001`).
    public var iso8601: String {
        let parts = components
        return String(unsafeUninitializedCapacity: 40) { buffer in
            var writer = ASCIIWriter(buffer)
            writer.year(parts.year, signed: parts.year < 0 || parts.year > 9999)
            writer.dateAndTime(parts, separator: UInt8(ascii: "T"))
            writer.append("Z")
            return writer.count
        }
    }

    fileprivate struct Components {
        var year: Int64
        var month: Int
        var day: Int
        var secondOfDay: Int
        var microsecond: Int
    }

    private var components: Components {
        let (days, microsecondOfDay) = GregorianCalendar.floorDivide(
            microsecondsSinceEpoch, by: GregorianCalendar.microsecondsPerDay)
        let date = GregorianCalendar.date(days: days)
        return Components(
            year: date.year, month: date.month, day: date.day,
            secondOfDay: Int(microsecondOfDay / 1_000_000), microsecond: Int(microsecondOfDay % 1_000_000))
    }
}

/// Writes ASCII into a buffer that is known to be large enough (40 bytes hold any timestamp:
/// a six-digit signed year, the date and time with six fraction digits, and a suffix).
private struct ASCIIWriter {
    let buffer: UnsafeMutableBufferPointer<UInt8>
    var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    mutating func byte(_ value: UInt8) {
        buffer[count] = value
        count += 1
    }

    mutating func append(_ text: StaticString) {
        for offset in 0..<text.utf8CodeUnitCount {
            byte(text.utf8Start[offset])
        }
    }

    mutating func digits(_ value: Int, width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            byte(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }

    /// At least four digits, with a sign first when `signed`.
    mutating func year(_ year: Int64, signed: Bool) {
        if signed { byte(year < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")) }
        let magnitude = Int(year.magnitude)
        var width = 4
        var limit = 10_000
        while magnitude >= limit {
            width += 1
            limit *= 10
        }
        digits(magnitude, width: width)
    }

    mutating func dateAndTime(_ parts: Timestamp.Components, separator: UInt8) {
        byte(UInt8(ascii: "-"))
        digits(parts.month, width: 2)
        byte(UInt8(ascii: "-"))
        digits(parts.day, width: 2)
        byte(separator)
        digits(parts.secondOfDay / 3600, width: 2)
        byte(UInt8(ascii: ":"))
        digits(parts.secondOfDay / 60 % 60, width: 2)
        byte(UInt8(ascii: ":"))
        digits(parts.secondOfDay % 60, width: 2)
        guard parts.microsecond != 0 else { return }
        byte(UInt8(ascii: "."))
        var fraction = parts.microsecond
        var width = 6
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        digits(fraction, width: width)
    }
}
