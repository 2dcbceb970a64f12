/// What the application decides about a request from its head alone, before any body byte is
/// read or buffered and before `100 Continue` is sent.
public enum HeadVerdict: Sendable {
    /// Read the body (answering `100 Continue` if asked); the complete request then goes to the
    /// handler as usual.
    case proceed
    /// As `proceed`, and the handler gets `decision` with the complete request
    /// (`HTTPRequest.headDecision`): what the head stage found (a route, an authenticated
    /// client) need not be found again.
    case proceedCarrying(any Sendable)
    /// Answer this now, without reading the body, and close the connection after it (the body,
    /// still on its way, is discarded, never buffered).
    case refuse(HTTPResponse)
    /// The decision needs blocking work (e.g. a database lookup of a key): it runs on a handler
    /// thread (see `HandlerPool`) while the connection reads nothing, and the verdict it returns
    /// is applied on the connection's loop.
    case decideBlocking(@Sendable () -> HeadVerdict)
}

/// Called on the connection's event loop when the head of a request with a body is complete;
/// must not block. The request has no body yet (`HTTPRequest.body` is empty) and carries the
/// peer's address.
public typealias HTTPHeadHandler = @Sendable (HTTPRequest) -> HeadVerdict
