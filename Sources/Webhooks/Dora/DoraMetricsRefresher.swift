import Dispatch
import Foundation
import Concurrency
import Postgres

/// Computes the DORA gauges of `/metrics` in the background: every `interval`, each project's
/// `dora_report` over the 30 days up to now (UTC, `dora_report`'s default window), published to
/// `Metrics` as one snapshot. A scrape only reads the last snapshot, never the database.
///
/// At most `maxProjects` projects, the first in name order; the others are counted in
/// `lakehook_dora_projects_omitted` and logged (when their number changes). One statement per
/// project, each on a pool connection taken for it alone, so a refresh never holds a connection
/// for long nor runs into `statement_timeout` because of the number of projects. A project whose
/// report fails is left out of that snapshot; a refresh that cannot run at all (no database)
/// keeps the previous snapshot. Both count in `lakehook_dora_refresh_errors_total`.
///
/// Runs on a thread of its own (never the global queue: its threads are shared and were starved
/// in CI). Every instance on a database computes its own snapshot; they agree but for when.
public final class DoraMetricsRefresher: Sendable {
    public static let defaultIntervalSeconds = 60
    public static let defaultMaxProjects = 100

    private let store: DoraStore
    private let metrics: Metrics
    private let log: RequestLog
    private let interval: Duration
    private let maxProjects: Int

    private enum Phase { case idle, running, stopped }
    private struct State {
        var phase = Phase.idle
        var threadStarted = false
        var threadEnded = false
        /// Refreshes done (tests wait on it).
        var refreshes = 0
        /// The omitted count last logged, so the log says it when it changes, not every refresh.
        var loggedOmitted = 0
    }
    private let state = Locked(State())
    /// Signalled by `stop()`: the thread stops waiting for the next refresh.
    private let wake = DispatchSemaphore(value: 0)
    /// Signalled by the thread when it has ended.
    private let ended = DispatchSemaphore(value: 0)

    public init(store: DoraStore, metrics: Metrics, log: RequestLog, interval: Duration, maxProjects: Int) {
        self.store = store
        self.metrics = metrics
        self.log = log
        self.interval = interval
        self.maxProjects = maxProjects
    }

    /// Refreshes done so far.
    public var refreshes: Int { state.withLock { $0.refreshes } }

    /// Starts the thread: a refresh now, then one every `interval`. Once only; after `stop()`, nothing.
    public func start() {
        let starting = state.withLock { state in
            guard state.phase == .idle else { return false }
            state.phase = .running
            state.threadStarted = true
            return true
        }
        guard starting else { return }
        let thread = Thread { [self] in
            while isRunning {
                refresh()
                _ = wake.wait(timeout: .now() + .nanoseconds(Int(interval / .nanoseconds(1))))
            }
            state.withLock { $0.threadEnded = true }
            ended.signal()
        }
        thread.name = "lakehook.dora-metrics"
        thread.start()
    }

    private var isRunning: Bool { state.withLock { $0.phase == .running } }

    /// No refresh starts after this; one under way ends at its next project. Does not wait.
    public func beginStopping() {
        let wasRunning = state.withLock { state in
            defer { state.phase = .stopped }
            return state.phase == .running
        }
        if wasRunning { wake.signal() }
    }

    /// Stops the refreshes and waits up to `deadline` for the thread to end (a refresh under way
    /// ends after its current project's statement). Returns whether it has ended (true also when
    /// it never started). May be called again.
    @discardableResult
    public func stop(deadline: Duration = .seconds(5)) -> Bool {
        beginStopping()
        let waiting = state.withLock { $0.threadStarted && !$0.threadEnded }
        guard waiting else { return true }
        let stopped = ended.wait(timeout: .now() + .nanoseconds(Int(deadline / .nanoseconds(1)))) == .success
        if stopped {
            ended.signal()  // for a later call
        } else {
            log.log(.warn, "dora metrics refresh still running at shutdown", [("deadline_seconds", .number(String(deadline.components.seconds)))])
        }
        return stopped
    }

    /// One refresh: the projects, each one's report, one snapshot.
    func refresh() {
        let started = ContinuousClock.now
        // Whole seconds, so that the window is exactly reproducible from the gauge of its end.
        let now = Timestamp(microsecondsSinceEpoch: Timestamp.now().microsecondsSinceEpoch / 1_000_000 * 1_000_000)
        let window = DoraWindow(
            from: Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - DoraWindow.defaultDays * DoraWindow.microsecondsPerDay),
            to: now)
        let listed: (projects: [String], total: Int)
        do {
            listed = try store.gaugeProjects(limit: maxProjects)
        } catch {
            metrics.recordDoraError()
            log.log(.warn, "dora metrics refresh failed; the previous figures stay", [("error", .string(String(describing: error)))])
            finishRefresh()
            return
        }
        var projects: [DoraGaugeSnapshot.Project] = []
        for name in listed.projects where isRunning {
            do {
                let (report, lastDeployment) = try store.gaugeReport(project: name, window: window)
                projects.append(project(name, report, lastDeployment))
            } catch let error as PostgresError where error.isUnavailable {
                metrics.recordDoraError()
                log.log(.warn, "dora metrics refresh failed; the previous figures stay", [("error", .string(error.description))])
                finishRefresh()
                return
            } catch {
                metrics.recordDoraError()
                log.log(.warn, "dora metrics: a project's report failed; it is left out until the next refresh", [
                    ("project", .string(name)), ("error", .string(String(describing: error))),
                ])
            }
        }
        // Stopped half way: the partial figures are not published.
        guard isRunning else {
            finishRefresh()
            return
        }
        let omitted = max(0, listed.total - listed.projects.count)
        let logOmitted = state.withLock { state in
            defer { state.loggedOmitted = omitted }
            return state.loggedOmitted != omitted
        }
        if logOmitted {
            log.log(omitted > 0 ? .warn : .info, omitted > 0
                ? "dora metrics capped: projects past LAKEHOOK_DORA_PROJECTS_MAX are left out of /metrics"
                : "dora metrics no longer capped", [
                ("projects", .number(String(listed.total))), ("shown", .number(String(listed.projects.count))),
                ("omitted", .number(String(omitted))), ("max", .number(String(maxProjects))),
            ])
        }
        let seconds = Double((ContinuousClock.now - started) / .microseconds(1)) / 1_000_000
        metrics.publishDora(DoraGaugeSnapshot(window: window, projects: projects, omitted: omitted, seconds: seconds))
        finishRefresh()
    }

    private func finishRefresh() {
        state.withLock { $0.refreshes += 1 }
    }

    /// A report's figures in the gauges' units; a NULL value, or a unit the gauge does not know
    /// (logged), is left out.
    private func project(_ name: String, _ report: DoraReport, _ lastDeployment: Double?) -> DoraGaugeSnapshot.Project {
        var project = DoraGaugeSnapshot.Project(name: name, lastDeployment: lastDeployment)
        for gauge in DoraGauge.allCases {
            guard let metric = report[gauge.kind], let value = metric.value else { continue }
            guard let factor = gauge.factor(fromUnit: metric.unit) else {
                log.log(.warn, "dora metrics: unknown unit, figure left out", [
                    ("metric", .string(metric.metric)), ("unit", .string(metric.unit)),
                ])
                continue
            }
            project.values[gauge] = value * factor
            if let level = metric.level { project.levels[gauge] = DoraGauge.number(of: level) }
        }
        return project
    }
}
