import CEpoll
import Dispatch
import Concurrency

/// The request-body bytes all connections may hold at once (`ServerLimits.maxBufferedBodyBytes`).
/// A connection reserves a body's size before reading it and returns the reservation once its
/// request is answered or the connection closes.
final class BodyBudget: Sendable {
    private struct State {
        var reserved = 0
        /// The most reserved since memory was last handed back to the system.
        var peakSinceTrim = 0
    }

    /// Once this much was held and everything is returned, free heap pages go back to the system.
    static let trimAfter = 16 * 1024 * 1024

    private let limit: Int
    private let state = Locked(State())
    private let trimQueue = DispatchQueue(label: "lakehook.http.malloc-trim")

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Reserves `bytes`; false (nothing reserved) when that would pass the limit.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        return state.withLock { state in
            guard bytes <= limit - state.reserved else { return false }
            state.reserved += bytes
            state.peakSinceTrim = max(state.peakSinceTrim, state.reserved)
            return true
        }
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        let trim = state.withLock { state in
            state.reserved -= bytes
            guard state.reserved == 0, state.peakSinceTrim >= Self.trimAfter else { return false }
            state.peakSinceTrim = 0
            return true
        }
        // Bodies of up to 1 MiB are allocated by appending, and glibc raises its mmap threshold
        // as such blocks are freed, so after a burst most of them sit in malloc's heaps, freed but
        // resident: malloc_trim hands those pages back (BodyMemoryTests checks RSS returns). It runs off the loops, only when every body of a burst of at least 16 MiB
        // is gone, so at most once per burst.
        if trim {
            trimQueue.async { _ = malloc_trim(0) }
        }
    }

    var reservedBytes: Int { state.withLock { $0.reserved } }
}
