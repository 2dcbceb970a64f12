import Foundation

/// The four DORA metrics of one project over one window, as `dora_report(project, from, to)`
/// returns them (docs/DORA.md). The CLI's `--json`, `GET /api/dora` and the page all show this.
public struct DoraReport: Sendable, Equatable {
    public var project: String
    public var window: DoraWindow
    /// In DORA.md's order: deployment frequency, lead time, change failure rate, recovery time.
    public var metrics: [DoraMetric]

    public init(project: String, window: DoraWindow, metrics: [DoraMetric]) {
        self.project = project
        self.window = window
        self.metrics = metrics
    }

    public subscript(_ kind: DoraMetric.Kind) -> DoraMetric? {
        metrics.first { $0.kind == kind }
    }

    /// `{"project", "from", "to", "metrics": [{metric, value, unit, level, numerator, denominator, ids}]}`.
    public var json: JSONValue {
        .object(JSONObject(members: [
            (key: "project", value: .string(project)),
            (key: "from", value: .string(window.from.iso8601)),
            (key: "to", value: .string(window.to.iso8601)),
            (key: "metrics", value: .array(metrics.map(\.json))),
        ]))
    }
}

/// One row of `dora_report`.
public struct DoraMetric: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case deploymentFrequency = "deployment_frequency"
        case leadTimeForChanges = "lead_time_for_changes"
        case changeFailureRate = "change_failure_rate"
        case failedDeploymentRecoveryTime = "failed_deployment_recovery_time"

        /// The name a person reads.
        public var title: String {
            switch self {
            case .deploymentFrequency: "Deployment frequency"
            case .leadTimeForChanges: "Lead time for changes"
            case .changeFailureRate: "Change failure rate"
            case .failedDeploymentRecoveryTime: "Failed deployment recovery time"
            }
        }
    }

    public enum Level: String, Sendable, CaseIterable, Comparable {
        case elite, high, medium, low

        public var title: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }

        public static func < (a: Level, b: Level) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// The metric as `dora_report` names it; unknown names are kept as they are.
    public var metric: String
    /// NULL when there is no data (an empty denominator, or no change with a start).
    public var value: Double?
    public var unit: String
    public var level: Level?
    public var numerator: Int64
    public var denominator: Int64
    /// The rows behind the figure (deployment ids, commit shas, or incident and deployment ids), sorted.
    public var ids: [String]

    public init(
        metric: String, value: Double?, unit: String, level: Level?, numerator: Int64, denominator: Int64, ids: [String]
    ) {
        self.metric = metric
        self.value = value
        self.unit = unit
        self.level = level
        self.numerator = numerator
        self.denominator = denominator
        self.ids = ids
    }

    public var kind: Kind? { Kind(rawValue: metric) }

    public var json: JSONValue {
        .object(JSONObject(members: [
            (key: "metric", value: .string(metric)),
            (key: "value", value: value.map(JSONValue.double) ?? .null),
            (key: "unit", value: .string(unit)),
            (key: "level", value: level.map { .string($0.rawValue) } ?? .null),
            (key: "numerator", value: .integer(numerator)),
            (key: "denominator", value: .integer(denominator)),
            (key: "ids", value: .array(ids.map(JSONValue.string))),
        ]))
    }

    /// The value as a person reads it: `2.5 days/week`, `13.5 hours`, `3.2 days`, `12.5 %`, `no data`.
    public var displayValue: String {
        guard let value else { return "no data" }
        switch unit {
        case "hours": return DoraFormat.duration(hours: value)
        case "ratio": return DoraFormat.number(value * 100) + " %"
        default: return DoraFormat.number(value) + " " + unit
        }
    }

    /// What the figure is made of, in words: `9 deployment days in 5 weeks`. Lead time counts the
    /// changes first deployed in the window ("newly deployed"); recovery time the failures the
    /// change failure rate counts: deployments that failed, and incidents a deployment caused.
    public var basis: String {
        switch kind {
        case .deploymentFrequency:
            let deployments = ids.count
            return "\(numerator) deployment \(DoraFormat.plural(numerator, "day")) in \(denominator) "
                + "\(DoraFormat.plural(denominator, "week")) (\(deployments) successful "
                + "\(DoraFormat.plural(Int64(deployments), "deployment")))"
        case .leadTimeForChanges:
            let without = denominator - numerator
            return "\(numerator) of \(denominator) newly deployed \(DoraFormat.plural(denominator, "change")) with a start"
                + (without > 0 ? " (\(without) without)" : "")
        case .changeFailureRate:
            return "\(numerator) of \(denominator) \(DoraFormat.plural(denominator, "deployment")) failed or caused an incident"
        case .failedDeploymentRecoveryTime:
            return "\(numerator) of \(denominator) \(DoraFormat.plural(denominator, "failure")) recovered"
                + " (failed deployments, incidents with a cause)"
        case nil:
            return "\(numerator) / \(denominator)"
        }
    }
}

/// Number and duration formatting for people (the CLI table and the page); never for JSON.
enum DoraFormat {
    /// At most one decimal, none when it is whole: `2`, `2.5`, `0.3`.
    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        if rounded == rounded.rounded() && abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return String(format: "%.1f", rounded)
    }

    /// `45 min`, `13.5 hours`, `3.2 days`.
    static func duration(hours: Double) -> String {
        if abs(hours) < 1 { return number(hours * 60) + " min" }
        if abs(hours) < 48 { return number(hours) + " " + (number(hours) == "1" ? "hour" : "hours") }
        return number(hours / 24) + " days"
    }

    /// A window length in seconds as `7 days`, `36 hours`, `90 minutes`.
    static func interval(seconds: Double) -> String {
        if seconds >= 86_400, seconds.truncatingRemainder(dividingBy: 86_400) == 0 {
            let days = Int64(seconds / 86_400)
            return "\(days) \(plural(days, "day"))"
        }
        if seconds >= 3_600, seconds.truncatingRemainder(dividingBy: 3_600) == 0 {
            let hours = Int64(seconds / 3_600)
            return "\(hours) \(plural(hours, "hour"))"
        }
        if seconds.truncatingRemainder(dividingBy: 60) == 0 {
            let minutes = Int64(seconds / 60)
            return "\(minutes) \(plural(minutes, "minute"))"
        }
        return number(seconds) + " seconds"
    }

    static func plural(_ count: Int64, _ word: String) -> String { count == 1 ? word : word + "s" }
}
