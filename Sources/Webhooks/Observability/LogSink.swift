import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Concurrency

/// Where the log's bytes go (stderr, or `fd`), written so that a reader that falls behind never
/// stops the writer: an event loop that blocked on a full pipe would stop answering every
/// connection it serves, `/livez` included.
///
/// When `fd` is a pipe (a container's stderr) or a socket, writes do not wait: a pipe is written
/// through a description of its own, opened from `/proc/self/fd` with `O_NONBLOCK` (the shared
/// description, and whoever else writes to it, is left alone); a socket with `MSG_DONTWAIT`.
/// What does not fit is kept in order, up to `backlogLimit` bytes, and a helper thread waits for
/// room and writes it out; lines beyond the backlog are dropped and counted, and a `warn` line
/// says how many once the backlog is out. Anything else (a file, a terminal, /dev/null, or a pipe
/// when `/proc` cannot reopen it) is written with plain blocking writes, as before.
///
/// Every write goes through one lock, so lines never interleave and keep their order; the lock
/// is held only for writes that do not wait.
public final class LogSink: Sendable {
    /// The process's stderr.
    public static let standardError = LogSink(fd: 2)
    /// Bytes kept while the reader is behind (about 4,000 request lines).
    static let backlogLimit = 1 << 20
    /// PIPE_BUF: a pipe keeps a write of at most this many bytes whole next to other writers.
    static let atomicWrite = 4096

    let fd: Int32
    /// nil: plain blocking writes.
    private let route: Route?
    /// `Locked`, not `Mutex`: ThreadSanitizer cannot see the latter's ordering (see `Locked`).
    private let state = Locked(State())
    /// The helper thread's queue: its own, since the drain blocks in `poll` and the global
    /// queue's few threads are shared with Swift concurrency.
    private let drainQueue = DispatchQueue(label: "lakehook.log.drain")

    /// How a write reaches `fd` without waiting.
    private enum Route {
        /// A non-blocking description of the same pipe.
        case pipe(Int32)
        case socket
    }

    private struct State {
        /// Bytes not written yet, from `start`, in order.
        var backlog: [UInt8] = []
        var start = 0
        var dropped = 0

        var pending: Int { backlog.count - start }
    }

    /// A sink writing to `fd`, which the caller keeps open for the sink's life.
    public init(fd: Int32) {
        self.fd = fd
        var status = stat()
        let kind = fstat(fd, &status) == 0 ? status.st_mode & S_IFMT : 0
        if kind == S_IFIFO {
            let own = open("/proc/self/fd/\(fd)", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            route = own >= 0 ? .pipe(own) : nil
        } else {
            route = kind == S_IFSOCK ? .socket : nil
        }
    }

    deinit {
        if case .pipe(let own)? = route { close(own) }
    }

    /// Writes whole lines (`bytes` ends with a newline). At most `atomicWrite` bytes per call
    /// keeps them whole next to other processes writing to the same pipe.
    public func write(_ bytes: [UInt8]) {
        guard let route else {
            Self.writeBlocking(fd, bytes[...])
            return
        }
        let startsDrain = state.withLock { state -> Bool in
            if state.pending > 0 {
                keep(bytes[...], whole: false, in: &state)
                return false
            }
            let written = writeNow(bytes[...], route)
            guard written < bytes.count else { return false }
            // Whatever a partial write left of a line must follow it, whatever the limit.
            keep(bytes[written...], whole: written > 0, in: &state)
            return state.pending > 0
        }
        if startsDrain {
            drainQueue.async { self.drain(route) }
        }
    }

    /// Whether lines are waiting for the reader (tests).
    var isBehind: Bool { state.withLock { $0.pending > 0 } }

    // MARK: - Behind

    private func keep(_ bytes: ArraySlice<UInt8>, whole: Bool, in state: inout State) {
        if !whole, state.pending + bytes.count > Self.backlogLimit {
            state.dropped += bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            return
        }
        state.backlog.append(contentsOf: bytes)
    }

    /// On a helper thread while lines are waiting: waits for room, writes what fits, and once
    /// everything is out, the count of dropped lines.
    private func drain(_ route: Route) {
        let watched: Int32
        switch route {
        case .pipe(let own): watched = own
        case .socket: watched = fd
        }
        while true {
            var watch = pollfd(fd: watched, events: Int16(POLLOUT), revents: 0)
            _ = poll(&watch, 1, 1_000)  // room, or an error the next write reports
            let done = state.withLock { state -> Bool in
                while state.pending > 0 {
                    let slice = Self.nextWrite(state.backlog[state.start...])
                    let written = writeNow(slice, route)
                    state.start += written
                    if written < slice.count { break }
                }
                if state.pending == 0, state.dropped > 0 {
                    state.backlog = RequestLog.line(.warn, "log lines dropped: stderr was full", [
                        ("lines", .integer(Int64(state.dropped))),
                    ])
                    state.start = 0
                    state.dropped = 0
                    return false
                }
                if state.pending == 0 {
                    state.backlog.removeAll()
                    state.start = 0
                    return true
                }
                if state.start >= Self.backlogLimit / 2 {
                    state.backlog.removeFirst(state.start)
                    state.start = 0
                }
                return false
            }
            if done { return }
        }
    }

    /// The next write out of the backlog: at most `atomicWrite` bytes, ending at a newline when
    /// one is within them.
    private static func nextWrite(_ pending: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard pending.count > atomicWrite else { return pending }
        let window = pending.prefix(atomicWrite)
        guard let newline = window.lastIndex(of: UInt8(ascii: "\n")) else { return window }
        return pending[...newline]
    }

    // MARK: - Writing

    /// Writes without waiting and returns how many bytes went out; all of them when the file is
    /// broken (a closed reader: lines are lost, as with any stderr).
    private func writeNow(_ bytes: ArraySlice<UInt8>, _ route: Route) -> Int {
        bytes.withUnsafeBytes { buffer -> Int in
            var offset = 0
            while offset < buffer.count {
                let start = buffer.baseAddress! + offset
                let n: Int
                switch route {
                case .pipe(let own):
                    n = Glibc.write(own, start, buffer.count - offset)
                case .socket:
                    n = send(fd, start, buffer.count - offset, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                }
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    return offset
                } else {
                    return buffer.count
                }
            }
            return offset
        }
    }

    /// `write(2)` until done, retrying on EINTR and short writes; a broken file is ignored.
    static func writeBlocking(_ fd: Int32, _ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
