/// Every limit the HTTP server enforces, in one value. Each field has a documented default;
/// `init()` gives them all.
public struct ServerLimits: Sendable {
    /// Longest request line (`METHOD SP target SP HTTP/1.x`, without its CRLF).
    /// Default 8 KiB. Longer: 400 and close (the product spec maps an over-long request line
    /// to 400 rather than RFC 9110's 414).
    public var maxRequestLineBytes: Int

    /// Largest total size of all header lines of one request, CRLFs included, and of a chunked
    /// body's trailer lines, which count against the same budget. Default 16 KiB. Larger: 431.
    public var maxHeaderBytes: Int

    /// Most header lines in one request (trailer lines included). Default 100. More: 431.
    public var maxHeaderCount: Int

    /// Largest request body, after de-chunking. Default 1 MiB (1_048_576). A `Content-Length`
    /// above it is answered 413 before any body byte is read; a chunked body is answered 413 as
    /// soon as its declared chunk sizes pass it.
    public var maxBodyBytes: Int

    /// Most connections served at once. Default 1024. A connection beyond it is still accepted,
    /// answered 503 (with the `errorResponse` body) and closed.
    public var maxConnections: Int

    /// Most connections from one client address (the peer's IP, port ignored). Default 256.
    /// A connection beyond it takes the slot of that client's oldest connection that has not yet
    /// sent a complete request head, or, when there is none, is answered 503 and closed.
    public var maxConnectionsPerClient: Int

    /// Most request-body bytes held at once across all connections: a body's declared length
    /// (or `maxBodyBytes` for a chunked one) is reserved when its head is accepted and returned
    /// when its request is answered. Default 64 MiB. A body that does not fit is answered 503
    /// with `Retry-After` before any of it is read.
    public var maxBufferedBodyBytes: Int

    /// Time allowed to receive a complete request head: from the accept for a connection's first
    /// request (a connection that sends nothing is closed then, without an answer), from its
    /// first byte for a later one. Default 10 s. Past it: 408 (when some bytes came) and close.
    public var headerTimeout: Duration

    /// Time allowed to receive the whole body once the head is complete. Default 30 s.
    /// Past it: 408 and close.
    public var bodyTimeout: Duration

    /// Time a keep-alive connection may sit, after a completed exchange, with no request in
    /// progress, and time a response
    /// write may make no progress (a client that stops reading). Default 60 s.
    /// Past it the connection is closed without an answer.
    public var idleTimeout: Duration

    /// Longest time spent discarding a client's input after the server answered an error and
    /// half-closed the socket, so the client reads the answer instead of a reset. Default 2 s.
    public var lingerTimeout: Duration

    /// Most handlers running at once across all connections; further complete requests wait
    /// their turn in arrival order. Default 128 (kept well below Dispatch's thread limit,
    /// since handlers block).
    public var maxConcurrentHandlers: Int

    public init() {
        maxRequestLineBytes = 8 * 1024
        maxHeaderBytes = 16 * 1024
        maxHeaderCount = 100
        maxBodyBytes = 1_048_576
        maxConnections = 1024
        maxConnectionsPerClient = 256
        maxBufferedBodyBytes = 64 * 1024 * 1024
        headerTimeout = .seconds(10)
        bodyTimeout = .seconds(30)
        idleTimeout = .seconds(60)
        lingerTimeout = .seconds(2)
        maxConcurrentHandlers = 128
    }
}
