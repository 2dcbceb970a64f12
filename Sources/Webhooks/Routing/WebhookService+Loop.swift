import HTTP
import Postgres

/// The application on the HTTP server's event loops (what `lakehook serve` runs).
///
/// An ingest request whose connection is in the key cache and whose write is one statement is
/// handled entirely on the loop that read it: decoded there, sent through that loop's database
/// pipeline, answered when the statement's result arrives — no thread changes hands. Everything
/// else (a key not cached yet, a pipeline finish, administration, DORA, readiness) is offloaded
/// to a handler thread and runs blocking on the pool, exactly as `handler()` does.
extension WebhookService {
    public func asyncHandler() -> HTTPAsyncHandler {
        let router = router()
        let table = Dictionary(ingestRoutes().map { ($0.pattern, $0.route) }, uniquingKeysWith: { first, _ in first })
        return { [self] request, responder in
            let started = ContinuousClock.now
            switch router.route(method: request.method, path: request.path) {
            case .matched(let handler, let parameters, let pattern):
                var withParameters = request
                withParameters.pathParameters = parameters
                let routed = withParameters
                if let route = table[pattern] {
                    ingestOnLoop(routed, route: route, pattern: pattern, started: started, responder: responder)
                } else if Self.nonBlockingRoutes.contains(pattern) {
                    responder.respond(finish(request, route: pattern, started: started, handler(routed)))
                } else {
                    responder.offload { self.finish(request, route: pattern, started: started, handler(routed)) }
                }
            case let unmatched:
                responder.respond(finish(request, route: "unmatched", started: started, Self.refusal(unmatched, request)))
            }
        }
    }

    /// lock_not_available: `lock_timeout` expired (see `LoopPipeline.lockTimeout`).
    static let lockNotAvailable = "55P03"

    /// Routes whose handlers never wait on the database.
    static let nonBlockingRoutes: Set<String> = ["/livez", "/api/openapi.json", "/metrics"]

    private func ingestOnLoop(
        _ request: HTTPRequest, route: IngestRoute, pattern: String, started: ContinuousClock.Instant,
        responder: HTTPResponder
    ) {
        let connection: WebhookConnection
        let operation: any IngestOperation
        do {
            let reference = try Self.connectionReference(request.pathParameters)
            guard let cached = try directory.authenticateFromCache(
                reference, authorization: request.headers[first: "Authorization"])
            else {
                // Not cached: the lookup blocks, so the whole request goes to a handler thread.
                let blocking = ingest(route)
                responder.offload { self.finish(request, route: pattern, started: started, blocking(request)) }
                return
            }
            connection = cached
            let body = route.needsBody ? try Self.jsonBody(request.body) : nil
            operation = try route.decode(body, connection, request.pathParameters)
        } catch {
            responder.respond(finish(request, route: pattern, started: started, failed(error, request)))
            return
        }
        let runBlocking = {
            self.metrics.recordWrite(pipelined: false)
            responder.offload {
                let response: HTTPResponse
                do {
                    response = self.written(try self.run(operation, for: connection), connection: connection)
                } catch {
                    response = self.failed(error, request)
                }
                return self.finish(request, route: pattern, started: started, response)
            }
        }
        guard let statement = operation as? any SingleStatementOperation, let pipeline = pipeline(for: responder.eventLoop)
        else {
            runBlocking()
            return
        }
        let submitted = pipeline.submit(statement.sql, statement.binds(for: connection)) { [self] result in
            if case .failure(let error) = result, error.sqlState == Self.lockNotAvailable || statement.runsAgain(after: error) {
                // It waited past the pipeline's lock_timeout, or met a concurrent write it must see,
                // and did nothing: run it again on the pool.
                runBlocking()
                return
            }
            let response: HTTPResponse
            do {
                response = written(try statement.answer(result.get(), for: connection), connection: connection)
            } catch {
                response = failed(error, request)
            }
            responder.respond(finish(request, route: pattern, started: started, response))
        }
        if submitted {
            metrics.recordWrite(pipelined: true)
        } else {
            runBlocking()
        }
    }

    /// The loop's pipeline, made on first use; nil when pipelining is off.
    private func pipeline(for loop: EventLoop) -> LoopPipeline? {
        guard usesPipeline else { return nil }
        return loop.attachment { LoopPipeline(loop: loop, config: pool.config, maxConnections: pipelineConnectionsPerLoop) }
    }
}
