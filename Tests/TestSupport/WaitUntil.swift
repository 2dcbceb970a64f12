import Foundation

/// Polls `condition` every `interval` seconds until it holds, for up to `timeout` seconds (a
/// ceiling for a loaded machine, not an expected duration); throws `TestFailure` if it never
/// does. A condition that throws counts as not yet met.
public func waitUntil(
    timeout: Double = 30, interval: Double = 0.02, _ condition: () throws -> Bool
) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if (try? condition()) == true { return }
        guard Date() < deadline else { throw TestFailure("condition not met within \(timeout) s") }
        usleep(useconds_t(interval * 1_000_000))
    }
}
