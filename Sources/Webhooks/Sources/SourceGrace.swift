/// How long a rotated signing secret is still accepted: `24h`, `30m`, `90s`, `2d`, or seconds.
enum SourceGrace {
    static let defaultSeconds = 24 * 3600

    static func seconds(_ text: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        guard let last = text.last else { return nil }
        let (digits, unit) = units[last].map { (text.dropLast(), $0) } ?? (Substring(text), 1)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int(digits), value >= 0, value <= 365 * 86_400 / unit else {
            return nil
        }
        return value * unit
    }
}
