import Foundation
import Postgres

/// `lakehook <command>`: everything but `serve`, which main.swift runs because it owns signals.
public enum LakehookCommand: Equatable {
    case serve
    case migrate
    case healthcheck
    case connectionsCreate(name: String, project: String?, timeZone: String?, json: Bool)
    /// `project`: nil leaves it, `.some(nil)` (`--no-project`) removes it.
    /// `options`: `--environment NAME=ENV` (repeatable; `NAME=` removes it) and `--incident-label L`,
    /// for a source connection only (the store refuses them on a devlake connection).
    case connectionsUpdate(
        DevLakeConnectionReference, name: String?, project: String??, timeZone: String?, json: Bool,
        options: SourceOptionsChange = SourceOptionsChange())
    case connectionsList(json: Bool)
    case connectionsDelete(DevLakeConnectionReference, purge: Bool)
    case connectionsRotateKey(DevLakeConnectionReference, json: Bool)
    /// `connections create NAME --source github|gitlab|pagerduty|cdevents` (issue 17).
    /// `[--environment NAME=ENV]... [--incident-label L]`: its options (docs/SOURCES.md).
    case sourceConnectionCreate(
        name: String, project: String?, source: SourceKind, json: Bool, options: SourceOptionsChange = SourceOptionsChange())
    /// `connections rotate-secret ID|NAME [--grace 24h]`.
    case connectionsRotateSecret(DevLakeConnectionReference, graceSeconds: Int, json: Bool, secret: String? = nil)
    case dora(DoraCommand)
    case events(EventsCommand)
    case replay(ReplayCommand)
    case importEvents(ImportCommand)
    case export(ExportCommand)
    case help

