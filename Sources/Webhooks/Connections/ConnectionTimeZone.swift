import Foundation
import Postgres

/// The zone in which a connection reads dates that carry no offset (`2026-03-29 02:30:00`, as
/// Jenkins libraries format them in the JVM's zone). An IANA name; UTC unless set.
///
/// PostgreSQL decides which names exist (`pg_timezone_names`, checked when a connection's zone is
/// set), and this instance's zone rules (Foundation's) turn a wall-clock time into an instant at
/// decode time, so every date of a write is an instant before any check compares two of them
/// (a finish before its start, `duration_sec`, `lead_time_minutes`) and every bind stays a UTC
/// text. A wall-clock time that a clock change skips or repeats is read as PostgreSQL reads
/// `'<time> <zone>'::timestamptz`: with the smaller of the two offsets, the later instant
/// (`2026-03-29 02:30` Europe/Berlin, skipped, is 01:30Z; `2026-10-25 02:30`, repeated, is 01:30Z).
public struct ConnectionTimeZone: Sendable, Hashable, CustomStringConvertible {
    /// The IANA name as PostgreSQL spells it (`Europe/Berlin`).
    public let identifier: String
    /// Nil for UTC, which needs no rules.
    private let rules: TimeZone?

    public static let utc = ConnectionTimeZone(identifier: "UTC", rules: nil)

    private init(identifier: String, rules: TimeZone?) {
        self.identifier = identifier
        self.rules = rules
    }

    /// The zone named `identifier`, or nil when this instance has no rules for it. Does not ask
    /// PostgreSQL: use `resolve(_:_:)` for a name a client sent.
    public init?(identifier: String) {
        if identifier == "UTC" {
            self = .utc
            return
        }
        guard let rules = TimeZone(identifier: identifier) else { return nil }
        self.init(identifier: identifier, rules: rules)
    }

    public var description: String { identifier }

    /// The instant of `wallClock`, a date read without an offset as though it were UTC.
    public func instant(ofWallClock wallClock: Timestamp) -> Timestamp {
        guard let rules else { return wallClock }
        let local = wallClock.microsecondsSinceEpoch
        let seconds = local >= 0 ? local / 1_000_000 : (local - 999_999) / 1_000_000
        func offset(at second: Int64) -> Int64 {
            Int64(rules.secondsFromGMT(for: Date(timeIntervalSince1970: Double(second))))
        }
        // The true instant lies within a day of the wall-clock time read as UTC (offsets are under
        // 26 hours), so the offsets in force a day either side are the only candidates; one holds
        // when it is the offset at the instant it gives.
        let candidates = Set([offset(at: seconds - 86_400), offset(at: seconds), offset(at: seconds + 86_400)])
        let holding = candidates.filter { offset(at: seconds - $0) == $0 }
        // Skipped (none holds) or repeated (two hold): the smaller offset, as PostgreSQL.
        let chosen = (holding.isEmpty ? candidates : holding).min() ?? 0
        return Timestamp(microsecondsSinceEpoch: local - chosen * 1_000_000)
    }

    /// The zone a client named, checked against PostgreSQL's zone names: a 400 naming the problem
    /// when PostgreSQL does not know it (with the spelling it does know when only the case
    /// differs), or when this instance has no rules for it.
    static func resolve(_ name: String, _ db: PostgresConnection) throws -> ConnectionTimeZone {
        let field = "timeZone: "
        guard !name.isEmpty, name.unicodeScalars.count <= 64 else {
            throw WebhookError.badRequest(
                "invalid connection", causes: [field + "must be an IANA time zone name such as Europe/Berlin or UTC"])
        }
        let known = try db.query(
            "SELECT name FROM pg_timezone_names WHERE lower(name) = lower($1) ORDER BY name = $1 DESC, name LIMIT 1",
            [name]).rows.first?[0]
        guard let known, known == name else {
            let hint = known.map { " (did you mean \($0)?)" } ?? "; use an IANA name such as Europe/Berlin, America/New_York or UTC"
            throw WebhookError.badRequest(
                "invalid connection", causes: [field + "\"\(name)\" is not a time zone PostgreSQL knows\(hint)"])
        }
        guard let zone = ConnectionTimeZone(identifier: name) else {
            throw WebhookError.badRequest(
                "invalid connection", causes: [field + "\"\(name)\" is known to PostgreSQL but not to this Lakehook build"])
        }
        return zone
    }
}
