import Postgres

/// `lakehook replay [--connection C] [--since T] [--until T] [--dry-run]`: applies the journal's
/// accepted events again, in arrival order, through the decoding and SQL of their requests.
///
/// Each event (outcome `applied` or `stale`; never `refused` or `duplicate`) runs as its request
/// did: its route by name, its path parameters, its body, and its `received_at` as the arrival —
/// "now" for everything the write dates itself — so it writes the rows the request wrote. No
/// journal row is written and no idempotency key consulted. Replaying twice gives the same rows.
/// An event that no longer decodes, or that the database refuses, is reported with its id and
/// cause, and the replay goes on. `LakehookCommand` hands it every argument after `replay`.
public struct ReplayCommand: Sendable, Equatable {
    public var connection: DevLakeConnectionReference?
    /// `--since` / `--until` as given (an age counts back from when the replay runs).
    public var since: String?
    public var until: String?
    public var dryRun = false
    public var help = false

    public static let usage = """
          lakehook replay [--connection C] [--since T] [--until T] [--dry-run]
                                                      apply the journal's accepted events again, in arrival
                                                      order, as their requests did (their arrival time for
                                                      every "now"); writes no journal rows. C: id or name;
                                                      T: RFC 3339 (2026-01-02T03:04:05Z) or an age (1h, 7d);
                                                      --since includes T, --until excludes it. --dry-run:
                                                      decode and check every event, write nothing
        """

    public static func parse(_ arguments: [String]) throws -> ReplayCommand {
        let options = try JournalCommandOptions.parse(
            arguments, command: "replay", valued: ["--connection", "--since", "--until"], flags: ["--dry-run"])
        if options.flags.contains("--help") { return ReplayCommand(help: true) }
        guard options.words.isEmpty else {
            throw LakehookCommand.UsageError(description: "replay takes no arguments, only options; usage:\n" + usage)
        }
        return ReplayCommand(
            connection: options.connection, since: try options.instant("--since"), until: try options.instant("--until"),
            dryRun: options.flags.contains("--dry-run"))
    }

    /// Runs against the database of `configuration` (migrating it first, as `serve` does).
    public func run(configuration: Configuration, output: (String) -> Void) throws {
        if help {
            output("Usage:\n" + Self.usage + "\n")
            return
        }
        let (db, reader) = try JournalReader.open(
            for: "replay", configuration: configuration, connection: connection, since: since, until: until)
        let total = try reader.count(db)
        let decoder = EventDecoder.standalone(configuration)
        let config = configuration.database
        let ahead = DecodeAhead<[PreparedEvent]> { [reader] emit in
            let db = try PostgresConnection(config: config)
            let webhooks = WebhookCache(db: db)
            try reader.forEachPage(db) { events in
                emit(try events.map { try Self.prepare($0, decoder, webhooks) })
            }
        }
        var summary = RunSummary(command: "replay", noun: "event", dryRun: dryRun)
        let progress = ProgressBar.standardError(label: "replay", noun: "events", total: total)
        let writer = dryRun ? nil : try EventWriter(configuration: configuration)
        try summary.write(ahead, events: { $0 }, with: writer, progress: progress) { _, summary in summary.done }
        summary.lines().forEach(output)
    }

    /// The event's operation, decoded as its request was, with its arrival time; no journal row.
    static func prepare(_ event: StoredEvent, _ decoder: EventDecoder, _ webhooks: WebhookCache) throws -> PreparedEvent {
        let label = "event \(event.id)"
        guard let webhook = try webhooks.webhook(event.connectionId) else {
            return .refused(label: label, route: event.route, .notFound("connection \(event.connectionId) no longer exists"))
        }
        guard let route = decoder.route(named: event.route) else {
            return .refused(label: label, route: event.route, .notFound("no route \"\(event.route)\" in this Lakehook"))
        }
        let decoded = decoder.decode(route, params: event.params, body: event.body, webhook: webhook, arrival: event.receivedAt)
        return .make(label: label, route: event.route, webhook: webhook, entry: nil, decoded)
    }
}

extension EventDecoder {
    /// The routes of a `WebhookService` made only for them (its pool never connects).
    static func standalone(_ configuration: Configuration) -> EventDecoder {
        let pool = PostgresPool(config: configuration.database, size: 1)
        defer { pool.close() }
        return EventDecoder(service: WebhookService(pool: pool, log: RequestLog(level: .error), pipeline: false, journal: false))
    }
}
