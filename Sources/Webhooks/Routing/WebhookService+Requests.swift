import HTTP
import Postgres

/// The application on the HTTP server's event loops (what `lakehook serve` runs): every request
/// goes route → authenticate → decode → execute → answer → record, and the route table
/// (`Route`) says where each step runs.
///
/// An ingest request is handled on the loop that read it: its key checked from the cache,
/// its body decoded, its statement handed to the `IngestExecutor`, which answers on the loop
/// when the statement went through the loop's pipeline. Only what blocks leaves the loop: a key
/// not cached yet is looked up on a handler thread, and the request goes on back on the loop;
/// administration, DORA and readiness run on handler threads.
extension WebhookService {
    public func asyncHandler() -> HTTPAsyncHandler {
        let table = routes()
        return { [self] request, responder in
            let started = ContinuousClock.now
            let route: Route, parameters: [String: String], pattern: String
            var authenticated: WebhookConnection?
            if let head = request.headDecision as? IngestHead {
                // The head stage routed this request and checked its key from the cache.
                (route, parameters, pattern, authenticated) = (.ingest(head.route), head.parameters, head.pattern, head.connection)
            } else {
                switch table.route(method: request.method, path: request.path) {
                case .matched(let matched, let matchedParameters, let matchedPattern):
                    (route, parameters, pattern) = (matched, matchedParameters, matchedPattern)
                case let unmatched:
                    responder.respond(finish(request, route: "unmatched", started: started, Self.refusal(unmatched, request)))
                    return
                }
            }
            var routed = request
            routed.pathParameters = parameters
            let record: @Sendable (HTTPResponse) -> HTTPResponse = { [self] response in
                finish(request, route: pattern, started: started, response)
            }
            switch route {
            case .ingest(let ingest):
                self.ingest(routed, ingest, authenticated: authenticated, responder: responder, record: record)
            case .inline(let handler):
                responder.respond(record(handler(routed)))
            case .blocking(let handler, _):
                let request = routed
                responder.offload { record(handler(request)) }
            }
        }
    }

    /// An ingest request, on its loop: authenticate (unless the head stage did), decode,
    /// execute, answer.
    private func ingest(
        _ request: HTTPRequest, _ route: IngestRoute, authenticated connection: WebhookConnection?,
        responder: HTTPResponder, record: @escaping @Sendable (HTTPResponse) -> HTTPResponse
    ) {
        let proceed: @Sendable (Result<WebhookConnection, any Error>) -> Void = { [self] authenticated in
            let connection: WebhookConnection
            let operation: any IngestOperation
            do {
                connection = try authenticated.get()
                operation = try decode(request, route, for: connection)
            } catch {
                responder.respond(record(failed(error, request)))
                return
            }
            executor.execute(operation, for: connection, responder: responder) { [self] outcome in
                switch outcome {
                case .success(let result): record(written(result, connection: connection))
                case .failure(let error): record(failed(error, request))
                }
            }
        }
        if let connection {
            proceed(.success(connection))
        } else {
            authenticate(request, responder: responder, then: proceed)
        }
    }

    /// The connection the path names, with its key checked: from the cache at once, on the
    /// loop; else looked up on a handler thread, and `next` runs back on the loop.
    private func authenticate(
        _ request: HTTPRequest, responder: HTTPResponder,
        then next: @escaping @Sendable (Result<WebhookConnection, any Error>) -> Void
    ) {
        let authorization = request.headers[first: "Authorization"]
        let reference: ConnectionReference
        do {
            reference = try Self.connectionReference(request.pathParameters)
            if let cached = try directory.authenticateFromCache(reference, authorization: authorization) {
                next(.success(cached))
                return
            }
        } catch {
            next(.failure(error))
            return
        }
        responder.offload({ [directory] in
            Result { try directory.authenticate(reference, authorization: authorization) }
        }, then: next)
    }
}

/// What the head stage hands on for an ingest request whose key it checked from the cache: its
/// route and the authenticated connection (`HeadVerdict.proceedCarrying`), so the complete
/// request is neither routed nor authenticated again.
struct IngestHead: Sendable {
    var route: IngestRoute
    var pattern: String
    var parameters: [String: String]
    var connection: WebhookConnection
}
