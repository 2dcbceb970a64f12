import Dispatch

/// Everything that changes on one connection, in one value, touched only on the
/// connection's serial queue.
struct ConnectionState {
    enum Phase {
        /// Waiting for, or receiving, a request.
        case reading
        /// The handler runs; input is not read (pipelined bytes wait in the parser or socket).
        case handling(ResponsePlan)
        /// The final response is being written.
        case writing(thenClose: Bool)
        /// Answered and half-closed: input is discarded until EOF or the linger deadline, so
        /// the client reads the answer instead of a reset.
        case lingering
        case closed
    }

    /// How to frame the response to the request being handled.
    struct ResponsePlan {
        var isHead: Bool
        var versionMinor: Int
        var keepAlive: Bool
    }

    enum TimerPurpose {
        case idle, header, body, writeStall, linger
    }

    var phase: Phase = .reading
    var parser: RequestParser
    var output = OutboundBuffer()
    /// The socket; nil once closed. The dispatch sources' cancel handlers hold it too, so the
    /// fd is closed after both sources are cancelled.
    var socket: SocketDescriptor?
    /// Dispatch sources start inactive, which counts as suspended here: each must be resumed
    /// exactly once more than it was suspended before it is cancelled, or its cancel handler
    /// never runs.
    var readSuspended = true
    var writeSourceResumed = false
    var timerSourceResumed = false
    var timer: (purpose: TimerPurpose, deadline: DispatchTime)?
    /// The server is shutting down: finish the current request, then close.
    var shuttingDown = false

    init(parser: RequestParser, socket: SocketDescriptor) {
        self.parser = parser
        self.socket = socket
    }

    var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }
}
