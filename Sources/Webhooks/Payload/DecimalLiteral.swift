/// A decimal number written as text with the JSON number grammar (RFC 8259 §6), taken apart
/// so it can be converted exactly: `-12.50e3` is negative, digits "1250", scale 2, exponent 3.
///
/// Used for JSON number literals and for numbers sent inside strings (`"3.5"`). The grammar is
/// JSON's on purpose: no leading `+`, no `.5` or `5.`, no surrounding spaces, no `inf`/`nan`/hex.
/// The one difference a string may have (`allowingLeadingZeros`): zeros before the integer
/// part, as `"007"` — read as 7, as anyone reading the text would, while the JSON parser still
/// refuses the *number* `007` (RFC 8259 §6).
struct DecimalLiteral {
    let text: Substring
    let isNegative: Bool
    /// The digits of the integer part and of the fraction, without the sign or the point.
    let integerDigits: Substring.UTF8View.SubSequence
    let fractionDigits: Substring.UTF8View.SubSequence
    /// The exponent after `e`/`E`, saturated to ±2^52: beyond any representable value *and*
    /// beyond any number of digits a literal can have, so that digits and exponent still cancel
    /// exactly (saturating at 1_000_000 read `0.<999999 zeros>1e1000001` as 1, not 10).
    let exponent: Int
    static let exponentLimit = 1 << 52

    init?(_ text: some StringProtocol, allowingLeadingZeros: Bool = false) {
        let text = Substring(text)
        let utf8 = text.utf8
        var index = utf8.startIndex
        func isDigit(_ i: Substring.UTF8View.Index) -> Bool {
            i < utf8.endIndex && utf8[i] >= UInt8(ascii: "0") && utf8[i] <= UInt8(ascii: "9")
        }
        func skipDigits() {
            while isDigit(index) { index = utf8.index(after: index) }
        }
        isNegative = index < utf8.endIndex && utf8[index] == UInt8(ascii: "-")
        if isNegative { index = utf8.index(after: index) }
        guard isDigit(index) else { return nil }
        let integerStart = index
        if allowingLeadingZeros {
            skipDigits()
        } else if utf8[index] == UInt8(ascii: "0") {
            index = utf8.index(after: index)
            if isDigit(index) { return nil }
        } else {
            skipDigits()
        }
        integerDigits = utf8[integerStart..<index]
        var fractionStart = index
        if index < utf8.endIndex && utf8[index] == UInt8(ascii: ".") {
            index = utf8.index(after: index)
            fractionStart = index
            guard isDigit(index) else { return nil }
            skipDigits()
        }
        fractionDigits = utf8[fractionStart..<index]
        var exponent = 0
        if index < utf8.endIndex && (utf8[index] == UInt8(ascii: "e") || utf8[index] == UInt8(ascii: "E")) {
            index = utf8.index(after: index)
            var negativeExponent = false
            if index < utf8.endIndex && (utf8[index] == UInt8(ascii: "+") || utf8[index] == UInt8(ascii: "-")) {
                negativeExponent = utf8[index] == UInt8(ascii: "-")
                index = utf8.index(after: index)
            }
            guard isDigit(index) else { return nil }
            while isDigit(index) {
                exponent = min(exponent * 10 + Int(utf8[index] - UInt8(ascii: "0")), Self.exponentLimit)
                index = utf8.index(after: index)
            }
            if negativeExponent { exponent = -exponent }
        }
        guard index == utf8.endIndex else { return nil }
        self.text = text
        self.exponent = exponent
    }

    /// The value as a `Double` (correctly rounded), or nil when it overflows to infinity.
    var double: Double? {
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// The exact integer value, or `.fraction` when the value is not integral, or `.overflow`
    /// when it does not fit an `Int64`. `3.0`, `1e3` and `1.50e2` are integers; `3.5` is not.
    var int64: Int64Conversion {
        // All significant digits, then the power of ten they are multiplied by.
        var digits = Array(integerDigits) + Array(fractionDigits)
        var power = exponent - fractionDigits.count
        if let firstNonZero = digits.firstIndex(where: { $0 != UInt8(ascii: "0") }) {
            digits.removeFirst(firstNonZero)
        } else {
            return .value(0)
        }
        while digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            power += 1
        }
        guard power >= 0 else { return .fraction }
        guard digits.count + power <= 19 else { return .overflow }
        // Accumulate negatively so that Int64.min is reachable.
        var value: Int64 = 0
        for digit in digits + Array(repeating: UInt8(ascii: "0"), count: power) {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.subtractingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return .overflow }
            value = next
        }
        if isNegative { return .value(value) }
        guard value != Int64.min else { return .overflow }
        return .value(-value)
    }

    /// ⌊value × 10^`shift`⌋ exactly (toward the past for a negative value: `-1.5` with shift 0
    /// is -2), or nil when that does not fit an `Int64`. No `Double` on the way, so every digit
    /// counts whatever the notation: `1.5e12`, `15e11` and `1500000000000.0` are one value.
    func floored(timesTenToThe shift: Int) -> Int64? {
        // The significant digits, then the power of ten they are multiplied by.
        var digits = Array(integerDigits) + Array(fractionDigits)
        var power = exponent - fractionDigits.count + shift
        guard let firstNonZero = digits.firstIndex(where: { $0 != UInt8(ascii: "0") }) else { return 0 }
        digits.removeFirst(firstNonZero)
        while digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            power += 1
        }
        // How many of the digits are the integer part; the rest (ending in a non-zero digit, so
        // never all zeros) are a fraction.
        let wholeCount = digits.count + power
        guard wholeCount <= 19 else { return nil }
        let whole = power >= 0
            ? digits + Array(repeating: UInt8(ascii: "0"), count: power)
            : Array(digits.prefix(max(wholeCount, 0)))
        let hasFraction = power < 0
        // Accumulate negatively so that Int64.min is reachable.
        var value: Int64 = 0
        for digit in whole {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.subtractingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = next
        }
        if isNegative {
            guard hasFraction else { return value }
            let (below, overflow) = value.subtractingReportingOverflow(1)
            return overflow ? nil : below
        }
        return value == Int64.min ? nil : -value
    }

    enum Int64Conversion: Equatable {
        case value(Int64)
        case fraction
        case overflow
    }
}
