import Postgres

/// An event's place in the journal: its id, and its arrival, which picks its partition.
struct EventKey: Sendable, Hashable {
    var id: Int64
    var receivedAt: Timestamp
}

/// Reads the journal for `lakehook events`, its `--follow`, the events route and the DORA page.
///
/// A listing is two steps: the keys of the events that match (a narrow read of the indexes),
/// then the events themselves by key, `batch` at a time, so that the bodies (each up to the body
/// limit) of a long listing are never all in memory at once.
enum EventStore {
    /// Events read by one statement.
    static let batch = 100

    /// The `filter.limit` most recent events that match, oldest first, handed to `each` a batch at a time.
    static func recent(
        _ filter: EventFilter, bodies: Bool, on db: PostgresConnection, each: ([JournalEvent]) throws -> Void
    ) throws {
        let (sql, binds) = EventQuery.recent(filter)
        try fetch(try keys(db.query(sql, binds)), bodies: bodies, on: db, each: each)
    }

    /// The same, all at once (the events route: at most its limit).
    static func recent(_ filter: EventFilter, bodies: Bool, on db: PostgresConnection) throws -> [JournalEvent] {
        var events: [JournalEvent] = []
        try recent(filter, bodies: bodies, on: db) { events += $0 }
        return events
    }

    /// The keys of every event that matches and arrived from `start` on, oldest first.
    static func window(_ filter: EventFilter, from start: Timestamp, on db: PostgresConnection) throws -> [EventKey] {
        let (sql, binds) = EventQuery.window(filter, from: start)
        return try keys(db.query(sql, binds))
    }

    /// The events of `keys`, in that order, a batch at a time; one deleted meanwhile (its day
    /// dropped) is left out.
    static func fetch(_ keys: [EventKey], bodies: Bool, on db: PostgresConnection, each: ([JournalEvent]) throws -> Void) throws {
        var start = 0
        while start < keys.count {
            let part = keys[start..<min(start + batch, keys.count)]
            start += part.count
            let first = part.map(\.receivedAt).min()!, last = part.map(\.receivedAt).max()!
            let (sql, binds) = EventQuery.events(part.map(\.id), from: first, through: last, bodies: bodies)
            let events = try db.query(sql, binds).rows.map(JournalEvent.init(row:))
            if !events.isEmpty { try each(events) }
        }
    }

    /// The database's clock (`now()`): a follower's windows are measured by it, not by this
    /// machine's, which may differ.
    static func databaseNow(on db: PostgresConnection) throws -> Timestamp {
        guard let text = try db.query("SELECT \(EventQuery.iso8601("now()"))").rows.first?[0],
              let now = TimestampParser.parse(text)
        else { throw PostgresDecodingError(message: "now() did not read as a timestamp") }
        return now
    }

    private static func keys(_ result: PostgresResult) throws -> [EventKey] {
        try result.rows.map { row in
            guard let id = row[0].flatMap({ Int64($0) }), let receivedAt = row[1].flatMap(TimestampParser.parse) else {
                throw PostgresDecodingError(message: "a journal listing row without id or received_at")
            }
            return EventKey(id: id, receivedAt: receivedAt)
        }
    }
}

/// A connection's refused requests of the last 24 hours, for the DORA page.
struct ConnectionRefusals: Sendable, Equatable {
    var connectionId: Int64
    var name: String
    var count: Int
    /// When the latest came; nil when there was none.
    var last: Timestamp?

    /// Every connection of `project`, by name, with its refusals of the last 24 hours (4xx after
    /// authentication: what the journal keeps).
    static let sql = """
        SELECT p.connection_id, c.name, count(e.id) AS refusals, \(EventQuery.iso8601("max(e.received_at)")) AS last
        FROM dora_project_connections p
        JOIN webhook_connections c ON c.id = p.connection_id
        LEFT JOIN webhook_events e ON e.connection_id = p.connection_id AND e.status BETWEEN 400 AND 499
            AND e.received_at >= now() - interval '24 hours' AND e.received_at < now() + interval '1 hour'
        WHERE p.project_name = $1
        GROUP BY p.connection_id, c.name
        ORDER BY c.name COLLATE "C"
        """

    static func of(project: String, pool: PostgresPool) throws -> [ConnectionRefusals] {
        try pool.withConnection { db in try db.query(sql, [project]).rows }.map { row in
            guard let id = row[0].flatMap({ Int64($0) }), let name = row[1], let count = row[2].flatMap({ Int($0) }) else {
                throw PostgresDecodingError(message: "a refusals row without connection, name or count")
            }
            return ConnectionRefusals(connectionId: id, name: name, count: count, last: row[3].flatMap(TimestampParser.parse))
        }
    }
}
