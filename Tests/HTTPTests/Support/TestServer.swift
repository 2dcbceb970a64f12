import Foundation
import HTTP
import TestSupport

/// The JSON error body the app would build, so tests can tell it reached the wire.
let testErrorResponse: @Sendable (Int, String) -> HTTPResponse = { status, message in
    var headers = HTTPHeaders()
    headers.add(name: "Content-Type", value: "application/json")
    let body = #"{"code":\#(status),"success":false,"message":"\#(message)"}"#
    return HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
}

/// Answers with the request body, and its method, path and body size in headers.
let echoHandler: HTTPHandler = { request in
    var headers = HTTPHeaders()
    headers.add(name: "X-Method", value: request.method)
    headers.add(name: "X-Path", value: request.path)
    headers.add(name: "X-Body-Size", value: String(request.body.count))
    return HTTPResponse(status: 200, headers: headers, body: request.body)
}

extension HTTPServer {
    /// A server whose handler blocks: each request runs on a handler thread (`offload`), as the
    /// webhook service runs its database work. Production builds its handler itself
    /// (`WebhookService.makeServer`); tests of the HTTP layer alone use this one.
    convenience init(
        host: String, port: Int, limits: ServerLimits, eventLoops: Int? = nil, handler: @escaping HTTPHandler,
        headHandler: HTTPHeadHandler? = nil,
        errorResponse: @escaping @Sendable (_ status: Int, _ message: String) -> HTTPResponse = testErrorResponse,
        onRefusal: HTTPRefusalObserver? = nil
    ) {
        self.init(
            host: host, port: port, limits: limits, eventLoops: eventLoops,
            asyncHandler: { request, responder in responder.offload { handler(request) } },
            headHandler: headHandler, errorResponse: errorResponse, onRefusal: onRefusal)
    }
}

/// Runs `body` against a fresh server on an ephemeral loopback port, then shuts it down.
func withServer<T>(
    limits: ServerLimits = ServerLimits(), handler: @escaping HTTPHandler = echoHandler,
    eventLoops: Int? = nil, headHandler: HTTPHeadHandler? = nil, onRefusal: HTTPRefusalObserver? = nil,
    _ body: (HTTPServer) throws -> T
) throws -> T {
    let server = HTTPServer(
        host: "127.0.0.1", port: 0, limits: limits, eventLoops: eventLoops, handler: handler,
        headHandler: headHandler, onRefusal: onRefusal)
    try server.start()
    defer { server.shutdown(deadline: .seconds(2)) }
    return try body(server)
}

/// The refusals a server reported, in order.
final class RefusalRecorder: @unchecked Sendable {
    private var refusals: [HTTPRefusal] = []
    private let lock = NSLock()

    var observer: HTTPRefusalObserver { { [self] refusal in lock.withLock { refusals.append(refusal) } } }

    var reasons: [HTTPRefusal.Reason] { lock.withLock { refusals.map(\.reason) } }

    func count(_ reason: HTTPRefusal.Reason) -> Int { reasons.filter { $0 == reason }.count }

    /// Waits for `condition` on the reasons, up to `seconds` (a ceiling).
    func wait(seconds: Double = 30, _ condition: ([HTTPRefusal.Reason]) -> Bool) -> Bool {
        (try? waitUntil(timeout: seconds) { condition(reasons) }) != nil
    }
}