    public struct UsageError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ arguments: [String]) throws -> LakehookCommand {
        if arguments.first == "dora" { return .dora(try DoraCommand.parse(Array(arguments.dropFirst()))) }
        if arguments.first == "events" { return .events(try EventsCommand.parse(Array(arguments.dropFirst()))) }
        if arguments.first == "replay" { return .replay(try ReplayCommand.parse(Array(arguments.dropFirst()))) }
        if arguments.first == "import" { return .importEvents(try ImportCommand.parse(Array(arguments.dropFirst()))) }
        if arguments.first == "export" { return .export(try ExportCommand.parse(Array(arguments.dropFirst()))) }
        var words: [String] = []
        var flags: Set<String> = []
        // The options that take a value, as `--option VALUE` or `--option=VALUE`.
        var values: [String: String] = [:]
        // `--environment NAME=ENV`, repeatable: every one, in order.
        var environments: [String] = []
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "--environment" || argument.hasPrefix("--environment=") {
                if argument == "--environment" {
                    guard let value = rest.popFirst() else { throw UsageError(description: "--environment needs a value: NAME=ENV") }
                    environments.append(value)
                } else {
                    environments.append(String(argument.dropFirst("--environment=".count)))
                }
            } else if let option = ["--project", "--time-zone", "--name", "--source", "--grace", "--secret", "--incident-label"].first(where: {
                argument == $0 || argument.hasPrefix($0 + "=")
            }) {
                if argument == option {
                    guard let value = rest.popFirst() else { throw UsageError(description: "\(option) needs a value") }
                    values[option] = value
                } else {
                    values[option] = String(argument.dropFirst(option.count + 1))
                }
            } else if argument.hasPrefix("--") {
                guard ["--json", "--purge", "--help", "--no-project"].contains(argument) else {
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
        let project = values["--project"]
        let timeZone = values["--time-zone"]
        let isCreate = command == "connections" && words.first == "create"
        let isUpdate = command == "connections" && words.first == "update"
        for option in ["--project", "--time-zone"] where values[option] != nil && !isCreate && !isUpdate {
            throw UsageError(description: "\(option) goes with connections create or connections update")
        }
        if (values["--name"] != nil || flag("--no-project")) && !isUpdate {
            throw UsageError(description: "\(values["--name"] != nil ? "--name" : "--no-project") goes with connections update")
        }
        if values["--source"] != nil && !isCreate { throw UsageError(description: "--source goes with connections create") }
        if (values["--grace"] != nil || values["--secret"] != nil) && !(command == "connections" && words.first == "rotate-secret") {
            throw UsageError(description: "\(values["--grace"] != nil ? "--grace" : "--secret") goes with connections rotate-secret")
        }
        let options = try sourceOptions(environments, incidentLabel: values["--incident-label"])
        if !options.isEmpty && !isUpdate && !(isCreate && values["--source"] != nil) {
            throw UsageError(description: """
                \(environments.isEmpty ? "--incident-label" : "--environment") goes with connections create --source \
                or connections update (a source connection's options; a DevLake connection has none)
                """)
        }
        if project != nil && flag("--no-project") {
            throw UsageError(description: "--project and --no-project contradict each other")
        }
        switch command {
        case "serve" where words.isEmpty: return .serve
        case "migrate" where words.isEmpty: return .migrate
        case "healthcheck" where words.isEmpty: return .healthcheck
        case "connections":
            guard !words.isEmpty else {
                throw UsageError(description: "connections needs a subcommand: create, update, list, delete, rotate-key, rotate-secret")
            }
            let sub = words.removeFirst()
            switch (sub, words.count) {
            case ("create", 1) where values["--source"] != nil:
                guard let source = SourceKind(rawValue: values["--source"]!.lowercased()), source != .devlake else {
                    throw UsageError(description: "--source must be github, gitlab, pagerduty or cdevents (no --source: a DevLake connection)")
                }
                if timeZone != nil { throw UsageError(description: "--time-zone goes with DevLake connections, not --source") }
                if values["--incident-label"] != nil && source != .github {
                    throw UsageError(description: "--incident-label goes with --source github: a \(source.rawValue) event says itself whether it is an incident")
                }
                return .sourceConnectionCreate(name: words[0], project: project, source: source, json: flag("--json"), options: options)
            case ("rotate-secret", 1):
                var grace = SourceGrace.defaultSeconds
                if let text = values["--grace"] {
                    guard let seconds = SourceGrace.seconds(text) else {
                        throw UsageError(description: "--grace must be a duration such as 24h, 30m, 90s or 2d")
                    }
                    grace = seconds
                }
                return .connectionsRotateSecret(reference(words[0]), graceSeconds: grace, json: flag("--json"), secret: values["--secret"])
            case ("create", 1):
                return .connectionsCreate(name: words[0], project: project, timeZone: timeZone, json: flag("--json"))
            case ("update", 1):
                let projectChange: String?? = flag("--no-project") ? .some(nil) : project.map { .some($0) }
                guard values["--name"] != nil || projectChange != nil || timeZone != nil || !options.isEmpty else {
                    throw UsageError(
                        description: "connections update needs --name, --project, --no-project, --time-zone, --environment or --incident-label")
                }
                return .connectionsUpdate(
                    reference(words[0]), name: values["--name"], project: projectChange, timeZone: timeZone, json: flag("--json"),
                    options: options)
            case ("list", 0): return .connectionsList(json: flag("--json"))
            case ("delete", 1): return .connectionsDelete(reference(words[0]), purge: flag("--purge"))
            case ("rotate-key", 1): return .connectionsRotateKey(reference(words[0]), json: flag("--json"))
            default:
                throw UsageError(description: """
                    usage: lakehook connections create NAME [--project P] [--time-zone Z] | update ID|NAME [--name N] \
                    [--project P | --no-project] [--time-zone Z] [--environment NAME=ENV]... [--incident-label L] | list \
                    | delete ID|NAME [--purge] | rotate-key ID|NAME | create NAME --source github|gitlab|pagerduty|cdevents \
                    [--project P] [--environment NAME=ENV]... [--incident-label L] | rotate-secret ID|NAME [--grace 24h] [--secret S]
                    """)
            }
        default:
            throw UsageError(description: "unknown command \"\(([command] + words).joined(separator: " "))\"")
        }
    }

    /// A whole number names a connection by id, anything else by name.
    static func reference(_ word: String) -> DevLakeConnectionReference {
        DevLakeConnectionReference.parseId(word) ?? .name(word)
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
              lakehook connections create NAME [--project P] [--time-zone Z] [--json]
                                                          create a connection; prints its API key once.
                                                          --time-zone: the IANA zone (Europe/Berlin) of the
                                                          dates it posts without an offset (default UTC)
              lakehook connections create NAME --source github|gitlab|pagerduty|cdevents [--project P]
                                    [--environment NAME=ENV]... [--incident-label L] [--json]
                                                          a connection for a tool's own signed webhooks; prints
                                                          its signing secret once and where to paste it.
                                                          --environment: a deployment environment name of the
                                                          tool's and its DevLake environment (PRODUCTION,
                                                          STAGING, TESTING, DEVELOPMENT), repeatable; NAME=
                                                          (in update) forgets the name. --incident-label
                                                          (github): the label that makes an issue an
                                                          incident (default incident)
              lakehook connections rotate-secret ID|NAME [--grace 24h] [--secret S] [--json]
                                                          a new signing secret; the old one is accepted until
                                                          the grace ends. --secret: the tool's own (PagerDuty)
              lakehook connections update ID|NAME [--name N] [--project P | --no-project] [--time-zone Z]
                                    [--environment NAME=ENV]... [--incident-label L] [--json]
                                                          rename it, change its project or time zone, or a
                                                          source connection's options (as create --source)
              lakehook connections list [--json]          list connections (never their keys)
              lakehook connections delete ID|NAME [--purge]
                                                          delete a connection (--purge: and every row it wrote)
              lakehook connections rotate-key ID|NAME [--json]
                                                          give a connection a new key; the old one stops working
            \(DoraCommand.usage)
            \(EventsCommand.usage)
            \(ReplayCommand.usage)
            \(ImportCommand.usage)
            \(ExportCommand.usage)
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

    /// Runs `command`; a failure is thrown as what a person should read (`CommandFailure`).
    public func run(_ command: LakehookCommand) throws {
        do {
            try runCommand(command)
        } catch {
            throw CommandFailure.from(error, environment: ProcessInfo.processInfo.environment)
        }
    }

    private func runCommand(_ command: LakehookCommand) throws {
        let pool = PostgresPool(config: configuration.database, size: 1)
        defer { pool.close() }
        let store = DevLakeConnectionStore(pool: pool)
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
        case .connectionsCreate(let name, let project, let timeZone, let json):
            try pool.withConnection { db in _ = try Migrator.migrate(db) }
            let (webhook, key) = try store.create(name: name, project: project, timeZone: timeZone)
            show(webhook, key: key, json: json, verb: "created")
        case .connectionsUpdate(let reference, let name, let project, let timeZone, let json, let options):
            let webhook = try store.update(reference, name: name, project: project, timeZone: timeZone, options: options)
            if json {
                output(describe(webhook, key: nil).serialized())
            } else {
                output("""
                    updated connection \(webhook.id) "\(webhook.name)": project \(webhook.projectName ?? "-"), \
                    time zone \(webhook.timeZone)\(Self.optionsSummary(webhook))
                    """)
            }
        case .connectionsRotateKey(let reference, let json):
            let (webhook, key) = try store.rotateKey(reference)
            show(webhook, key: key, json: json, verb: "new key for")
        case .sourceConnectionCreate(let name, let project, let source, let json, let options):
            try pool.withConnection { db in _ = try Migrator.migrate(db) }
            let (webhook, _) = try store.create(name: name, project: project, source: source, options: options)
            showSource(webhook, json: json, verb: "created \(source.rawValue)")
        case .connectionsRotateSecret(let reference, let grace, let json, let secret):
            let webhook = try store.rotateSecret(reference, graceSeconds: grace, secret: secret)
            showSource(webhook, json: json, verb: "new signing secret for")
            if !json {
                output(grace > 0
                    ? "The previous secret is still accepted for \(grace) s: update the tool's settings before then."
                    : "The previous secret no longer works.")
            }
        case .connectionsList(let json):
            let webhooks = try store.list()
            if json {
                output(JSONValue.array(webhooks.map { describe($0, key: nil) }).serialized())
            } else if webhooks.isEmpty {
                output("no connections; create one with: lakehook connections create NAME")
            } else {
                output("ID\tNAME\tPROJECT\tTIME ZONE\tKEY\tSOURCE")
                for c in webhooks {
                    let key = c.source == .devlake ? "\(c.apiKeyHint)…" : "-"
                    output("\(c.id)\t\(c.name)\t\(c.projectName ?? "-")\t\(c.timeZone)\t\(key)\t\(c.source.rawValue)")
                }
            }
        case .dora(let dora):
            try dora.run(configuration: configuration, output: output)
        case .events(let events):
            try events.run(configuration: configuration, output: output)
        case .replay(let replay):
            try replay.run(configuration: configuration, output: output)
        case .importEvents(let importing):
            try importing.run(configuration: configuration, output: output)
        case .export(let export):
            try export.run(configuration: configuration, output: output)
        case .connectionsDelete(let reference, let purge):
            let deleted = try store.delete(reference, purge: purge)
            output("deleted connection \(deleted.id) \"\(deleted.name)\"\(purge ? " and every row it wrote" : "")")
        }
    }

    func describe(_ webhook: DevLakeConnection, key: APIKey?) -> JSONValue {
        Endpoints.describe(webhook, publicURL: configuration.publicURL, key: key)
    }

    /// A source connection with its signing secret: the one time it is shown.
    func showSource(_ webhook: DevLakeConnection, json: Bool, verb: String) {
        if json {
            output(Endpoints.describe(webhook, publicURL: configuration.publicURL, key: nil, secret: true).serialized())
            return
        }
        output("""
            \(verb) connection \(webhook.id) "\(webhook.name)"
            Signing secret (shown this once; store it now): \(webhook.signingSecret ?? "")
            Webhook URL: \(Endpoints.sourceURL(webhook, publicURL: configuration.publicURL))\(Self.optionsLine(webhook))

            \(Endpoints.sourceInstructions(webhook, publicURL: configuration.publicURL).joined(separator: "\n"))
            """)
    }

    func show(_ webhook: DevLakeConnection, key: APIKey, json: Bool, verb: String) {
        if json {
            output(describe(webhook, key: key).serialized())
            return
        }
        let endpoints = Endpoints(publicURL: configuration.publicURL, webhook: webhook)
        let width = endpoints.all.map(\.name.count).max() ?? 0
        let zone = webhook.timeZone == .utc
            ? "UTC (for a client that sends local times: lakehook connections update \(webhook.id) --time-zone Europe/Berlin)"
            : webhook.timeZone.identifier
        output("""
            \(verb) connection \(webhook.id) "\(webhook.name)"
            API key (shown this once; store it now): \(key.plaintext)
            Dates without an offset are read in: \(zone)

            Endpoints:
            \(endpoints.all.map { "  \($0.name.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.url)" }.joined(separator: "\n"))

            Try it: paste these lines into a shell (bash or zsh); each write answers {"success":true,...}.
            They can be pasted again: each paste makes a new pipeline.
            \(endpoints.sampleCalls(key: key.plaintext).map { "  " + $0 }.joined(separator: "\n"))
            """)
    }
}
