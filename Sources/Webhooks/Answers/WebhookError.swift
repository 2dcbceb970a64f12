/// A request the service refuses, with the HTTP status that says why.
///
/// Every refusal of the API (API.md §9) is one of these; `Answer.failure` turns it into the
/// JSON envelope in one place.
public struct WebhookError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var causes: [String]
    /// Extra response headers, e.g. `Retry-After` on 503 or `Allow` on 405.
    public var headers: [String: String]

    public init(status: Int, message: String, causes: [String] = [], headers: [String: String] = [:]) {
        self.status = status
        self.message = message
        self.causes = causes
        self.headers = headers
    }

    public var description: String { "\(status) \(message)" }

    public static func badRequest(_ message: String, causes: [String] = []) -> WebhookError {
        WebhookError(status: 400, message: message, causes: causes)
    }

    public static func notFound(_ message: String) -> WebhookError {
        WebhookError(status: 404, message: message)
    }

    public static func invalidBody(_ causes: [String]) -> WebhookError {
        WebhookError(status: 400, message: "the request body has \(causes.count == 1 ? "an invalid field" : "invalid fields")", causes: causes)
    }

    /// The database cannot be reached, or every connection stayed busy past the wait limit.
    public static func unavailable(_ message: String) -> WebhookError {
        WebhookError(status: 503, message: message, headers: ["Retry-After": "1"])
    }
}
