import Postgres

/// `lakehook import FILE|- [--connection C] [--dry-run]`: applies NDJSON requests (`JournalLine`)
/// as their HTTP requests would be, and journals each: `applied` or `stale` with its rows, or
/// `refused` with its cause.
///
/// A reader thread parses and decodes lines ahead (`DecodeAhead`) while this one writes them,
/// `batchSize` lines to a transaction on one connection (`EventWriter`: a line the database
/// refuses is journaled as refused and costs the others nothing). The arrival of a line is its
/// `receivedAt`, or the moment it is read. `LakehookCommand` hands it every argument after `import`.
public struct ImportCommand: Sendable, Equatable {
    /// A path, or `-` for standard input.
    public var source = "-"
    /// Every line goes to this connection (a line's `connectionId` is then ignored).
    public var connection: DevLakeConnectionReference?
    public var dryRun = false
    public var help = false

    /// Lines per transaction: 1000 measured best (bench/import.sh, docs/JOURNAL.md).
    static let batchSize = 1000

    public static let usage = """
          lakehook import FILE|- [--connection C] [--dry-run]
                                                      apply NDJSON requests, one a line:
                                                      {"route": "deployments", "params": {}, "body": {...}}
                                                      (route: the journal's route name; optional
                                                      "connectionId", needed without --connection, and
                                                      "receivedAt", the arrival, else now), and journal
                                                      each. Prints the line number and cause of every
                                                      refused line. Exit status 0 when every line was
                                                      applied, 1 when some were refused. --dry-run:
                                                      decode and check every line, write nothing
        """

    public static func parse(_ arguments: [String]) throws -> ImportCommand {
        let options = try JournalCommandOptions.parse(arguments, command: "import", valued: ["--connection"], flags: ["--dry-run"])
        if options.flags.contains("--help") { return ImportCommand(help: true) }
        guard options.words.count == 1 else {
            throw LakehookCommand.UsageError(description: "import reads one FILE, or - for standard input; usage:\n" + usage)
        }
        return ImportCommand(source: options.words[0], connection: options.connection, dryRun: options.flags.contains("--dry-run"))
    }

    /// Runs against the database of `configuration` (migrating it first, as `serve` does).
    /// Throws `ImportRefusals` (exit status 1) after the summary when a line was refused.
    public func run(configuration: Configuration, output: (String) -> Void) throws {
        if help {
            output("Usage:\n" + Self.usage + "\n")
            return
        }
        let lines = try LineReader(path: source)
        let db = try PostgresConnection(config: configuration.database)
        _ = try Migrator.migrate(db)
        var target: DevLakeConnection?
        if let connection {
            guard let found = try DevLakeConnectionStore.find(connection, db) else {
                throw JournalCommandError(description: "import: no \(connection); create it with lakehook connections create NAME")
            }
            target = found
        }
        let total = LineReader.countLines(path: source)
        let decoder = EventDecoder.standalone(configuration)
        let (config, journaling) = (configuration.database, configuration.journal && !dryRun)
        let ahead = DecodeAhead<ImportBatch> { [target] emit in
            let db = try PostgresConnection(config: config)
            let reading = LineDecoding(decoder: decoder, webhooks: WebhookCache(db: db), target: target, journaling: journaling)
            var batch = ImportBatch()
            var number = 0
            while let line = try lines.next() {
                number += 1
                batch.lastLine = number
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                batch.events.append(try reading.prepare(line, number: number))
                if batch.events.count == Self.batchSize {
                    guard emit(batch) else { return }
                    batch.events.removeAll(keepingCapacity: true)
                }
            }
            if batch.lastLine > 0 { _ = emit(batch) }
        }
        var summary = RunSummary(command: "import", noun: "line", dryRun: dryRun)
        let progress = ProgressBar.standardError(label: "import", noun: "lines", total: total)
        let writer = dryRun ? nil : try EventWriter(configuration: configuration)
        try summary.write(ahead, events: \.events, with: writer, progress: progress) { batch, _ in batch.lastLine }
        summary.lines().forEach(output)
        if !summary.refusals.isEmpty {
            throw ImportRefusals(refused: summary.refusals.count, lines: summary.done, dryRun: dryRun)
        }
    }
}

/// Lines read and decoded, for one transaction.
struct ImportBatch: Sendable {
    var events: [PreparedEvent] = []
    /// The number of the last line read (blank lines count, and are skipped).
    var lastLine = 0
}

/// What turns one line into a prepared event (on the reading thread).
struct LineDecoding {
    var decoder: EventDecoder
    var webhooks: WebhookCache
    /// `--connection`: every line goes there.
    var target: DevLakeConnection?
    var journaling: Bool

    func prepare(_ bytes: [UInt8], number: Int) throws -> PreparedEvent {
        let label = "line \(number)"
        let line: JournalLine
        do {
            line = try JournalLine.parse(bytes)
        } catch {
            return .refused(label: label, route: "", error)
        }
        guard let connectionId = target?.id ?? line.connectionId else {
            return .refused(label: label, route: line.route, .badRequest("connectionId: is required when import is given no --connection"))
        }
        guard let webhook = try target ?? webhooks.webhook(connectionId) else {
            return .refused(label: label, route: line.route, .notFound(
                "connection \(connectionId) does not exist here; create it (lakehook connections create), or import with --connection"))
        }
        guard let route = decoder.route(named: line.route) else {
            return .refused(label: label, route: line.route, .notFound("unknown route \"\(line.route)\"; routes: \(decoder.routeNames)"))
        }
        let arrival = line.receivedAt ?? .now()
        let entry = journaling ? JournalEntry(
            receivedAt: arrival, connectionId: webhook.id, route: line.route, params: line.params,
            requestId: "import:\(number)", clientAddress: "", userAgent: "lakehook import", contentType: "application/json",
            body: line.body, idempotencyKey: nil, started: .now) : nil
        let missing = Self.parameterNames(line.route).filter { (line.params[$0] ?? "").isEmpty }
        guard missing.isEmpty else {
            let error = WebhookError.badRequest(
                "the route \(line.route) needs its path parameters", causes: missing.map { "params.\($0): is required" })
            return .refused(label: label, route: line.route, entry: entry, error)
        }
        let decoded = decoder.decode(
            route, params: line.params, body: line.body, parsed: line.parsedBody, webhook: webhook, arrival: arrival)
        return .make(label: label, route: line.route, webhook: webhook, entry: entry, decoded)
    }

    /// `issue/:boardKey/:issueKey/close` → `boardKey`, `issueKey`.
    static func parameterNames(_ route: String) -> [String] {
        route.split(separator: "/").filter { $0.hasPrefix(":") }.map { String($0.dropFirst()) }
    }
}

/// Some lines were refused: the summary listed them; the exit status is 1.
public struct ImportRefusals: Error, Sendable, CustomStringConvertible {
    public var refused: Int
    public var lines: Int
    public var dryRun: Bool

    public var description: String {
        "\(ProgressBar.grouped(refused)) of \(RunSummary.counted(lines, "line")) \(dryRun ? "would be " : "")refused (listed above)"
    }
}
