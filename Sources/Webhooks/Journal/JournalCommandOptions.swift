import Postgres

/// The arguments of `replay`, `import` and `export`: words, flags, and options that take a value
/// as `--name value` or `--name=value`. A lone `-` is a word (standard input).
struct JournalCommandOptions {
    var words: [String] = []
    var flags: Set<String> = []
    var values: [String: String] = [:]

    typealias UsageError = LakehookCommand.UsageError

    static func parse(_ arguments: [String], command: String, valued: [String], flags known: [String]) throws -> JournalCommandOptions {
        var options = JournalCommandOptions()
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "--help" || argument == "-h" {
                options.flags.insert("--help")
            } else if let (name, value) = try optionValue(argument, among: valued, rest: &rest) {
                guard options.values[name] == nil else { throw UsageError(description: "\(name) is given twice") }
                options.values[name] = value
            } else if known.contains(argument) {
                options.flags.insert(argument)
            } else if argument.hasPrefix("-") && argument != "-" {
                throw UsageError(description: "unknown option \(argument) for \(command)")
            } else {
                options.words.append(argument)
            }
        }
        return options
    }

    /// `--connection`'s value: a whole number names a connection by id, anything else by name.
    var connection: DevLakeConnectionReference? {
        values["--connection"].map(LakehookCommand.reference)
    }

    /// `name`'s value checked as an instant (`JournalReader.instant`); kept as text, because a
    /// relative one counts back from when the command runs.
    func instant(_ name: String) throws -> String? {
        guard let text = values[name] else { return nil }
        guard JournalReader.instant(text, now: .now()) != nil else {
            throw UsageError(description: "\(name) \(text): not an instant; give an RFC 3339 time (2026-01-02T03:04:05Z) or an age (90m, 1h, 7d)")
        }
        return text
    }
}

extension JournalReader {
    /// How `export` and `replay` begin: the database, migrated as `serve` does, and a reader of
    /// the journal from `since` to `until` (an age counts back from now), of one connection when
    /// `connection` names one; throws when it names none.
    static func open(
        for command: String, configuration: Configuration, connection: DevLakeConnectionReference?,
        since: String?, until: String? = nil
    ) throws -> (db: PostgresConnection, reader: JournalReader) {
        let db = try PostgresConnection(config: configuration.database)
        _ = try Migrator.migrate(db)
        let now = Timestamp.now()
        var reader = JournalReader(
            since: since.flatMap { instant($0, now: now) }, until: until.flatMap { instant($0, now: now) })
        if let connection {
            guard let found = try DevLakeConnectionStore.find(connection, db) else {
                throw JournalCommandError(description: "\(command): no \(connection)")
            }
            reader.connectionId = found.id
        }
        return (db, reader)
    }
}

/// A journal command that cannot be carried out (exit status 1).
public struct JournalCommandError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
