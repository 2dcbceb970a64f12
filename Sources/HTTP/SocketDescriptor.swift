#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sole owner of one socket file descriptor: closes it exactly once, when the last reference
/// goes. Dispatch sources on the fd hold a reference from their cancel handlers, so the fd is
/// never closed while a source still watches it.
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
