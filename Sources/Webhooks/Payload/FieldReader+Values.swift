extension FieldReader {
    /// Text. A JSON number is taken as its literal text (`1234` → `"1234"`, `1.50` → `"1.50"`),
    /// a boolean as `"true"`/`"false"`; an array or object → `"must be a string"`.
    ///
    /// Refused: text containing U+0000 (`"must not contain NUL characters"`: PostgreSQL `text`
    /// cannot hold it), text longer than `maxLength` Unicode scalars (`"is longer than 255
    /// characters"`: `varchar(n)` counts characters, not bytes), and `""` when required
    /// (`"is required"`). An optional `""` is returned as `""`.
    public mutating func string(_ field: String, required: Bool = false, maxLength: Int? = nil) -> String? {
        guard let value = value(field) else {
            if required { fail(field, "is required") }
            return nil
        }
        let text: String
        switch value {
        case .string(let string): text = string
        case .number(let literal): text = literal
        case .bool(let flag): text = flag ? "true" : "false"
        default:
            fail(field, "must be a string")
            return nil
        }
        if required && text.isEmpty {
            fail(field, "is required")
            return nil
        }
        if text.utf8.contains(0) {
            fail(field, "must not contain NUL characters")
            return nil
        }
        // A scalar takes at least one byte: count scalars only when the bytes could exceed.
        if let maxLength, text.utf8.count > maxLength, text.unicodeScalars.count > maxLength {
            fail(field, "is longer than \(maxLength) characters")
            return nil
        }
        return text
    }

    /// A finite number: a JSON number, or a string holding one with the JSON number grammar,
    /// leading zeros allowed (`"3.5"`, `"-2"`, `"1e3"`, `"03"`; not `" 3.5"`, `"+3"`, `".5"`,
    /// `"0x10"`, `"NaN"`). Anything else, or a value beyond `Double`'s range → `"must be a number"`.
    public mutating func double(_ field: String, required: Bool = false) -> Double? {
        read(field, required: required) { value in
            guard let literal = Self.numericText(value), let number = Self.decimal(literal)?.double
            else { return .problem("must be a number") }
            return .value(number)
        }
    }

    /// An integer that fits `Int64`, given as a number or a numeric string (as `double`).
    /// Integral values in any notation are accepted exactly (`3.0` → 3, `1e3` → 1000, `"007"` →
    /// 7, no rounding through `Double`); `3.5` or non-numeric → `"must be an integer"`; too large →
    /// `"must be an integer between -9223372036854775808 and 9223372036854775807"`.
    public mutating func integer(_ field: String, required: Bool = false) -> Int64? {
        read(field, required: required) { value in
            guard let literal = Self.numericText(value), let decimal = Self.decimal(literal) else {
                return .problem("must be an integer")
            }
            switch decimal.int64 {
            case .value(let number): return .value(number)
            case .fraction: return .problem("must be an integer")
            case .overflow:
                return .problem("must be an integer between \(Int64.min) and \(Int64.max)")
            }
        }
    }

    /// `true`/`false`; the strings `"true"`/`"false"` in any case, and `"1"`/`"0"`; the numbers
    /// 1 and 0 (also written `1.0`). Anything else → `"must be true or false"`.
    public mutating func boolean(_ field: String, required: Bool = false) -> Bool? {
        read(field, required: required) { value in
            switch value {
            case .bool(let flag):
                return .value(flag)
            case .number(let literal):
                switch DecimalLiteral(literal)?.int64 {
                case .value(0): return .value(false)
                case .value(1): return .value(true)
                default: break
                }
            case .string(let text):
                if Self.equalIgnoringASCIICase(text, "true") || text == "1" { return .value(true) }
                if Self.equalIgnoringASCIICase(text, "false") || text == "0" { return .value(false) }
            default:
                break
            }
            return .problem("must be true or false")
        }
    }

    /// A date: a string in a form `TimestampParser.parse` accepts, or a JSON number read as
    /// epoch milliseconds (`TimestampParser.fromEpochMilliseconds`). A string without an offset
    /// is a wall-clock time in `timeZone`. `""` is absent (tools send it for "no date", as
    /// DevLake's own sample sends `null`). Anything else → `"is not a valid date (expected RFC
    /// 3339, e.g. 2020-01-01T12:00:00+00:00)"`; a numeric string is not read as epoch milliseconds.
    public mutating func timestamp(_ field: String, required: Bool = false) -> Timestamp? {
        let zone = timeZone
        return read(field, required: required) { value in
            let instant: Timestamp? = switch value {
            case .string(let text): Self.instant(of: text, in: zone)
            case .number(let literal): TimestampParser.fromEpochMilliseconds(literal)
            default: nil
            }
            guard let instant else {
                return .problem("is not a valid date (expected RFC 3339, e.g. 2020-01-01T12:00:00+00:00)")
            }
            return .value(instant)
        }
    }

    /// The instant of a date string, one without an offset read in `zone`; nil when it is not a
    /// date or its instant falls outside years 0001–9999 UTC.
    static func instant(of text: String, in zone: ConnectionTimeZone) -> Timestamp? {
        guard let date = TimestampParser.parseWallClock(text) else { return nil }
        if date.hasOffset { return date.instant }
        let instant = zone.instant(ofWallClock: date.instant)
        return instant >= TimestampParser.earliest && instant <= TimestampParser.latest ? instant : nil
    }

    /// One of `allowed` (given in upper case), matched without regard to ASCII case and
    /// returned as spelled in `allowed`. `""` is absent (`"is required"` when required).
    /// Anything else, including numbers and booleans → `"must be one of A, B, C"` listing
    /// `allowed` in the given order.
    public mutating func enumeration(_ field: String, allowed: [String], required: Bool = false) -> String? {
        postedEnumeration(field, allowed: allowed, required: required)?.value
    }

    /// As `enumeration`, with the text as posted too (`"success"` → value `SUCCESS`, posted
    /// `success`), for the `original_*` columns, which keep the client's spelling (API.md §4).
    public mutating func postedEnumeration(
        _ field: String, allowed: [String], required: Bool = false
    ) -> (value: String, posted: String)? {
        read(field, required: required) { value in
            if case .string(let text) = value,
               let match = allowed.first(where: { Self.equalIgnoringASCIICase(text, $0) }) {
                return .value((match, text))
            }
            return .problem("must be one of \(allowed.joined(separator: ", "))")
        }
    }

    // MARK: - Shared rules

    /// The common shape of the non-text readers: absent, `null` and `""` are absent
    /// (`"is required"` when required); otherwise the conversion decides.
    private mutating func read<Value>(
        _ field: String,
        required: Bool,
        _ convert: (JSONValue) -> Conversion<Value>
    ) -> Value? {
        guard let value = value(field), value != .string("") else {
            if required { fail(field, "is required") }
            return nil
        }
        switch convert(value) {
        case .value(let converted):
            return converted
        case .problem(let problem):
            fail(field, problem)
            return nil
        }
    }

    /// What a conversion made of a present value: the value, or the problem for the cause.
    private enum Conversion<Value> {
        case value(Value)
        case problem(String)
    }

    /// The text of a number, or of a string that may hold one.
    private static func numericText(_ value: JSONValue) -> String? {
        switch value {
        case .number(let literal), .string(let literal): literal
        default: nil
        }
    }

    /// A number's text taken apart. Leading zeros are allowed: in a string they are just how
    /// someone wrote the number (`"007"`), and a JSON number literal has none (the parser refuses
    /// them), so this is the one rule for both.
    private static func decimal(_ text: String) -> DecimalLiteral? {
        DecimalLiteral(text, allowingLeadingZeros: true)
    }

    static func equalIgnoringASCIICase(_ text: String, _ other: String) -> Bool {
        text.utf8.elementsEqual(other.utf8) { a, b in
            a == b || (a | 0x20 == b | 0x20 && (a | 0x20) >= 0x61 && (a | 0x20) <= 0x7A)
        }
    }
}
