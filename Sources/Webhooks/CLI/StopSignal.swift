import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Ctrl-C (SIGINT) or SIGTERM for a command that runs until it is stopped (`lakehook events
/// --follow`): instead of killing the process mid-write, the signal sets `isStopped` and makes
/// `descriptor` readable, which ends a wait on it (`PostgresConnection.notifications(…wake:)`);
/// the command then finishes cleanly and exits 0.
final class StopSignal: Sendable {
    /// Readable once stopped: the read end of a pipe.
    let descriptor: Int32
    private let writeEnd: Int32
    private let stopped = Atomic<Bool>(false)

    init() throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw CommandFailure(description: "cannot make a pipe (errno \(errno))") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        descriptor = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(descriptor)
        close(writeEnd)
    }

    var isStopped: Bool { stopped.load(ordering: .acquiring) }

    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 1
        while write(writeEnd, &byte, 1) < 0 && errno == EINTR {}
    }

    /// Runs `body` with SIGINT and SIGTERM stopping it (through `stop()`) rather than the process;
    /// afterwards both act as they did before (the default: end the process).
    static func handlingSignals<T>(_ body: (StopSignal) throws -> T) throws -> T {
        let signal = try StopSignal()
        let queue = DispatchQueue(label: "lakehook.stop-signal")
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { signal.stop() }
            source.resume()
            sources.append(source)
        }
        defer {
            for source in sources { source.cancel() }
            Glibc.signal(SIGINT, SIG_DFL)
            Glibc.signal(SIGTERM, SIG_DFL)
        }
        return try body(signal)
    }
}
