import HTTP

/// The head stage (`HTTPServer`'s head handler): a request with a body is routed and its key or
/// admin token checked from the head alone, so a request that will be refused (401, 403, 404,
/// 405, 400 for a bad connection id) is answered before any of its body is read or buffered,
/// and without `100 Continue`. The complete request is routed and authenticated again by
/// `asyncHandler` (the key is cached by then): the head stage only ever refuses early, it never
/// lets through what the handler would refuse.
extension WebhookService {
    public func headHandler() -> HTTPHeadHandler {
        let table = routes()
        return { [self] head in
            let started = ContinuousClock.now
            switch table.route(method: head.method, path: head.path) {
            case .matched(let route, let parameters, let pattern):
                var routed = head
                routed.pathParameters = parameters
                switch route {
                case .ingest:
                    return checkKey(routed, pattern: pattern, started: started)
                case .inline, .blocking(_, admin: false):
                    return .proceed
                case .blocking(let handler, admin: true):
                    // Administration and DORA: the token check needs no database. When it fails,
                    // the route's own handler answers (it refuses before reading anything), so
                    // the refusal has the route's form (JSON, or the DORA page's HTML).
                    do {
                        try authorizeAdmin(routed)
                        return .proceed
                    } catch {
                        return .refuse(finish(head, route: pattern, started: started, handler(routed)))
                    }
                }
            case let unmatched:
                return .refuse(finish(head, route: "unmatched", started: started, Self.refusal(unmatched, head)))
            }
        }
    }

    /// The key of an ingest request, from the cache on the loop, or else looked up on a handler
    /// thread (`decideBlocking`) while the connection reads nothing.
    private func checkKey(_ head: HTTPRequest, pattern: String, started: ContinuousClock.Instant) -> HeadVerdict {
        let authorization = head.headers[first: "Authorization"]
        let refuse: @Sendable (any Error) -> HeadVerdict = { [self] error in
            .refuse(finish(head, route: pattern, started: started, failed(error, head)))
        }
        do {
            let reference = try Self.connectionReference(head.pathParameters)
            if try directory.authenticateFromCache(reference, authorization: authorization) != nil { return .proceed }
            return .decideBlocking { [self] in
                do {
                    _ = try directory.authenticate(reference, authorization: authorization)
                    return .proceed
                } catch {
                    return refuse(error)
                }
            }
        } catch {
            return refuse(error)
        }
    }

    /// The HTTP server for this service: its handlers, head stage, error bodies and refusal log.
    public func makeServer(host: String, port: Int, limits: ServerLimits, eventLoops: Int? = nil) -> HTTPServer {
        HTTPServer(
            host: host, port: port, limits: limits, eventLoops: eventLoops,
            asyncHandler: asyncHandler(), headHandler: headHandler(),
            errorResponse: Self.errorResponse, onRefusal: refusals.observer)
    }
}
