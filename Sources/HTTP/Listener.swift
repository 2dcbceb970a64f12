#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// The listening socket and its accept loop. Mutable state is confined to `queue`, hence
/// `@unchecked Sendable`.
final class Listener: @unchecked Sendable {
    /// Pause after EMFILE/ENFILE/ENOBUFS/ENOMEM before accepting again, rather than spinning on
    /// a connection that cannot be accepted yet.
    static let backoff: DispatchTimeInterval = .milliseconds(100)
    static let backlog: Int32 = 1024

    let port: Int
    private let queue = DispatchQueue(label: "lakehook.http.accept")
    private let source: any DispatchSourceRead
    /// Nil once closed; the fd closes with it.
    private var socket: SocketDescriptor?
    private var paused = false
    private var stopped = false
    /// Signalled by the cancel handler, once the fd is closed.
    private let closed = DispatchSemaphore(value: 0)

    /// Creates, binds and listens; the accept loop starts with `start`.
    init(address: SocketAddress, label: String) throws(SocketError) {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = try Syscall.check("socket \(label)") { Int(Glibc.socket(address.family, type, 0)) }
        let socket = SocketDescriptor(Int32(fd))
        try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
        try Syscall.check("bind \(label)") { Int(address.withSockaddr { bind(socket.fd, $0, $1) }) }
        try Syscall.check("listen \(label)") { Int(listen(socket.fd, Self.backlog)) }
        var bound = SocketAddress()
        try Syscall.check("getsockname \(label)") { Int(bound.fill { getsockname(socket.fd, $0, $1) }) }
        port = bound.port
        self.socket = socket
        source = DispatchSource.makeReadSource(fileDescriptor: socket.fd, queue: queue)
    }

    /// Accepts until EAGAIN on each readiness event; `onAccept` gets each new non-blocking,
    /// close-on-exec socket and the peer's address, on the accept queue. Call once, and
    /// `stop()` eventually.
    func start(onAccept: @escaping @Sendable (SocketDescriptor, SocketAddress) -> Void) {
        // These closures keep the listener alive until the source is cancelled.
        source.setEventHandler { [self] in acceptAll(onAccept) }
        source.setCancelHandler { [self] in
            socket = nil
            closed.signal()
        }
        source.resume()
    }

    /// Stops accepting and closes the listening socket; returns once it is closed, so a
    /// connection attempt made afterwards is refused by the kernel.
    func stop() {
        // Cancellation is asynchronous: wait for the handler that closes the fd.
        if queue.sync(execute: cancel) { closed.wait() }
    }

    /// Like `stop()` but without waiting: for a server's deinit, which may run on any queue.
    func stopWithoutWaiting() {
        queue.async { _ = self.cancel() }
    }

    /// On the queue. False if already stopped.
    private func cancel() -> Bool {
        guard !stopped else { return false }
        stopped = true
        if paused { source.resume() }
        source.cancel()
        return true
    }

    private func acceptAll(_ onAccept: @Sendable (SocketDescriptor, SocketAddress) -> Void) {
        guard let fd = socket?.fd, !stopped else { return }
        while true {
            var peer = SocketAddress()
            do throws(SocketError) {
                let outcome = try Syscall.run("accept") { Int(peer.fill { accept(fd, $0, $1) }) }
                guard case .completed(let accepted) = outcome else { return }
                // Glibc's Swift module does not export accept4, so the flags follow at once.
                // The moment without FD_CLOEXEC only matters to a concurrent fork+exec.
                let socket = SocketDescriptor(Int32(accepted))
                try Syscall.check("fcntl F_SETFD") { Int(fcntl(socket.fd, F_SETFD, FD_CLOEXEC)) }
                try Syscall.check("fcntl F_SETFL") { Int(fcntl(socket.fd, F_SETFL, O_NONBLOCK)) }
                onAccept(socket, peer)
            } catch {
                switch error.errno {
                case ECONNABORTED, EPROTO, EPERM, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH,
                     EOPNOTSUPP, ENETUNREACH:
                    continue  // that one connection failed; the next may be fine
                default:
                    pause()  // EMFILE, ENFILE, ENOBUFS, ENOMEM or unexpected: back off
                    return
                }
            }
        }
    }

    private func pause() {
        guard !paused, !stopped else { return }
        paused = true
        source.suspend()
        queue.asyncAfter(deadline: .now() + Self.backoff) { [self] in
            guard paused, !stopped else { return }
            paused = false
            source.resume()
        }
    }
}
