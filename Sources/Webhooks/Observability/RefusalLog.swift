import Concurrency
import HTTP

/// Logs and counts what the HTTP layer refuses by itself (`HTTPServer`'s `onRefusal`): every
/// refusal is counted in `lakehook_http_refusals_total{reason}`, but at most `linesPerSecond`
/// log lines are written per reason and second, so a flood of bad connections cannot flood the
/// log; the first refusal of a later second writes one line saying how many were left out.
public final class RefusalLog: Sendable {
    /// Lines per reason and second before the rest are only counted.
    public static let linesPerSecond = 10

    private struct Window {
        var second: Int64 = .min
        var written = 0
        var suppressed = 0
    }

    private let log: RequestLog
    private let metrics: Metrics
    private let linesPerSecond: Int
    /// Monotonic whole seconds; a parameter so tests can move time.
    private let clock: @Sendable () -> Int64
    private let windows = Locked<[HTTPRefusal.Reason: Window]>([:])

    public init(
        log: RequestLog, metrics: Metrics, linesPerSecond: Int = RefusalLog.linesPerSecond,
        clock: @escaping @Sendable () -> Int64 = RefusalLog.monotonicSeconds
    ) {
        self.log = log
        self.metrics = metrics
        self.linesPerSecond = linesPerSecond
        self.clock = clock
    }

    /// The observer to give `HTTPServer`.
    /// Whole seconds since the process's first use of this clock.
    public static let monotonicSeconds: @Sendable () -> Int64 = { (ContinuousClock.now - origin).components.seconds }
    private static let origin = ContinuousClock.now

    public var observer: HTTPRefusalObserver { { [self] refusal in record(refusal) } }

    public func record(_ refusal: HTTPRefusal) {
        metrics.recordRefusal(refusal.reason)
        guard log.isEnabled(.warn) else { return }
        let now = clock()
        let (write, suppressedBefore): (Bool, Int) = windows.withLock { windows in
            var window = windows[refusal.reason] ?? Window()
            var suppressedBefore = 0
            if window.second != now {
                suppressedBefore = window.suppressed
                window = Window(second: now)
            }
            let write = window.written < linesPerSecond
            if write { window.written += 1 } else { window.suppressed += 1 }
            windows[refusal.reason] = window
            return (write, suppressedBefore)
        }
        let reason = JSONValue.string(refusal.reason.rawValue)
        if suppressedBefore > 0 {
            log.log(.warn, "refusals not logged", [
                ("reason", reason), ("count", .integer(Int64(suppressedBefore))),
                ("limit_per_second", .integer(Int64(linesPerSecond))),
            ])
        }
        guard write else { return }
        log.log(.warn, "refused", [
            ("reason", reason), ("status", refusal.status.map { .integer(Int64($0)) } ?? .null),
            ("client", .string(refusal.remoteAddress)),
        ])
    }
}
