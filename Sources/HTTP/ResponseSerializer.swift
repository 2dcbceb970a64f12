/// Turns a handler's response into wire bytes (RFC 9112 §4, §6). The server owns framing:
/// `Content-Length`, `Transfer-Encoding` and `Connection` from the handler are replaced, and a
/// header whose name is not a token or whose value holds CR, LF, NUL or another control
/// character is dropped, so a handler can never split the response.
enum ResponseSerializer {
    /// Bodies up to this size are copied behind the head so the response goes out in one send.
    static let coalesceLimit = 16 * 1024

    /// Whether the handler asked to close the connection (`Connection: close`).
    static func requestsClose(_ response: HTTPResponse) -> Bool {
        response.headers.lowercasedTokens(for: "Connection").contains("close")
    }

    /// - Parameters:
    ///   - isHead: the request was HEAD: headers as for GET, no body (RFC 9110 §9.3.2).
    ///   - connectionHeader: "close", "keep-alive" (HTTP/1.0 keep-alive) or nil.
    /// - Returns: one or two buffers to write in order.
    static func serialize(_ response: HTTPResponse, isHead: Bool, connectionHeader: String?) -> [[UInt8]] {
        // A final response needs a 2xx–5xx class; anything else is a handler bug.
        let status = (200...599).contains(response.status) ? response.status : 500
        // RFC 9110 §8.6, §15.4.5: no Content-Length and no body for 204; 304 has no body and
        // its Content-Length would describe a representation we don't have.
        let mayHaveBody = status != 204 && status != 304
        let body = status == response.status ? response.body : []

        var head: [UInt8] = []
        head.reserveCapacity(256 + (body.count <= coalesceLimit ? body.count : 0))
        head.append(contentsOf: "HTTP/1.1 \(status) \(reasonPhrase(status))\r\n".utf8)
        var hasDate = false
        for (name, value) in response.headers {
            guard ASCII.isToken(name), !value.utf8.contains(where: ASCII.isForbiddenInValue) else { continue }
            if HTTPHeaders.equalNames(name, "Content-Length") || HTTPHeaders.equalNames(name, "Transfer-Encoding")
                || HTTPHeaders.equalNames(name, "Connection") {
                continue
            }
            if HTTPHeaders.equalNames(name, "Date") { hasDate = true }
            appendField(&head, name, value)
        }
        if !hasDate { appendField(&head, "Date", HTTPDate.now()) }
        if mayHaveBody { appendField(&head, "Content-Length", String(body.count)) }
        if let connectionHeader { appendField(&head, "Connection", connectionHeader) }
        head.append(contentsOf: "\r\n".utf8)

        guard mayHaveBody, !isHead, !body.isEmpty else { return [head] }
        if body.count <= coalesceLimit {
            head.append(contentsOf: body)
            return [head]
        }
        return [head, body]
    }

    private static func appendField(_ buffer: inout [UInt8], _ name: String, _ value: String) {
        buffer.append(contentsOf: name.utf8)
        buffer.append(contentsOf: ": ".utf8)
        buffer.append(contentsOf: value.utf8)
        buffer.append(contentsOf: "\r\n".utf8)
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }
}
