/// Which journal events to list: what `lakehook events` and `GET …/connections/:id/events` take.
/// Each field narrows the listing; the `limit` most recent of the events that match are listed,
/// oldest first.
struct EventFilter: Sendable, Equatable {
    var connectionId: Int64?
    /// A route as the journal names it, or the start of one: `deployments`; `issue` (every issue route).
    var route: String?
    /// One status (`400...400`) or a class of them (`400...499`).
    var status: ClosedRange<Int>?
    var since: EventSince?
    var limit = EventFilter.defaultLimit

    static let defaultLimit = 50
}

/// From when events are listed: a time before now (by the database's clock), or an instant.
enum EventSince: Sendable, Equatable {
    case ago(seconds: Int64)
    case instant(Timestamp)
}

/// Reading the filter's values from text, for the command line and the query string alike. Each
/// returns nil for text it does not take; `…Problem` says what it takes.
extension EventFilter {
    /// `400` (one status, 100–599) or `4xx` (a class, 1xx–5xx, any case).
    static func status(_ text: String) -> ClosedRange<Int>? {
        let lower = text.lowercased()
        if lower.count == 3, lower.hasSuffix("xx"), let digit = Int(lower.prefix(1)), (1...5).contains(digit) {
            return (digit * 100)...(digit * 100 + 99)
        }
        guard text.count == 3, text.allSatisfy(\.isASCIIDigit), let code = Int(text), (100...599).contains(code) else { return nil }
        return code...code
    }
    static let statusProblem = "must be a status (400) or a class of statuses (4xx)"

    /// `90s`, `30m`, `1h`, `7d`, `2w` before now; or an instant (RFC 3339, `2026-01-01T12:00:00Z`,
    /// or a date, UTC midnight).
    static func since(_ text: String) -> EventSince? {
        if let instant = TimestampParser.parse(text) { return .instant(instant) }
        let digits = text.prefix { $0.isASCIIDigit }
        let units: [String: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        guard !digits.isEmpty, digits.count <= 9, let amount = Int64(digits), amount > 0,
              let unit = units[String(text.dropFirst(digits.count))], amount * unit <= maxAgoSeconds
        else { return nil }
        return .ago(seconds: amount * unit)
    }
    /// Ten years: further back than any journal keeps, and within what `now() - interval` can subtract.
    static let maxAgoSeconds: Int64 = 3_650 * 86_400
    static let sinceProblem = "must be a time before now (90s, 30m, 1h, 7d, 2w; at most 3650d) or an instant (2026-01-01T12:00:00Z)"

    /// A route as the journal names it, or the start of one; a leading `/` is dropped.
    static func route(_ text: String) -> String? {
        let route = text.hasPrefix("/") ? String(text.dropFirst()) : text
        guard !route.isEmpty, route.unicodeScalars.count <= 64, !route.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { return nil }
        return route
    }
    static let routeProblem = "must be a route such as deployments or issue/:issueKey/close, or its start (issue), at most 64 characters"

    /// A whole number from 1 to `max`.
    static func limit(_ text: String, max: Int) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.allSatisfy(\.isASCIIDigit), let value = Int(text), (1...max).contains(value) else { return nil }
        return value
    }
    static func limitProblem(max: Int) -> String { "must be a whole number from 1 to \(max)" }
}

