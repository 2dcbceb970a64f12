import Foundation
import Postgres

/// `lakehook dora ...`: the DORA report in the terminal, and the per-project settings.
///
///     lakehook dora [--project P] [--from DATE] [--to DATE] [--json]
///     lakehook dora settings [--project P] [--json]
///     lakehook dora settings --project P --incident-window DURATION|default
///
/// `LakehookCommand` hands it every argument after `dora`.
public struct DoraCommand: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case report(project: String?, from: String?, to: String?, json: Bool)
        case showSettings(project: String?, json: Bool)
        /// nil seconds: back to the default.
        case setIncidentWindow(project: String, seconds: Double?)
        case help
    }

    public var action: Action

    public init(action: Action) { self.action = action }

    public static let usage = """
          lakehook dora [--project P] [--from DATE] [--to DATE] [--json]
                                                      the four DORA metrics of a project, or of each
                                                      (default window: the last 30 days; a date is UTC midnight;
                                                      at most 731 days, LAKEHOOK_DORA_MAX_WINDOW_DAYS)
          lakehook dora settings [--project P] [--json]
                                                      the projects' settings (incident window)
          lakehook dora settings --project P --incident-window DURATION|default
                                                      how long after a deployment an incident is blamed on it
                                                      (7d, 36h, 2w, 90m; default: 7 days)
        """

    typealias UsageError = LakehookCommand.UsageError

    /// Reads the arguments after `dora`. Every option takes `--name value` or `--name=value`.
    public static func parse(_ arguments: [String]) throws -> DoraCommand {
        var words: [String] = []
        var values: [String: String] = [:]
        var json = false
        var rest = arguments[...]
        let valued = ["--project", "--from", "--to", "--incident-window"]
        while let argument = rest.popFirst() {
            if argument == "--json" {
                json = true
            } else if argument == "--help" || argument == "-h" {
                return DoraCommand(action: .help)
            } else if let (name, value) = try optionValue(argument, among: valued, rest: &rest) {
                guard values[name] == nil else { throw UsageError(description: "\(name) is given twice") }
                values[name] = value
            } else if argument.hasPrefix("-") {
                throw UsageError(description: "unknown option \(argument) for dora")
            } else {
                words.append(argument)
            }
        }
        let project = values["--project"]
        if let project, let problem = DevLakeConnectionStore.validateProject(project) {
            throw UsageError(description: problem)
        }
        switch words {
        case []:
            if values["--incident-window"] != nil {
                throw UsageError(description: "--incident-window goes with dora settings")
            }
            do {
                _ = try DoraWindow.resolve(from: values["--from"], to: values["--to"])
            } catch {
                throw UsageError(description: error.description)
            }
            return DoraCommand(action: .report(project: project, from: values["--from"], to: values["--to"], json: json))
        case ["settings"]:
            if values["--from"] != nil || values["--to"] != nil {
                throw UsageError(description: "--from and --to go with dora, not dora settings")
            }
            guard let text = values["--incident-window"] else {
                return DoraCommand(action: .showSettings(project: project, json: json))
            }
            guard let project else { throw UsageError(description: "--incident-window needs --project P") }
            if text == "default" { return DoraCommand(action: .setIncidentWindow(project: project, seconds: nil)) }
            guard let seconds = parseDuration(text) else {
                throw UsageError(description: "--incident-window \(text): not a duration (e.g. 7d, 36h, 2w, 90m, or default)")
            }
            return DoraCommand(action: .setIncidentWindow(project: project, seconds: seconds))
        default:
            throw UsageError(description: "usage:\n" + usage)
        }
    }

    /// `7d`, `7 days`, `36h`, `2w`, `90m`, `90min`; a bare number is days. Positive, at most 10 years.
    static func parseDuration(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, let amount = Double(digits), amount > 0 else { return nil }
        let seconds: Double
        switch unit {
        case "", "d", "day", "days": seconds = amount * 86_400
        case "h", "hour", "hours": seconds = amount * 3_600
        case "w", "week", "weeks": seconds = amount * 7 * 86_400
        case "m", "min", "mins", "minute", "minutes": seconds = amount * 60
        default: return nil
        }
        return seconds <= 3_650 * 86_400 ? seconds.rounded() : nil
    }

    /// Runs against the database of `configuration` (migrating it first, as `serve` does).
    public func run(configuration: Configuration, output: (String) -> Void) throws {
        if case .help = action {
            output("Usage:\n" + Self.usage + "\n")
            return
        }
        // The window's length is checked before any connection is made (the cap is configuration).
        var window: DoraWindow?
        if case .report(_, let from, let to, _) = action {
            do {
                window = try DoraWindow.resolve(from: from, to: to, maxDays: configuration.doraMaxWindowDays)
            } catch {
                throw DoraCommandError(description: error.description)
            }
        }
        let pool = PostgresPool(config: configuration.database, size: 1)
        defer { pool.close() }
        try pool.withConnection { db in _ = try Migrator.migrate(db) }
        let store = DoraStore(pool: pool)
        switch action {
        case .help:
            return
        case .report(let project, _, _, let json):
            guard let window else { return }
            let reports: [DoraReport]
            if let project {
                try Self.requireProject(project, in: store)
                reports = [try store.report(project: project, window: window)]
            } else {
                reports = try store.reports(window: window)
            }
            if json {
                output((project == nil ? JSONValue.array(reports.map(\.json)) : reports[0].json).serialized())
            } else if reports.isEmpty {
                output("no projects yet: create a connection with lakehook connections create NAME [--project P]")
            } else {
                let windows = try Dictionary(uniqueKeysWithValues: reports.map {
                    ($0.project, try store.incidentWindowSeconds(project: $0.project))
                })
                output(reports.map { DoraTable.render($0, incidentWindowSeconds: windows[$0.project]) }.joined(separator: "\n"))
            }
        case .showSettings(let project, let json):
            var settings = try store.settings()
            if let project {
                settings = settings.filter { $0.project == project }
                if settings.isEmpty {
                    settings = [DoraStore.Setting(
                        project: project, incidentWindowSeconds: try store.incidentWindowSeconds(project: project), isSet: false)]
                }
            }
            if json {
                output(JSONValue.array(settings.map { setting in
                    .object(JSONObject(members: [
                        (key: "project", value: .string(setting.project)),
                        (key: "incidentWindowSeconds", value: .double(setting.incidentWindowSeconds)),
                        (key: "default", value: .bool(!setting.isSet)),
                    ]))
                }).serialized())
            } else if settings.isEmpty {
                output("no projects yet")
            } else {
                output("PROJECT\tINCIDENT WINDOW")
                for setting in settings {
                    output("\(setting.project)\t\(DoraFormat.interval(seconds: setting.incidentWindowSeconds))\(setting.isSet ? "" : " (default)")")
                }
            }
        case .setIncidentWindow(let project, let seconds):
            try store.setIncidentWindow(project: project, seconds: seconds)
            let effective = try store.incidentWindowSeconds(project: project)
            let known = try store.projects().contains(project)
            output("incident window of \"\(project)\": \(DoraFormat.interval(seconds: effective))\(seconds == nil ? " (default)" : "")"
                + (known ? "" : "\nnote: no connection belongs to \"\(project)\" yet"))
        }
    }

    /// A project named on the command line must exist: a typo should not read as "no deployments".
    static func requireProject(_ project: String, in store: DoraStore) throws {
        let projects = try store.projects()
        guard projects.contains(project) else {
            let listed = projects.prefix(10).joined(separator: ", ")
                + (projects.count > 10 ? ", … (\(projects.count) in all: lakehook dora settings lists them)" : "")
            throw DoraCommandError(description: "unknown project \"\(project)\"; "
                + (projects.isEmpty ? "there are no projects yet" : "projects: " + listed))
        }
    }
}

/// A `dora` command that cannot be carried out (exit status 1).
public struct DoraCommandError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// The four metrics of one report as a table for the terminal.
enum DoraTable {
    static func render(_ report: DoraReport, incidentWindowSeconds: Double?) -> String {
        var lines = ["Project \(report.project): \(DoraPage.windowText(report.window))"
            + (incidentWindowSeconds.map { ", incident window \(DoraFormat.interval(seconds: $0))" } ?? "")]
        let rows = [("METRIC", "VALUE", "LEVEL", "BASED ON")] + report.metrics.map { metric in
            (metric.kind?.title ?? metric.metric, metric.displayValue, metric.level?.rawValue ?? "-", metric.basis)
        }
        let widths = (
            rows.map(\.0.count).max() ?? 0, rows.map(\.1.count).max() ?? 0, rows.map(\.2.count).max() ?? 0
        )
        for row in rows {
            lines.append([
                row.0.padding(toLength: widths.0, withPad: " ", startingAt: 0),
                row.1.padding(toLength: widths.1, withPad: " ", startingAt: 0),
                row.2.padding(toLength: widths.2, withPad: " ", startingAt: 0),
                row.3,
            ].joined(separator: "  "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
