import Foundation
import Postgres

/// `lakehook <command>`: everything but `serve`, which main.swift runs because it owns signals.
public enum LakehookCommand: Equatable {
    case serve
    case migrate
    case healthcheck
    case connectionsCreate(name: String, project: String?, json: Bool)
    case connectionsList(json: Bool)
    case connectionsDelete(ConnectionReference, purge: Bool)
    case connectionsRotateKey(ConnectionReference, json: Bool)
    case dora(DoraCommand)
    case help

    public struct UsageError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ arguments: [String]) throws -> LakehookCommand {
        if arguments.first == "dora" { return .dora(try DoraCommand.parse(Array(arguments.dropFirst()))) }
        var words: [String] = []
        var flags: Set<String> = []
        var project: String?
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "--project" || argument.hasPrefix("--project=") {
                if argument == "--project" {
                    guard let value = rest.popFirst() else { throw UsageError(description: "--project needs a value") }
                    project = value
                } else {
                    project = String(argument.dropFirst("--project=".count))
                }
            } else if argument.hasPrefix("--") {
                guard ["--json", "--purge", "--help"].contains(argument) else {
                    throw UsageError(description: "unknown option \(argument)")
                }
                flags.insert(argument)
            } else {
                words.append(argument)
            }
        }
        func flag(_ name: String) -> Bool { flags.contains(name) }
        if flag("--help") || words.first == "help" || words.isEmpty { return .help }
        let command = words.removeFirst()
        if project != nil && !(command == "connections" && words.first == "create") {
            throw UsageError(description: "--project goes with connections create")
        }
        switch command {
        case "serve" where words.isEmpty: return .serve
        case "migrate" where words.isEmpty: return .migrate
        case "healthcheck" where words.isEmpty: return .healthcheck
        case "connections":
            guard !words.isEmpty else { throw UsageError(description: "connections needs a subcommand: create, list, delete, rotate-key") }
            let sub = words.removeFirst()
            switch (sub, words.count) {
            case ("create", 1): return .connectionsCreate(name: words[0], project: project, json: flag("--json"))
            case ("list", 0): return .connectionsList(json: flag("--json"))
            case ("delete", 1): return .connectionsDelete(reference(words[0]), purge: flag("--purge"))
            case ("rotate-key", 1): return .connectionsRotateKey(reference(words[0]), json: flag("--json"))
            default: throw UsageError(description: "usage: lakehook connections create NAME [--project P] | list | delete ID|NAME [--purge] | rotate-key ID|NAME")
            }
        default:
            throw UsageError(description: "unknown command \"\(([command] + words).joined(separator: " "))\"")
        }
    }

    /// A whole number names a connection by id, anything else by name.
    static func reference(_ word: String) -> ConnectionReference {
        ConnectionReference.parseId(word) ?? .name(word)
    }

    public static var usage: String {
        let variables = Configuration.variables.map { v in
            "  \(v.name)\(String(repeating: " ", count: max(1, 34 - v.name.count)))\(v.meaning) (default: \(v.defaultValue))"
        }.joined(separator: "\n")
        return """
            lakehook: DevLake's incoming-webhook API on PostgreSQL.

            Usage:
              lakehook serve                              migrate, then serve HTTP (LAKEHOOK_LISTEN)
              lakehook migrate                            apply the database migrations and exit
              lakehook healthcheck                        exit 0 when the local server's /readyz answers 200
              lakehook connections create NAME [--project P] [--json]
                                                          create a connection; prints its API key once
              lakehook connections list [--json]          list connections (never their keys)
              lakehook connections delete ID|NAME [--purge]
                                                          delete a connection (--purge: and every row it wrote)
              lakehook connections rotate-key ID|NAME [--json]
                                                          give a connection a new key; the old one stops working
            \(DoraCommand.usage)
              lakehook --help                             this text

            Environment:
            \(variables)
              PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, ...  used when DATABASE_URL is unset

            """
    }
}

/// Runs the administrative commands against the database; returns the exit status.
public struct CommandRunner {
    public var configuration: Configuration
    public var output: (String) -> Void

    public init(configuration: Configuration, output: @escaping (String) -> Void = { print($0) }) {
        self.configuration = configuration
        self.output = output
    }

    public func run(_ command: LakehookCommand) throws {
        let pool = PostgresPool(config: configuration.database, size: 1)
        defer { pool.close() }
        let store = ConnectionStore(pool: pool)
        switch command {
        case .serve, .help:
            return
        case .healthcheck:
            guard HealthCheck.run(configuration: configuration) else {
                throw WebhookError.unavailable("not ready: \(configuration.listenHost):\(configuration.listenPort)/readyz did not answer 200")
            }
        case .migrate:
            let applied = try pool.withConnection { db in try Migrator.migrate(db) }
            output(applied.isEmpty
                ? "database is up to date (version \(Migrator.latestVersion))"
                : applied.map { "applied \($0.version) \($0.name)" }.joined(separator: "\n"))
        case .connectionsCreate(let name, let project, let json):
            try pool.withConnection { db in _ = try Migrator.migrate(db) }
            let (connection, key) = try store.create(name: name, project: project)
            show(connection, key: key, json: json, verb: "created")
        case .connectionsRotateKey(let reference, let json):
            let (connection, key) = try store.rotateKey(reference)
            show(connection, key: key, json: json, verb: "new key for")
        case .connectionsList(let json):
            let connections = try store.list()
            if json {
                output(JSONValue.array(connections.map { describe($0, key: nil) }).serialized())
            } else if connections.isEmpty {
                output("no connections; create one with: lakehook connections create NAME")
            } else {
                output("ID\tNAME\tPROJECT\tKEY")
                for c in connections { output("\(c.id)\t\(c.name)\t\(c.projectName ?? "-")\t\(c.apiKeyHint)…") }
            }
        case .dora(let dora):
            try dora.run(configuration: configuration, output: output)
        case .connectionsDelete(let reference, let purge):
            let deleted = try store.delete(reference, purge: purge)
            output("deleted connection \(deleted.id) \"\(deleted.name)\"\(purge ? " and every row it wrote" : "")")
        }
    }

    func describe(_ connection: WebhookConnection, key: APIKey?) -> JSONValue {
        Endpoints.describe(connection, publicURL: configuration.publicURL, key: key)
    }

    func show(_ connection: WebhookConnection, key: APIKey, json: Bool, verb: String) {
        if json {
            output(describe(connection, key: key).serialized())
            return
        }
        let endpoints = Endpoints(publicURL: configuration.publicURL, connection: connection)
        output("""
            \(verb) connection \(connection.id) "\(connection.name)"
            API key (shown this once; store it now): \(key.plaintext)

            Endpoints:
            \(endpoints.all.map { "  \($0.name.padding(toLength: 26, withPad: " ", startingAt: 0)) \($0.url)" }.joined(separator: "\n"))

            Try it (the product brief's sample calls):
            \(endpoints.sampleCalls(key: key.plaintext).joined(separator: "\n"))
            """)
    }
}
