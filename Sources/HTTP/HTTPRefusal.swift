/// A request or connection the HTTP layer turned away by itself, before any handler ran: what
/// the application's refusal observer is told (for its log and metrics), once per refusal.
public struct HTTPRefusal: Sendable {
    /// Why; the raw value is a low-cardinality label (`header_timeout`, `connection_limit`, …).
    public enum Reason: String, Sendable, CaseIterable {
        /// No complete request head within `headerTimeout` (also a connection that sent nothing).
        case headerTimeout = "header_timeout"
        /// The body did not arrive within `bodyTimeout`.
        case bodyTimeout = "body_timeout"
        /// The body is larger than `maxBodyBytes` (413).
        case tooLarge = "too_large"
        /// The head is larger than `maxHeaderBytes` or `maxHeaderCount` (431).
        case headersTooLarge = "headers_too_large"
        /// The request is malformed or ambiguously framed (400).
        case badFraming = "bad_framing"
        /// Not HTTP/1.x (505).
        case badVersion = "bad_version"
        /// The server holds `maxConnections` and none of them is still silent (503).
        case connectionLimit = "connection_limit"
        /// The client's address holds `maxConnectionsPerClient` and none is still silent (503).
        case clientLimit = "client_limit"
        /// Closed to make room for a new connection: it had not sent a complete head.
        case evictedSilent = "evicted_silent"
        /// The body would take the bodies held at once past `maxBufferedBodyBytes` (503).
        case bodyBudget = "body_budget"
        /// The client stopped reading its answer for `idleTimeout`.
        case writeStall = "write_stall"
    }

    public var reason: Reason
    /// The status answered, or nil when the connection was closed without an answer.
    public var status: Int?
    /// "127.0.0.1:54321" or "[::1]:54321".
    public var remoteAddress: String

    public init(reason: Reason, status: Int?, remoteAddress: String) {
        self.reason = reason
        self.status = status
        self.remoteAddress = remoteAddress
    }

    /// The reason for a parser refusal's status.
    static func reason(forParseStatus status: Int) -> Reason {
        switch status {
        case 413: .tooLarge
        case 431: .headersTooLarge
        case 505: .badVersion
        default: .badFraming
        }
    }
}

/// Told of every refusal, on the thread that made it (an event loop: it must not block).
public typealias HTTPRefusalObserver = @Sendable (HTTPRefusal) -> Void
