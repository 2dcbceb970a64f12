#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: what was attempted and the errno it left.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    /// The call and its subject, e.g. "bind 127.0.0.1:8080".
    public var operation: String
    public var errno: Int32

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// The one way this module makes system calls: EINTR is retried, EAGAIN/EWOULDBLOCK comes back
/// as `.wouldBlock`, any other failure throws with errno captured.
enum Syscall {
    enum Outcome: Equatable {
        case completed(Int)
        case wouldBlock
    }

    static func run(
        _ operation: @autoclosure () -> String, _ call: () -> Int
    ) throws(SocketError) -> Outcome {
        while true {
            let result = call()
            if result >= 0 { return .completed(result) }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw SocketError(operation: operation(), errno: code)
            }
        }
    }

    /// For calls that cannot block (bind, listen, setsockopt…): would-block is an error too.
    @discardableResult
    static func check(_ operation: @autoclosure () -> String, _ call: () -> Int) throws(SocketError) -> Int {
        switch try run(operation(), call) {
        case .completed(let value): return value
        case .wouldBlock: throw SocketError(operation: operation(), errno: EAGAIN)
        }
    }

    /// Ignores SIGPIPE once per process, so a write to a closed socket fails with EPIPE
    /// instead of killing the process (sends also pass MSG_NOSIGNAL).
    static let ignoreSIGPIPE: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    /// Raises the soft limit on open descriptors to the hard limit, once per process. The soft
    /// limit is often 1,024 (a login shell's, systemd's default), fewer than `maxConnections`
    /// (1,024) plus the listener, the event loops and the database connections need: past it,
    /// accept fails and clients wait. The hard limit is the administrator's word.
    static let raiseDescriptorLimit: Void = {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }()
}
