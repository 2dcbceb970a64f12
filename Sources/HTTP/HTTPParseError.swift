/// Why the server refuses a request it could not parse or will not accept: the status to
/// answer (400, 408, 413, 431, 505…) and a one-line message for a person. After any of these
/// the connection is closed.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String

    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status) \(message)" }

    static func badRequest(_ message: String) -> Self { .init(status: 400, message: message) }
    static func headersTooLarge(_ message: String) -> Self { .init(status: 431, message: message) }
    static func bodyTooLarge(limit: Int) -> Self {
        .init(status: 413, message: "request body is larger than \(limit) bytes")
    }
}