/// The statements of the journal's listings. The filter's values travel as parameters; only
/// which conditions are present shapes the text, so that each shape gets a plan that uses the
/// indexes: `(received_at, id)`, the primary key, and `(connection_id, received_at)`.
///
/// Every listing is bounded in `received_at` on both sides when it can be — from `since` (or the
/// follower's window) to an hour past the database's clock — so that PostgreSQL reads only the
/// partitions (days) in between: the last hour's events come from today's partition alone, not
/// from the days before, the coming days, or the default partition. (`now()` is stable, so the
/// partitions are chosen when the statement starts, also under a generic plan.) An event dated
/// more than an hour ahead of the database — an instance whose clock is that far off — is left out.
enum EventQuery {
    /// The listing: ids and arrival of the `limit` most recent events that match, oldest first.
    static func recent(_ filter: EventFilter) -> (sql: String, binds: [String?]) {
        var binds: [String?] = []
        let conditions = conditions(filter, &binds)
        binds.append(String(filter.limit))
        let sql = """
            SELECT recent.id, \(iso8601("recent.received_at")) AS received_at FROM (
                SELECT e.id, e.received_at FROM webhook_events e
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY e.received_at DESC, e.id DESC
                LIMIT $\(binds.count)::integer
            ) AS recent
            ORDER BY recent.received_at, recent.id
            """
        return (sql, binds)
    }

    /// A follower's window: ids and arrival of every event that matches, arrived from `start` on,
    /// oldest first.
    static func window(_ filter: EventFilter, from start: Timestamp) -> (sql: String, binds: [String?]) {
        var binds: [String?] = [start.postgresText]
        let conditions = ["e.received_at >= $1::timestamptz"] + conditions(filter, &binds)
        let sql = """
            SELECT e.id, \(iso8601("e.received_at")) AS received_at FROM webhook_events e
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY e.received_at, e.id
            """
        return (sql, binds)
    }

    /// The events `ids`, which arrived between `first` and `last` (the bounds pick the partitions),
    /// oldest first, with their connection's name; without their bodies unless `bodies`.
    static func events(_ ids: [Int64], from first: Timestamp, through last: Timestamp, bodies: Bool) -> (sql: String, binds: [String?]) {
        let body = bodies ? "e.body::text AS body, e.body_text" : "NULL AS body, NULL AS body_text"
        let sql = """
            SELECT e.id, \(iso8601("e.received_at")) AS received_at, e.connection_id, c.name AS connection_name, e.route,
                e.params::text AS params, e.request_id, e.client_address, e.user_agent, e.content_type, \(body),
                e.status, e.message, e.causes::text AS causes, e.duration_us, e.idempotency_key, e.outcome
            FROM webhook_events e LEFT JOIN webhook_connections c ON c.id = e.connection_id
            WHERE e.received_at >= $1::timestamptz AND e.received_at <= $2::timestamptz AND e.id = ANY($3::bigint[])
            ORDER BY e.received_at, e.id
            """
        let list = "{" + ids.map(String.init).joined(separator: ",") + "}"
        return (sql, [first.postgresText, last.postgresText, list])
    }

    /// The filter's conditions on `webhook_events e`, their values appended to `binds`.
    static func conditions(_ filter: EventFilter, _ binds: inout [String?]) -> [String] {
        func bind(_ value: String) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        var conditions = ["e.received_at < now() + interval '1 hour'"]
        switch filter.since {
        case .ago(let seconds): conditions.append("e.received_at >= now() - \(bind("\(seconds) seconds"))::interval")
        case .instant(let instant): conditions.append("e.received_at >= \(bind(instant.postgresText))::timestamptz")
        case nil: break
        }
        if let connectionId = filter.connectionId {
            conditions.append("e.connection_id = \(bind(String(connectionId)))::bigint")
        }
        if let route = filter.route {
            conditions.append("e.route LIKE \(bind(likePrefix(route)))::text ESCAPE '\\'")
        }
        if let status = filter.status {
            conditions.append("e.status BETWEEN \(bind(String(status.lowerBound)))::smallint AND \(bind(String(status.upperBound)))::smallint")
        }
        return conditions
    }

    /// `text%`, with LIKE's own characters in `text` escaped (`pull_requests` has a `_`).
    static func likePrefix(_ text: String) -> String {
        var pattern = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { pattern.append("\\") }
            pattern.append(character)
        }
        return pattern + "%"
    }

    /// A `timestamptz` as RFC 3339 in UTC with microseconds, whatever the session's TimeZone.
    static func iso8601(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
