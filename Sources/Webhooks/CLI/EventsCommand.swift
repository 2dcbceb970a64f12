import Foundation
import Postgres

/// `lakehook events ...`: what clients sent, from the journal — the answer to "my CI gets a 400
/// and I can't see why".
///
///     lakehook events [--connection ID|NAME] [--route R] [--status 400|4xx] [--since 1h|INSTANT]
///                     [--limit N] [--json] [--follow]
///
/// `LakehookCommand` hands it every argument after `events`.
public struct EventsCommand: Sendable, Equatable {
    public var connection: DevLakeConnectionReference?
    var filter = EventFilter()
    public var json = false
    public var follow = false
    public var help = false

    /// The most events one listing prints (`--limit`).
    static let maxLimit = 10_000

    public static let usage = """
          lakehook events [--connection ID|NAME] [--route R] [--status 400|4xx] [--since 1h|INSTANT]
                          [--limit N] [--json] [--follow]
                                                      what clients sent: the last N requests (default 50),
                                                      oldest first, with status, outcome, duration, request id,
                                                      client, and a refusal's message and causes.
                                                      --route: a route (deployments) or its start (issue);
                                                      --since: 30m, 1h, 7d or an RFC 3339 instant;
                                                      --json: one object per line, every column and the body;
                                                      --follow: then every new one, from every instance, until Ctrl-C
        """

    typealias UsageError = LakehookCommand.UsageError

    /// Reads the arguments after `events`. Every option takes `--name value` or `--name=value`.
    public static func parse(_ arguments: [String]) throws -> EventsCommand {
        var command = EventsCommand()
        var given: Set<String> = []
        var rest = arguments[...]
        let valued = ["--connection", "--route", "--status", "--since", "--limit"]
        while let argument = rest.popFirst() {
            switch argument {
            case "--help", "-h": return EventsCommand(help: true)
            case "--json": command.json = true
            case "--follow", "-f": command.follow = true
            default:
                guard let (name, value) = try optionValue(argument, among: valued, rest: &rest) else {
                    throw UsageError(description: argument.hasPrefix("-")
                        ? "unknown option \(argument) for events"
                        : "events takes options only, not \"\(argument)\" (a connection is --connection \(argument))")
                }
                guard given.insert(name).inserted else { throw UsageError(description: "\(name) is given twice") }
                try command.set(name, value)
            }
        }
        return command
    }

    private mutating func set(_ name: String, _ value: String) throws {
        func refuse(_ problem: String) -> UsageError { UsageError(description: "\(name) \(value): \(problem)") }
        switch name {
        case "--connection":
            guard !value.isEmpty else { throw refuse("must be a connection's id or name") }
            connection = LakehookCommand.reference(value)
        case "--route":
            guard let route = EventFilter.route(value) else { throw refuse(EventFilter.routeProblem) }
            filter.route = route
        case "--status":
            guard let status = EventFilter.status(value) else { throw refuse(EventFilter.statusProblem) }
            filter.status = status
        case "--since":
            guard let since = EventFilter.since(value) else { throw refuse(EventFilter.sinceProblem) }
            filter.since = since
        default:
            guard let limit = EventFilter.limit(value, max: Self.maxLimit) else { throw refuse(EventFilter.limitProblem(max: Self.maxLimit)) }
            filter.limit = limit
        }
    }

    /// Runs against the database of `configuration` (migrating it first, as `serve` does). An
    /// unknown connection is an error (exit status 1); no event matching is not.
    public func run(configuration: Configuration, output: (String) -> Void) throws {
        if help {
            output("Usage:\n" + Self.usage + "\n")
            return
        }
        let pool = PostgresPool(config: configuration.database, size: 1)
        defer { pool.close() }
        try pool.withConnection { db in _ = try Migrator.migrate(db) }
        var filter = filter
        if let connection {
            guard let found = try DevLakeConnectionStore(pool: pool).find(connection) else {
                throw WebhookError.notFound("unknown \(connection); lakehook connections list shows them")
            }
            filter.connectionId = found.id
        }
        var shown = 0
        func show(_ events: [JournalEvent]) {
            for event in events { output(json ? event.json.serialized() : event.line) }
            shown += events.count
            fflush(nil)  // every output stream: a follower's reader (a pipe, a file) sees each batch at once
        }
        if follow {
            pool.close()  // the follower has a connection of its own, for as long as it runs
            try StopSignal.handlingSignals { stop in
                try EventFollower(filter: filter, bodies: json).run(config: configuration.database, stop: stop, print: show)
            }
            return
        }
        try pool.withConnection { db in try EventStore.recent(filter, bodies: json, on: db, each: show) }
        if shown == 0 && !json {
            FileHandle.standardError.write(Data("""
                lakehook: no events match. The journal keeps every ingest request that passed authentication \
                (LAKEHOOK_JOURNAL, LAKEHOOK_JOURNAL_DAYS); a 401 or a wrong key is not kept.

                """.utf8))
        }
    }
}
