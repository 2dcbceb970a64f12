import HTTP

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

/// Runs `body` against a fresh server on an ephemeral loopback port, then shuts it down.
func withServer<T>(
    limits: ServerLimits = ServerLimits(), handler: @escaping HTTPHandler = echoHandler,
    _ body: (HTTPServer) throws -> T
) throws -> T {
    let server = HTTPServer(
        host: "127.0.0.1", port: 0, limits: limits, handler: handler, errorResponse: testErrorResponse)
    try server.start()
    defer { server.shutdown(deadline: .seconds(2)) }
    return try body(server)
}
