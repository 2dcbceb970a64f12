import Postgres

/// One accepted request as the journal kept it (what replay and export read).
struct StoredEvent: Sendable {
    var id: Int64
    var receivedAt: Timestamp
    var connectionId: Int64
    var route: String
    var params: [String: String]
    /// The body as PostgreSQL prints jsonb, when it was kept as JSON.
    var jsonBody: String?
    /// The body as text, when jsonb refused it (see `JournalBody`).
    var textBody: String?

    /// The body's bytes for the route's decoder (empty: none).
    var body: [UInt8] { Array((jsonBody ?? textBody ?? "").utf8) }
}

/// Reads the accepted events of the journal (`applied` and `stale`; never `refused` or
/// `duplicate`), in arrival order — `received_at`, then `id` — a page at a time by keyset, so a
/// journal of any size is read in constant memory and each page from the primary key.
struct JournalReader {
    /// Only this connection's events; nil: every connection's.
    var connectionId: Int64?
    /// Events received at or after this instant.
    var since: Timestamp?
    /// Events received before this instant.
    var until: Timestamp?

    static let pageSize = 1000

    private static let filter = """
        outcome IN ('applied', 'stale')
            AND ($1::bigint IS NULL OR connection_id = $1::bigint)
            AND ($2::timestamptz IS NULL OR received_at >= $2::timestamptz)
            AND ($3::timestamptz IS NULL OR received_at < $3::timestamptz)
        """

    static let countSQL = "SELECT count(*) FROM webhook_events WHERE \(filter)"

    /// Ordered by the table's columns (`e.`): the output column `received_at` is text, and
    /// ordering by it sorted the whole journal on every page instead of reading the primary key.
    static let pageSQL = """
        SELECT e.id, to_char(e.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS received_at,
            e.connection_id, e.route, e.params::text AS params, e.body::text AS body, e.body_text
        FROM webhook_events e
        WHERE \(filter) AND (e.received_at, e.id) > ($4::timestamptz, $5::bigint)
        ORDER BY e.received_at, e.id
        LIMIT $6
        """

    private var binds: [String?] { [connectionId.map { String($0) }, since?.postgresText, until?.postgresText] }

    /// How many events the reader will read.
    func count(_ db: PostgresConnection) throws -> Int {
        Int(try db.query(Self.countSQL, binds).rows.first?[0] ?? "0") ?? 0
    }

    /// Calls `body` with each page of events, in order, until the journal or `body` says stop
    /// (returns false).
    func forEachPage(_ db: PostgresConnection, _ body: ([StoredEvent]) throws -> Bool) throws {
        var after: (at: String, id: String) = ("-infinity", "0")
        while true {
            let rows = try db.query(Self.pageSQL, binds + [after.at, after.id, String(Self.pageSize)]).rows
            guard !rows.isEmpty else { return }
            let events = try rows.map(Self.event)
            guard try body(events), rows.count == Self.pageSize, let last = events.last else { return }
            after = (last.receivedAt.postgresText, String(last.id))
        }
    }

    static func event(_ row: PostgresRow) throws -> StoredEvent {
        guard let idText = row["id"], let id = Int64(idText), let at = row["received_at"], let receivedAt = TimestampParser.parse(at),
              let connectionText = row["connection_id"], let connectionId = Int64(connectionText), let route = row["route"]
        else {
            throw PostgresDecodingError(message: "webhook_events row has an unexpected shape")
        }
        var params: [String: String] = [:]
        if let text = row["params"], case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) {
            for (name, value) in object.members {
                if case .string(let string) = value { params[name] = string }
            }
        }
        return StoredEvent(
            id: id, receivedAt: receivedAt, connectionId: connectionId, route: route, params: params,
            jsonBody: row["body"], textBody: row["body_text"])
    }

    /// An instant on the command line: RFC 3339 (`2026-01-02T03:04:05Z`, or a date, UTC
    /// midnight), or a time before `now` (`90m`, `1h`, `7d`, `2w`).
    static func instant(_ text: String, now: Timestamp) -> Timestamp? {
        if text.contains(where: \.isLetter), !text.contains("-"), let seconds = DoraCommand.parseDuration(text) {
            return Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - Int64(seconds) * 1_000_000)
        }
        return TimestampParser.parse(text)
    }
}
