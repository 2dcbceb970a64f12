import Foundation
import Postgres

/// `lakehook export [--connection C] [--since T]`: the journal's accepted events (`applied`,
/// `stale`) in arrival order as NDJSON on standard output, in the shape `lakehook import` reads,
/// with each event's `connectionId` and `receivedAt`: importing it into another database writes
/// the same domain rows there. Progress and the count go to standard error.
public struct ExportCommand: Sendable, Equatable {
    public var connection: DevLakeConnectionReference?
    public var since: String?
    public var help = false

    public static let usage = """
          lakehook export [--connection C] [--since T]
                                                      write the journal's accepted events to standard
                                                      output as NDJSON, in import's shape with
                                                      "connectionId" and "receivedAt" (export here,
                                                      import there: the same rows). T: RFC 3339 or an age
        """

    public static func parse(_ arguments: [String]) throws -> ExportCommand {
        let options = try JournalCommandOptions.parse(arguments, command: "export", valued: ["--connection", "--since"], flags: [])
        if options.flags.contains("--help") { return ExportCommand(help: true) }
        guard options.words.isEmpty else {
            throw LakehookCommand.UsageError(description: "export takes no arguments, only options; usage:\n" + usage)
        }
        return ExportCommand(connection: options.connection, since: try options.instant("--since"))
    }

    /// Runs against the database of `configuration`; `output` takes each line.
    public func run(configuration: Configuration, output: (String) -> Void) throws {
        if help {
            output("Usage:\n" + Self.usage + "\n")
            return
        }
        let (db, reader) = try JournalReader.open(for: "export", configuration: configuration, connection: connection, since: since)
        let started = ContinuousClock.now
        let progress = ProgressBar.standardError(label: "export", noun: "events", total: try reader.count(db))
        var written = 0
        try reader.forEachPage(db) { events in
            for event in events {
                output(JournalLine.render(
                    route: event.route, params: event.params, jsonBody: event.jsonBody, textBody: event.textBody,
                    connectionId: event.connectionId, receivedAt: event.receivedAt))
            }
            written += events.count
            progress.update(done: written)
            return true
        }
        progress.finish()
        FileHandle.standardError.write(Data(
            "export: \(ProgressBar.grouped(written)) events in \(ProgressBar.took(ContinuousClock.now - started))\n".utf8))
    }
}
