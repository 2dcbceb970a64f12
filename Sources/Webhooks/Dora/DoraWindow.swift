/// The time window `[from, to)` of a DORA report (DORA.md "Scope"): by default the last 30 days
/// up to now; a date alone means midnight UTC.
public struct DoraWindow: Sendable, Equatable {
    public var from: Timestamp
    public var to: Timestamp

    public init(from: Timestamp, to: Timestamp) {
        self.from = from
        self.to = to
    }

    static let microsecondsPerDay: Int64 = 86_400_000_000
    static let defaultDays: Int64 = 30

    /// The longest window a report may span, in days of 24 hours, unless
    /// `LAKEHOOK_DORA_MAX_WINDOW_DAYS` says otherwise: 731, so that any two calendar years fit
    /// (2023-01-01 to 2025-01-01, with its leap day, is 731 days). A longer window costs the
    /// database time in proportion to its length (`0001-01-01` to `9999-12-31` took 30 s).
    public static let defaultMaxDays = 731

    /// The window the options name. Only `to`: the 30 days before it; only `from`: up to now;
    /// neither: the last 30 days. `from` must be before `to`, and the window at most `maxDays`
    /// long (nil: no limit; `dora settings` and the parser check dates only).
    public static func resolve(
        from: String?, to: String?, now: Timestamp = .now(), maxDays: Int? = nil
    ) throws(DoraWindowError) -> DoraWindow {
        var problems: [String] = []
        func parse(_ text: String?, _ name: String) -> Timestamp? {
            guard let text else { return nil }
            guard let instant = TimestampParser.parse(text) else {
                problems.append("\(name): \"\(text)\" is not a date (YYYY-MM-DD, or an RFC 3339 timestamp)")
                return nil
            }
            return instant
        }
        let parsedFrom = parse(from, "from")
        let parsedTo = parse(to, "to")
        if !problems.isEmpty { throw DoraWindowError(problems: problems) }
        let end = parsedTo ?? now
        let start = parsedFrom ?? Timestamp(microsecondsSinceEpoch: end.microsecondsSinceEpoch - defaultDays * microsecondsPerDay)
        guard start < end else {
            throw DoraWindowError(problems: ["from: \(start.iso8601) is not before to (\(end.iso8601))"])
        }
        let window = DoraWindow(from: start, to: end)
        if let maxDays, let problem = window.exceeds(maxDays: maxDays) {
            throw DoraWindowError(problems: [problem])
        }
        return window
    }

    /// Why the window is longer than `maxDays` days of 24 hours, naming it and the cap; nil when it fits.
    func exceeds(maxDays: Int) -> String? {
        let length = to.microsecondsSinceEpoch - from.microsecondsSinceEpoch
        let (cap, overflow) = Int64(maxDays).multipliedReportingOverflow(by: Self.microsecondsPerDay)
        guard !overflow, length > cap else { return nil }
        let days = length / Self.microsecondsPerDay
        let shown = length % Self.microsecondsPerDay == 0 ? "\(days) days" : "more than \(days) days"
        return "from, to: the window \(from.iso8601) – \(to.iso8601) is \(shown) long; a report spans at most"
            + " \(maxDays) days (LAKEHOOK_DORA_MAX_WINDOW_DAYS): ask for shorter windows, e.g. one per month or year"
    }

    /// Monday 00:00 UTC of the ISO week holding `instant`.
    static func weekStart(of instant: Timestamp) -> Timestamp {
        let day = floorDiv(instant.microsecondsSinceEpoch, microsecondsPerDay)
        // 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday = 0.
        let weekday = ((day + 3) % 7 + 7) % 7
        return Timestamp(microsecondsSinceEpoch: (day - weekday) * microsecondsPerDay)
    }

    /// The `count` ISO weeks up to the one holding the last instant before `end`, oldest first;
    /// the last one ends at `end` when `end` falls inside it (the current week, so far).
    static func weeks(endingAt end: Timestamp, count: Int) -> [DoraWindow] {
        let lastWeek = weekStart(of: Timestamp(microsecondsSinceEpoch: end.microsecondsSinceEpoch - 1))
        let week = 7 * microsecondsPerDay
        return (0..<count).reversed().map { back in
            let start = lastWeek.microsecondsSinceEpoch - Int64(back) * week
            let stop = min(start + week, end.microsecondsSinceEpoch)
            return DoraWindow(from: Timestamp(microsecondsSinceEpoch: start), to: Timestamp(microsecondsSinceEpoch: stop))
        }
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// Options that do not name a window; every problem is listed.
public struct DoraWindowError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [String]
    public var description: String { problems.joined(separator: "; ") }
}
