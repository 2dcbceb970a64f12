#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sole owner of one socket file descriptor: closes it exactly once, when the last reference
/// goes. Its owner (a connection, the listener) takes it out of the loop's epoll set before
/// letting it go, so the fd is never closed, and its number reused, while epoll still watches it.
final class SocketDescriptor: Sendable {
    let fd: Int32

    init(_ fd: Int32) {
        self.fd = fd
    }

    deinit {
        // Not retried on EINTR: on Linux the descriptor is released even then.
        _ = close(fd)
    }

    /// Applies an integer socket option.
    func setOption(_ level: Int32, _ name: Int32, _ value: Int32, _ label: String) throws(SocketError) {
        var value = value
        try Syscall.check("setsockopt \(label)") {
            Int(setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)))
        }
    }
}
