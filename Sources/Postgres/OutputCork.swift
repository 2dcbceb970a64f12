#if canImport(Glibc)
import Glibc
#endif

/// Holds what libpq writes to the server's TCP socket in the kernel until `release()`, with
/// `TCP_CORK`. libpq 15's `PQpipelineSync` flushes after every sync, so without it each
/// pipelined statement leaves in a segment of its own and wakes the server by itself; corked,
/// those writes only fill the socket's queue, and `release()` sends them together. On a socket
/// without `TCP_CORK` (a Unix-domain socket) it does nothing: writes go out as libpq makes them.
struct OutputCork {
    private let socket: Int32
    private var isSupported = true
    /// Set while the socket is corked.
    private(set) var isHeld = false

    init(socket: Int32) {
        self.socket = socket
    }

    /// Corks the socket if it is not already.
    mutating func hold() {
        guard isSupported, !isHeld else { return }
        if set(1) {
            isHeld = true
        } else {
            isSupported = false
        }
    }

    /// Uncorks: the kernel sends what it holds at once.
    mutating func release() {
        guard isHeld else { return }
        isHeld = false
        _ = set(0)
    }

    private func set(_ value: Int32) -> Bool {
        var value = value
        return setsockopt(socket, Int32(IPPROTO_TCP), TCP_CORK, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
    }
}
