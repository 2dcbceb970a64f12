import HTTP

/// The log's batching on the HTTP server's event loops: each loop gathers the lines of one turn
/// in its own `LogBuffer` (a `LoopLocal`) and writes them once the turn's events are handled;
/// any other thread writes its lines at once.
struct LoopLogBatching: LogBatching {
    private let buffers = LoopLocal { loop in LogBuffer(loop: loop) }

    func gather(_ line: [UInt8], for sink: LogSink) -> Bool {
        guard let loop = EventLoop.current else { return false }
        buffers.value(on: loop).append(line, to: sink)
        return true
    }
}

/// One event loop's log lines of the current turn, written once the turn's events are handled.
final class LogBuffer {
    unowned let loop: EventLoop
    private var pending: [UInt8] = []
    /// Where `pending` goes (a loop may serve more than one log, in tests).
    private var sink: LogSink?
    private var scheduled = false

    init(loop: EventLoop) {
        self.loop = loop
    }

    func append(_ line: [UInt8], to sink: LogSink) {
        if !pending.isEmpty, sink !== self.sink || pending.count + line.count > LogSink.atomicWrite { flush() }
        self.sink = sink
        pending.append(contentsOf: line)
        if !scheduled {
            scheduled = true
            loop.afterEvents { [self] in
                scheduled = false
                flush()
            }
        }
    }

    private func flush() {
        guard !pending.isEmpty, let sink else { return }
        sink.write(pending)
        pending.removeAll(keepingCapacity: true)
    }
}
