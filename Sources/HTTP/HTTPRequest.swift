/// One complete request as received: head, de-chunked body, and the peer's address.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request-target exactly as received (RFC 9112 §3.2).
    public var target: String
    /// The raw path before `?`, not percent-decoded. For an absolute-form target
    /// (`http://host/p?q`) the path of the URI; for the asterisk form, `*`.
    public var path: String
    /// The raw query after the first `?`, without it; nil when there is no `?`.
    public var query: String?
    /// 0 or 1: only HTTP/1.x is served.
    public var versionMinor: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// "127.0.0.1:54321" or "[::1]:54321".
    public var remoteAddress: String
    /// Filled from `Router.route`: the route's parameters, percent-decoded once.
    public var pathParameters: [String: String]
    /// What the head stage decided of this request (`HeadVerdict.proceedCarrying`); nil when it
    /// carried nothing or did not run (a request without a body).
    public var headDecision: (any Sendable)?

    public init(
        method: String, target: String, headers: HTTPHeaders = .init(), body: [UInt8] = [],
        remoteAddress: String = ""
    ) {
        self.method = method
        self.target = target
        (self.path, self.query) = Self.split(target: target)
        self.versionMinor = 1
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.pathParameters = [:]
        self.headDecision = nil
    }

    /// Splits a request-target into raw path and query (RFC 9112 §3.2). Accepts the
    /// absolute form (a server MUST, §3.2.2) by dropping scheme and authority.
    static func split(target: String) -> (path: String, query: String?) {
        var rest = Substring(target)
        if rest.utf8.first != ASCII.slash, let schemeEnd = rest.firstRange(of: "://") {
            let afterAuthority = rest[schemeEnd.upperBound...]
            let pathStart = afterAuthority.firstIndex { $0 == "/" || $0 == "?" }
            rest = pathStart.map { afterAuthority[$0...] } ?? ""
            if rest.utf8.first != ASCII.slash { rest = "/" + rest }
        }
        guard let mark = rest.firstIndex(of: "?") else { return (String(rest), nil) }
        return (String(rest[..<mark]), String(rest[rest.index(after: mark)...]))
    }
}
