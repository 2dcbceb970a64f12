import Foundation
import Postgres

/// Runs `work(index)` on `count` new threads at once (not Dispatch workers, which are capped at
/// the core count) and returns when all have finished.
func onThreads(_ count: Int, _ work: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            work(index)
            group.leave()
        }
        thread.start()
    }
    group.wait()
}

/// Elapsed wall time of `body`, in seconds.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// An error of the test's own, to tell the body's error from the library's.
struct BodyError: Error, Equatable {}
