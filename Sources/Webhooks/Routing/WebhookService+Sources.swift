import Foundation
import HTTP
import Postgres

/// The native sources' routes (issue 17): `{prefix}/sources/<kind>/:connectionId`. A request is
/// checked against its connection's signing secret over the raw body before anything is
/// parsed; a refused signature writes nothing and is not journaled. A signed event is mapped
/// (`SourceRegistry`) and its writes run as an ingest request's, with its journal row.
///
/// These routes are `blocking` (a handler thread; the head stage lets them proceed, since the
/// signature needs the body): the connection is looked up, the signature checked and the writes
/// run through `IngestExecutor.run` there.
extension WebhookService {
    /// The native sources, in the order their routes are listed.
    static let sourceKinds: [SourceKind] = [.github, .gitlab, .pagerduty, .cdevents]

    func addSources(to table: inout RouteTable) {
        for prefix in Self.prefixes {
            for kind in Self.sourceKinds {
                table.add("POST", "\(prefix)/sources/\(kind.rawValue)/:connectionId", .blocking({ [self] request in
                    sourceRequest(request, kind)
                }, admin: false))
            }
        }
    }

    /// One source event: connection, signature, body, mapping, then the writes (or 202/200).
    func sourceRequest(_ request: HTTPRequest, _ kind: SourceKind, now: Date = Date()) -> HTTPResponse {
        let started = ContinuousClock.now
        let arrival = Timestamp.now()
        let webhook: DevLakeConnection
        do {
            webhook = try signedConnection(request, kind, now: now)
        } catch {
            metrics.recordUnauthenticated()
            return failed(error, request)
        }
        var entry = JournalEntry(
            receivedAt: arrival, connectionId: webhook.id, route: "sources/\(kind.rawValue)", params: [:],
            requestId: Self.requestId(from: request.headers[first: "X-Request-ID"]),
            clientAddress: trustedProxies.clientAddress(peer: request.remoteAddress, forwardedFor: request.headers.values(for: "X-Forwarded-For")),
            userAgent: request.headers[first: "User-Agent"] ?? "", contentType: request.headers[first: "Content-Type"] ?? "",
            body: request.body, idempotencyKey: nil, started: started)
        do {
            let parsed = try Self.jsonBody(request.body)
            // A CloudEvent in binary mode (ce-* headers) or structured mode: the full CDEvent.
            let body = kind == .cdevents ? CDEventsMapping.structured(headers: request.headers, body: parsed) : parsed
            entry.params = ["event": Self.eventType(kind, request.headers, body)]
            entry.idempotencyKey = Self.deliveryKey(kind, request.headers, body)
            let outcome: SourceOutcome
            if let mapping = sourceMappings.mapping(for: kind) {
                let event = SourceEvent(headers: request.headers, body: body, arrival: arrival)
                outcome = try mapping.map(event, for: webhook, options: webhook.sourceOptions)
            } else {
                outcome = .ignored("Lakehook maps no \(kind.rawValue) events yet")
            }
            switch outcome {
            case .ping:
                var response = Answer.success(.object(["ping": .bool(true)]))
                response.annotations["connection"] = String(webhook.id)
                return response
            case .ignored(let reason):
                return ignoredAnswer(reason, entry, webhook)
            case .write(let operations):
                let operation: any IngestOperation = operations.count == 1 ? operations[0] : CompositeOperation(operations: operations)
                let outcome = try executor.run(IngestRequest(
                    operation: operation, webhook: webhook, entry: entry, idempotencyKey: entry.idempotencyKey))
                if executor.journaling {
                    metrics.recordJournal(Self.journalOutcome(outcome))
                    journalNotifier.poke()
                }
                return answer(outcome, webhook: webhook)
            }
        } catch let refusal as WebhookError where refusal.status == 403 {
            // The only 403 a write gives: a task for a pipeline that is finished already (a job
            // delivered after its run completed, a redelivered `completed`). A sender retries a
            // 4xx and GitLab disables a hook that keeps failing: it is an event with nothing left
            // to write, answered 202 and journaled `ignored` as an unmapped one.
            return ignoredAnswer(refusal.message, entry, webhook)
        } catch let refusal as WebhookError where (400..<500).contains(refusal.status) {
            if executor.journaling {
                let written = (try? pool.withConnection { db in try db.query(JournalEntry.insertSQL, entry.binds(refusedWith: refusal)) }) != nil
                metrics.recordJournal(written ? "refused" : "failed")
                if written { journalNotifier.poke() }
            }
            return failed(refusal, request)
        } catch {
            return failed(error, request)
        }
    }

