import Foundation

/// Runs `produce` on a thread of its own, which hands batches to the caller through a bounded
/// queue: reading and decoding run ahead while the caller writes, at most `capacity` batches
/// ahead. The producer's blocking work (reading a file, libpq) stays off Swift's cooperative
/// pool; the queue is guarded by one lock.
final class DecodeAhead<Batch: Sendable>: @unchecked Sendable {
    // One NSCondition guards every field below (that is why the class is @unchecked Sendable).
    private let condition = NSCondition()
    private var queue: [Batch] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    private let capacity: Int

    /// Starts `produce`, which calls `emit` for each batch (it returns false once the consumer
    /// has stopped: the producer should return) and returns or throws when it is done.
    init(capacity: Int = 4, _ produce: @escaping @Sendable (_ emit: (Batch) -> Bool) throws -> Void) {
        self.capacity = capacity
        let thread = Thread { [self] in
            do {
                try produce { batch in self.put(batch) }
                end(nil)
            } catch {
                end(error)
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func put(_ batch: Batch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        queue.append(batch)
        condition.broadcast()
        return true
    }

    private func end(_ error: (any Error)?) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch; nil when the producer is done. Throws what the producer threw, after
    /// every batch it emitted before.
    func next() throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !finished { condition.wait() }
        if !queue.isEmpty {
            condition.broadcast()
            return queue.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the producer at its next `emit` (without waiting for it: it may be blocked reading
    /// standard input).
    func cancel() {
        condition.lock()
        cancelled = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
