/// The DORA gauges of `/metrics`: the last snapshot `DoraMetricsRefresher` computed, rendered as
/// it is. A scrape never runs a query; it shows what the last refresh found.
///
/// Each metric is a gauge per project (`project` label) in base units, with a sibling
/// `..._level` gauge (4 elite, 3 high, 2 medium, 1 low) so that alerts compare numbers. A metric
/// that `dora_report` leaves NULL (an empty denominator) is omitted, never shown as 0.
public enum DoraGauge: String, Sendable, CaseIterable {
    case deploymentFrequency = "lakehook_dora_deployment_frequency"
    case leadTime = "lakehook_dora_lead_time_seconds"
    case changeFailure = "lakehook_dora_change_failure_ratio"
    case recoveryTime = "lakehook_dora_recovery_time_seconds"

    /// The `dora_report` row it shows.
    public var kind: DoraMetric.Kind {
        switch self {
        case .deploymentFrequency: .deploymentFrequency
        case .leadTime: .leadTimeForChanges
        case .changeFailure: .changeFailureRate
        case .recoveryTime: .failedDeploymentRecoveryTime
        }
    }

    public var levelName: String {
        switch self {
        case .deploymentFrequency: "lakehook_dora_deployment_frequency_level"
        case .leadTime: "lakehook_dora_lead_time_level"
        case .changeFailure: "lakehook_dora_change_failure_level"
        case .recoveryTime: "lakehook_dora_recovery_time_level"
        }
    }

    static let window = "over the 30 days up to the last refresh (UTC; lakehook_dora_last_refresh_timestamp_seconds), by project, as dora_report computes it"

    var help: String {
        switch self {
        case .deploymentFrequency: "DORA deployment frequency: median days with a successful production deployment per ISO week, \(Self.window)."
        case .leadTime: "DORA lead time for changes: median seconds from a change's start to its first production deployment, \(Self.window)."
        case .changeFailure: "DORA change failure rate: production deployments that failed or caused an incident / production deployments (0-1), \(Self.window)."
        case .recoveryTime: "DORA failed deployment recovery time: median seconds to recover from a failed deployment, \(Self.window)."
        }
    }

    /// The factor from `dora_report`'s unit to this gauge's; nil for a unit it does not know
    /// (then the figure is left out rather than shown wrong).
    func factor(fromUnit unit: String) -> Double? {
        switch (self, unit) {
        case (.deploymentFrequency, "days/week"): 1
        case (.changeFailure, "ratio"): 1
        case (.changeFailure, "percent"), (.changeFailure, "%"): 0.01
        case (.leadTime, "seconds"), (.recoveryTime, "seconds"): 1
        case (.leadTime, "minutes"), (.recoveryTime, "minutes"): 60
        case (.leadTime, "hours"), (.recoveryTime, "hours"): 3600
        case (.leadTime, "days"), (.recoveryTime, "days"): 86_400
        default: nil
        }
    }

    /// 4 elite, 3 high, 2 medium, 1 low.
    static func number(of level: DoraMetric.Level) -> Int {
        switch level {
        case .elite: 4
        case .high: 3
        case .medium: 2
        case .low: 1
        }
    }
}

/// One refresh's figures, ready to render.
public struct DoraGaugeSnapshot: Sendable, Equatable {
    public struct Project: Sendable, Equatable {
        public var name: String
        /// Base units; a metric `dora_report` left NULL is absent.
        public var values: [DoraGauge: Double] = [:]
        public var levels: [DoraGauge: Int] = [:]
        /// The end of its last successful production deployment, seconds since the epoch.
        public var lastDeployment: Double?
    }

    /// The window's end: the refresh's start, in whole seconds (the window is the 30 days before).
    public var window: DoraWindow
    public var projects: [Project]
    /// Projects left out by LAKEHOOK_DORA_PROJECTS_MAX.
    public var omitted: Int
    /// How long the refresh took.
    public var seconds: Double
}

extension Metrics {
    struct DoraState {
        var snapshot: DoraGaugeSnapshot?
        var errors: UInt64 = 0
    }

    /// The last refresh's figures, shown by every scrape until the next refresh.
    public func publishDora(_ snapshot: DoraGaugeSnapshot) {
        dora.withLock { $0.snapshot = snapshot }
    }

    /// A refresh, or one project's report, that failed.
    public func recordDoraError() {
        dora.withLock { $0.errors += 1 }
    }

    /// The snapshot the next scrape shows.
    public var doraSnapshot: DoraGaugeSnapshot? { dora.withLock { $0.snapshot } }

    static func renderDora(_ state: DoraState, into out: inout String) {
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        let projects = state.snapshot?.projects ?? []
        for gauge in DoraGauge.allCases {
            family(gauge.rawValue, "gauge", gauge.help)
            for project in projects {
                if let value = project.values[gauge], value.isFinite {
                    out += "\(gauge.rawValue){project=\"\(escape(project.name))\"} \(value)\n"
                }
            }
            family(gauge.levelName, "gauge", "Level of \(gauge.rawValue): 4 elite, 3 high, 2 medium, 1 low (absent when the metric has no data).")
            for project in projects {
                if let level = project.levels[gauge] {
                    out += "\(gauge.levelName){project=\"\(escape(project.name))\"} \(level)\n"
                }
            }
        }
        family("lakehook_dora_last_deployment_timestamp_seconds", "gauge", "End of the project's last successful production deployment before the last refresh (any time, not only in the 30-day window), seconds since the epoch; absent when it never deployed.")
        for project in projects {
            if let last = project.lastDeployment, last.isFinite {
                out += "lakehook_dora_last_deployment_timestamp_seconds{project=\"\(escape(project.name))\"} \(last)\n"
            }
        }
        family("lakehook_dora_projects", "gauge", "Projects the DORA gauges cover (the first LAKEHOOK_DORA_PROJECTS_MAX in name order).")
        family("lakehook_dora_projects_omitted", "gauge", "Projects left out of the DORA gauges by LAKEHOOK_DORA_PROJECTS_MAX.")
        family("lakehook_dora_last_refresh_timestamp_seconds", "gauge", "End of the DORA gauges' 30-day window: when their last refresh started, seconds since the epoch.")
        family("lakehook_dora_refresh_duration_seconds", "gauge", "How long the last refresh of the DORA gauges took.")
        if let snapshot = state.snapshot {
            out += "lakehook_dora_projects \(snapshot.projects.count)\n"
            out += "lakehook_dora_projects_omitted \(snapshot.omitted)\n"
            out += "lakehook_dora_last_refresh_timestamp_seconds \(snapshot.window.to.microsecondsSinceEpoch / 1_000_000)\n"
            out += "lakehook_dora_refresh_duration_seconds \(snapshot.seconds)\n"
        }
        family("lakehook_dora_refresh_errors_total", "counter", "DORA gauge refreshes that failed (the previous figures stay), and project reports that failed (that project left out).")
        out += "lakehook_dora_refresh_errors_total \(state.errors)\n"
    }
}