    /// 202 for an event with nothing to write, journaled `ignored` with the reason (a journal
    /// row that cannot be written is counted as failed; the answer is the same).
    private func ignoredAnswer(_ reason: String, _ entry: JournalEntry, _ webhook: DevLakeConnection) -> HTTPResponse {
        if executor.journaling {
            let binds = entry.binds + ["202", JournalEntry.clean(reason, 4096), nil, "ignored"]
            let written = (try? pool.withConnection { db in try db.query(JournalEntry.insertSQL, binds) }) != nil
            metrics.recordJournal(written ? "ignored" : "failed")
            if written { journalNotifier.poke() }
        }
        var response = Answer.success(.object(["ignored": .string(reason)]))
        response.status = 202
        response.annotations["connection"] = String(webhook.id)
        return response
    }

    /// The connection the path names, if it is a connection of `kind` and the request is signed
    /// with its secret: else 404 (no such connection), 403 (another source's), 401 (signature).
    func signedConnection(_ request: HTTPRequest, _ kind: SourceKind, now: Date) throws -> DevLakeConnection {
        let reference = try Self.connectionReference(request.pathParameters)
        guard let webhook = try directory.lookup(reference) else {
            throw WebhookError.notFound("no \(kind.rawValue) connection \(request.pathParameters["connectionId"] ?? "")")
        }
        guard webhook.source == kind else {
            throw WebhookError(
                status: 403,
                message: "connection \(webhook.id) is not a \(kind.rawValue) connection; create one with lakehook connections create NAME --source \(kind.rawValue)")
        }
        let seconds = now.timeIntervalSince1970
        try SourceSignature.verify(
            kind, headers: request.headers, body: request.body, secrets: webhook.acceptedSecrets(now: seconds), now: Int64(seconds))
        return webhook
    }

    /// What the journal names the event: GitHub's `X-GitHub-Event`, GitLab's `X-Gitlab-Event`,
    /// PagerDuty's `event.event_type`, CDEvents' `type` (or `ce-type` in binary mode).
    static func eventType(_ kind: SourceKind, _ headers: HTTPHeaders, _ body: JSONObject) -> String {
        let text: String?
        switch kind {
        case .github: text = headers[first: "X-GitHub-Event"]
        case .gitlab: text = headers[first: "X-Gitlab-Event"] ?? body["object_kind"].flatMap(Self.string)
        case .pagerduty:
            if case .object(let event)? = body["event"] { text = event["event_type"].flatMap(Self.string) } else { text = nil }
        case .cdevents:
            if case .object(let context)? = body["context"] { text = context["type"].flatMap(Self.string) } else { text = nil }
        case .devlake: text = nil
        }
        return JournalEntry.clean(text ?? "", 255)
    }

    /// The sender's delivery id, as the idempotency key (a retry is answered once): GitHub's
    /// `X-GitHub-Delivery`, GitLab's `webhook-id` or `Idempotency-Key`, PagerDuty's `event.id`,
    /// CDEvents' `webhook-id`. Nil when absent or not 1–255 visible ASCII characters.
    static func deliveryKey(_ kind: SourceKind, _ headers: HTTPHeaders, _ body: JSONObject) -> String? {
        let key: String?
        switch kind {
        case .github: key = headers[first: "X-GitHub-Delivery"]
        case .gitlab: key = headers[first: "webhook-id"] ?? headers[first: "Idempotency-Key"]
        case .pagerduty:
            if case .object(let event)? = body["event"] { key = event["id"].flatMap(Self.string) } else { key = nil }
        case .cdevents: key = headers[first: "webhook-id"]
        case .devlake: key = nil
        }
        guard let key, (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return key
    }

    private static func string(_ value: JSONValue) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }
}
