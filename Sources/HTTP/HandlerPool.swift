import Dispatch
import Concurrency

/// Runs handlers, at most `limit` at once, in arrival order beyond that.
///
/// Handlers block (database calls), so each connection hands its requests to its own serial
/// queue: Dispatch gives every such queue a thread of its own when the others are blocked,
/// whereas a custom concurrent queue is held to about one thread per core (the measurement:
/// docs/PERFORMANCE.md, "Resource bounds"). The cap keeps those threads well below Dispatch's
/// own thread limit (about 255 on Linux), so the connection I/O queues always find a thread.
final class HandlerPool: Sendable {
    private struct Job {
        var queue: DispatchQueue
        var work: @Sendable () -> Void
    }

    private struct State {
        var running = 0
        var waiting: [Job] = []
        var nextWaiting = 0
    }

    private let limit: Int
    private let state = Locked(State())

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Runs `work` on `queue` now if fewer than `limit` handlers run, else when one finishes.
    func submit(on queue: DispatchQueue, _ work: @escaping @Sendable () -> Void) {
        let job = Job(queue: queue, work: work)
        let runNow = state.withLock { state in
            if state.running < limit {
                state.running += 1
                return true
            }
            state.waiting.append(job)
            return false
        }
        if runNow { run(job) }
    }

    private func run(_ job: Job) {
        job.queue.async {
            job.work()
            self.finished()
        }
    }

    private func finished() {
        let next: Job? = state.withLock { state in
            guard state.nextWaiting < state.waiting.count else {
                state.running -= 1
                state.waiting.removeAll(keepingCapacity: true)
                state.nextWaiting = 0
                return nil
            }
            let job = state.waiting[state.nextWaiting]
            state.nextWaiting += 1
            if state.nextWaiting >= 64, state.nextWaiting * 2 >= state.waiting.count {
                state.waiting.removeFirst(state.nextWaiting)
                state.nextWaiting = 0
            }
            return job
        }
        if let next { run(next) }
    }
}
