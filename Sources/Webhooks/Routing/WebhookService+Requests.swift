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
            var authenticated: DevLakeConnection?
            if let head = request.headDecision as? IngestHead {
                // The head stage routed this request and checked its key from the cache.
                (route, parameters, pattern, authenticated) = (.ingest(head.route), head.parameters, head.pattern, head.webhook)
            } else {
                switch table.route(method: request.method, path: request.path) {
                case .matched(let matched, let matchedParameters, let matchedPattern):
                    (route, parameters, pattern) = (matched, matchedParameters, matchedPattern)
                case let unmatched:
                    responder.respond(self.record(request, route: "unmatched", started: started, Self.refusal(unmatched, request)))
                    return
                }
            }
            var routed = request
            routed.pathParameters = parameters
            // One request id for the answer, the log line and the journal.
            routed.headers.replaceOrAdd(name: "X-Request-ID", value: Self.requestId(from: request.headers[first: "X-Request-ID"]))
            let record: @Sendable (HTTPResponse) -> HTTPResponse = { [self, routed] response in
                self.record(routed, route: pattern, started: started, response)
            }
            switch route {
            case .ingest(let ingest):
                self.ingest(routed, ingest, authenticated: authenticated, started: started, responder: responder, record: record)
            case .inline(let handler):
                responder.respond(record(handler(routed)))
            case .blocking(let handler, _):
                let request = routed
                responder.offload { record(handler(request)) }
            }
        }
    }

    /// An ingest request, on its loop: authenticate (unless the head stage did), decode,
    /// execute, answer. Once authenticated, the request is journaled: with its rows when it is
    /// accepted, on its own when it is refused.
    private func ingest(
        _ request: HTTPRequest, _ route: IngestRoute, authenticated webhook: DevLakeConnection?,
        started: ContinuousClock.Instant, responder: HTTPResponder, record: @escaping @Sendable (HTTPResponse) -> HTTPResponse
    ) {
        let arrival = Timestamp.now()
        let proceed: @Sendable (Result<DevLakeConnection, any Error>) -> Void = { [self] authenticated in
            let webhook: DevLakeConnection
            do {
                webhook = try authenticated.get()
            } catch {
                metrics.recordUnauthenticated()
                responder.respond(record(failed(error, request)))
                return
            }
            var entry = journalEntry(request, route, webhook: webhook, arrival: arrival, started: started)
            let prepared: IngestRequest
            do {
                entry.idempotencyKey = try Idempotency.key(in: request.headers)
                let operation = try decode(request, route, for: webhook, arrival: arrival)
                prepared = IngestRequest(
                    operation: operation, webhook: webhook, entry: entry, idempotencyKey: entry.idempotencyKey,
                    dryRun: Self.isDryRun(request.query))
            } catch {
                refuse(error, request, entry, dryRun: Self.isDryRun(request.query), responder: responder, record: record)
                return
            }
            executor.execute(prepared, responder: responder) { [self] outcome in
                switch outcome {
                case .success(let outcome):
                    if executor.journaling, !prepared.dryRun {
                        metrics.recordJournal(Self.journalOutcome(outcome))
                        journalNotifier.poke()
                    }
                    responder.respond(record(answer(outcome, webhook: webhook)))
                case .failure(let error):
                    refuse(error, request, prepared.entry, dryRun: prepared.dryRun, responder: responder, record: record)
                }
            }
        }
        if let webhook {
            proceed(.success(webhook))
        } else {
            authenticate(request, responder: responder, then: proceed)
        }
    }

    /// Answers an authenticated request that failed; a refusal (4xx) is journaled first, unless
    /// it was a dry run.
    private func refuse(
        _ error: any Error, _ request: HTTPRequest, _ entry: JournalEntry, dryRun: Bool,
        responder: HTTPResponder, record: @escaping @Sendable (HTTPResponse) -> HTTPResponse
    ) {
        let response = failed(error, request)
        guard let refusal = error as? WebhookError, (400..<500).contains(refusal.status), !dryRun else {
            responder.respond(record(response))
            return
        }
        executor.journal(refusal: refusal, entry, responder: responder) { responder.respond(record(response)) }
    }

    /// `?dryRun=true` (or `1`).
    static func isDryRun(_ query: String?) -> Bool {
        guard let query else { return false }
        return query.split(separator: "&").contains { $0 == "dryRun=true" || $0 == "dryRun=1" || $0 == "dryRun" }
    }

    /// The journal outcome of an answered request (a stale write answers `applied: false`).
    static func journalOutcome(_ outcome: IngestOutcome) -> String {
        switch outcome {
        case .written(let result): result.stale == nil ? "applied" : "stale"
        case .replayed: "duplicate"
        case .dryRun: "applied"  // not journaled (see the caller)
        }
    }

    /// The connection the path names, with its key checked: from the cache at once, on the
    /// loop; else looked up on a handler thread, and `next` runs back on the loop.
    private func authenticate(
        _ request: HTTPRequest, responder: HTTPResponder,
        then next: @escaping @Sendable (Result<DevLakeConnection, any Error>) -> Void
    ) {
        let authorization = request.headers[first: "Authorization"]
        let reference: DevLakeConnectionReference
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
    var webhook: DevLakeConnection
}
