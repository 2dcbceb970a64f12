/// What a handler answers. The server adds `Content-Length`, `Date`, and `Connection` when
/// needed; a handler sets neither `Content-Length` nor `Transfer-Encoding` (both are dropped).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Values the application attaches for its own logs and metrics (e.g. which account a
    /// request belonged to). Never written to the wire.
    public var annotations: [String: String] = [:]

    public init(status: Int, headers: HTTPHeaders = .init(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Called once per request on a handler thread the server owns; it may block.
public typealias HTTPHandler = @Sendable (HTTPRequest) -> HTTPResponse

/// Called once per request on the connection's event loop; it must not block. It answers
/// through the responder: at once, after non-blocking work on the same loop, or by offloading
/// blocking work to a handler thread (`HTTPResponder.offload`).
public typealias HTTPAsyncHandler = @Sendable (HTTPRequest, HTTPResponder) -> Void
