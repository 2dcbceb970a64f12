/// Maps a method and a raw path to a target (a handler, or what the application says a route
/// is: see the webhook service's `Route`). Patterns are split on `/`; a `:name` segment is a
/// parameter matching any non-empty raw segment. A literal segment is preferred over a
/// parameter at the same position, and a failed literal branch backtracks to the parameter
/// branch, so `/x/:id/issues` and `/x/connections/:id/issues` coexist.
public struct Router<Target: Sendable>: Sendable {
    /// One pattern that ends at a node, for one method.
    struct Route: Sendable {
        var target: Target
        /// Names of the pattern's parameters, in path order.
        var parameterNames: [String]
        /// The pattern as registered, e.g. for logs and metrics labels.
        var pattern: String
    }

    /// A trie node; children are indices into `nodes`.
    struct Node: Sendable {
        var literals: [String: Int] = [:]
        var parameter: Int?
        var routes: [String: Route] = [:]
    }

    private var nodes: [Node] = [Node()]

    public init() {}

    /// Adds a route. `pattern` starts with `/`; `:name` segments are parameters. Registering the
    /// same method and pattern twice, or a malformed pattern, is a programming error.
    public mutating func add(_ method: String, _ pattern: String, _ target: Target) {
        guard let segments = Self.segments(of: pattern) else {
            preconditionFailure("Router: pattern must start with '/' and have no empty segment: \(pattern)")
        }
        var node = 0
        var names: [String] = []
        for segment in segments {
            if segment.first == ":" {
                let name = String(segment.dropFirst())
                precondition(!name.isEmpty, "Router: unnamed parameter in \(pattern)")
                precondition(!names.contains(name), "Router: parameter \(name) repeated in \(pattern)")
                names.append(name)
                node = child(of: node, parameter: true, literal: "")
            } else {
                node = child(of: node, parameter: false, literal: String(segment))
            }
        }
        precondition(nodes[node].routes[method] == nil, "Router: duplicate route \(method) \(pattern)")
        nodes[node].routes[method] = Route(target: target, parameterNames: names, pattern: pattern)
    }

    /// Finds the route for `method` and the raw `path` (no query). Among the nodes the path
    /// reaches, literal-first order decides; a node without this method does not stop the
    /// search, so another pattern may still serve the method.
    public func route(method: String, path: String) -> RouteMatch<Target> {
        guard let segments = Self.segments(of: path) else { return .notFound }
        var values: [Substring] = []
        var allowed: Set<String> = []
        var found: (Route, [Substring])?
        _ = search(node: 0, segments: segments[...], values: &values) { node, values in
            if let route = nodes[node].routes[method] {
                found = (route, values)
                return true
            }
            allowed.formUnion(nodes[node].routes.keys)
            return false
        }
        guard let (route, rawValues) = found else {
            return allowed.isEmpty ? .notFound : .methodNotAllowed(allow: allowed.sorted())
        }
        var parameters: [String: String] = [:]
        for (name, raw) in zip(route.parameterNames, rawValues) {
            switch PercentDecoding.decode(raw) {
            case .success(let value): parameters[name] = value
            case .failure(let reason): return .badPath("path parameter '\(name)': \(reason)")
            }
        }
        return .matched(route.target, parameters: parameters, pattern: route.pattern)
    }

    /// Depth-first, literal before parameter. `visit` is called for each node the whole path
    /// reaches; returning true stops the search.
    private func search(
        node: Int, segments: ArraySlice<Substring>, values: inout [Substring],
        visit: (Int, [Substring]) -> Bool
    ) -> Bool {
        guard let segment = segments.first else { return visit(node, values) }
        let rest = segments.dropFirst()
        if let literal = nodes[node].literals[String(segment)],
           search(node: literal, segments: rest, values: &values, visit: visit) {
            return true
        }
        if let parameter = nodes[node].parameter, !segment.isEmpty {
            values.append(segment)
            defer { values.removeLast() }
            if search(node: parameter, segments: rest, values: &values, visit: visit) { return true }
        }
        return false
    }

    private mutating func child(of node: Int, parameter: Bool, literal: String) -> Int {
        if parameter, let existing = nodes[node].parameter { return existing }
        if !parameter, let existing = nodes[node].literals[literal] { return existing }
        nodes.append(Node())
        let created = nodes.count - 1
        if parameter { nodes[node].parameter = created } else { nodes[node].literals[literal] = created }
        return created
    }

    /// The segments after the leading `/`, one trailing empty segment (trailing slash) dropped;
    /// nil when the path does not start with `/`. "/" has no segments. An empty middle
    /// segment ("//") is kept and matches nothing.
    static func segments(of path: String) -> [Substring]? {
        guard path.utf8.first == ASCII.slash else { return nil }
        var segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        if segments.last?.isEmpty == true { segments.removeLast() }
        return segments
    }
}
