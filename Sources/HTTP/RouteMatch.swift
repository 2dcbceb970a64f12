/// What `Router.route` found for a method and raw path.
public enum RouteMatch<Target: Sendable>: Sendable {
    /// A route for this method; `parameters` are percent-decoded exactly once; `pattern` is the
    /// route as registered (a low-cardinality label for logs and metrics).
    case matched(Target, parameters: [String: String], pattern: String)
    /// The path matches routes of other methods only: answer 405 with `Allow` (sorted, unique).
    case methodNotAllowed(allow: [String])
    /// No route has this path.
    case notFound
    /// The path matched a route but a parameter cannot be decoded (invalid percent-encoding,
    /// invalid UTF-8, or NUL): answer 400 with this reason.
    case badPath(String)
}
