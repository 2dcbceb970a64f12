/// Everything that changes on one connection, in one value, touched only on the connection's
/// event loop.
struct ConnectionState {
    enum Phase {
        /// Waiting for, or receiving, a request.
        case reading
        /// The application's head handler decides, blocking, whether the body may be read;
        /// input is not read meanwhile.
        case deciding
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
    /// The socket; nil once closed (the fd closes with it).
    var socket: SocketDescriptor?
    /// A send would block: the rest goes out on the next writable event.
    var waitingWritable = false
    /// `drive()` is on the stack; a nested call returns and lets the outer one continue.
    var driving = false
    /// The socket may hold unread input: set by every readable event, cleared by a read that
    /// came back short (the socket was drained then; with edge-triggered epoll, bytes that
    /// arrive later raise a new event). Saves the `recv` that would only say EAGAIN.
    var mayHaveInput = true
    /// The peer half-closed (or the socket is in error): read until EOF, never skip the read.
    var peerHungUp = false
    /// Monotonic nanoseconds.
    var timer: (purpose: TimerPurpose, deadline: UInt64)?
    /// The server is shutting down: finish the current request, then close.
    var shuttingDown = false
    /// A complete request head has arrived on this connection (it is no longer silent).
    var hasSpoken = false
    /// Bytes of the body budget held for the request in progress (see `BodyBudget`).
    var bodyReservation = 0
    /// What the head stage carried for the request whose body is being read.
    var headDecision: (any Sendable)?

    init(parser: RequestParser, socket: SocketDescriptor) {
        self.parser = parser
        self.socket = socket
    }

    var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }
}
