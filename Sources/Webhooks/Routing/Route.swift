import HTTP

/// What a route is, and so where its work runs. The service has one table of these
/// (`WebhookService.routes()`); the head stage and the request path both read it, and nothing
/// else decides how a request is dispatched.
enum Route: Sendable {
    /// A write of the ingest API (API.md §3–§5): authenticated by the connection's key, decoded
    /// on the loop, run by the `IngestExecutor`.
    case ingest(IngestRoute)
    /// Answers at once on the loop, without credentials and without waiting on anything
    /// (`/livez`, `/metrics`, the OpenAPI document).
    case inline(HTTPHandler)
    /// Waits on the database: runs on a handler thread. `admin`: behind LAKEHOOK_ADMIN_TOKEN —
    /// the handler refuses by itself, and the head stage refuses before the body is read.
    case blocking(HTTPHandler, admin: Bool)
}

/// The service's routes by method and pattern.
struct RouteTable: Sendable {
    private var router = Router<Route>()

    mutating func add(_ method: String, _ pattern: String, _ route: Route) {
        router.add(method, pattern, route)
    }

    /// An administration or DORA route: blocking, behind the admin token.
    mutating func add(_ method: String, _ pattern: String, _ handler: @escaping HTTPHandler) {
        add(method, pattern, .blocking(handler, admin: true))
    }

    func route(method: String, path: String) -> RouteMatch<Route> {
        router.route(method: method, path: path)
    }
}
