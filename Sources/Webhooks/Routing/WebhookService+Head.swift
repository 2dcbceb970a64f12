import HTTP

/// The head stage (`HTTPServer`'s head handler): a request with a body is routed and its key or
/// admin token checked from the head alone, so a request that will be refused (401, 403, 404,
/// 405, 400 for a bad connection id) is answered before any of its body is read or buffered,
/// and without `100 Continue`. An ingest request that passes carries its route and its
/// authenticated connection to `asyncHandler` (`IngestHead`), which neither routes nor
/// authenticates it again; any other request is routed again there.
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
                case .ingest(let ingest):
                    return checkKey(routed, ingest, pattern: pattern, started: started)
                case .inline, .blocking(_, admin: false):
                    // Also the native sources' routes (issue 17): their signature needs the body.
                    return .proceed
                case .blocking(let handler, admin: true):
                    // Administration and DORA: the token check needs no database. When it fails,
                    // the route's own handler answers (it refuses before reading anything), so
                    // the refusal has the route's form (JSON, or the DORA page's HTML).
                    do {
                        try authorizeAdmin(routed)
                        return .proceed
                    } catch {
                        return .refuse(record(head, route: pattern, started: started, handler(routed)))
                    }
                }
            case let unmatched:
                return .refuse(record(head, route: "unmatched", started: started, Self.refusal(unmatched, head)))
            }
        }
    }

    /// The key of an ingest request, from the cache on the loop, or else looked up on a handler
    /// thread (`decideBlocking`) while the connection reads nothing.
    private func checkKey(_ head: HTTPRequest, _ route: IngestRoute, pattern: String, started: ContinuousClock.Instant) -> HeadVerdict {
        let authorization = head.headers[first: "Authorization"]
        let refuse: @Sendable (any Error) -> HeadVerdict = { [self] error in
            metrics.recordUnauthenticated()
            return .refuse(record(head, route: pattern, started: started, failed(error, head)))
        }
        do {
            let reference = try Self.connectionReference(head.pathParameters)
            let carry: @Sendable (DevLakeConnection) -> HeadVerdict = { webhook in
                HeadVerdict.proceedCarrying(IngestHead(
                    route: route, pattern: pattern, parameters: head.pathParameters, webhook: webhook))
            }
            if let webhook = try directory.authenticateFromCache(reference, authorization: authorization) {
                return carry(webhook)
            }
            return .decideBlocking { [self] in
                do {
                    return carry(try directory.authenticate(reference, authorization: authorization))
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
