import HTTP
import Postgres

/// The ingest routes (API.md §3–§5): how each decodes its body into an operation, and how a
/// write becomes an answer.
/// One ingest route: whether it reads a body, and how it turns one into an operation.
struct IngestRoute: Sendable {
    /// `arrival`: when the request came in, "now" for whatever the write dates itself.
    typealias Decode = @Sendable (
        _ body: JSONObject?, _ webhook: DevLakeConnection, _ parameters: [String: String], _ arrival: Timestamp
    ) throws -> any IngestOperation

    /// The route below the connection, as the journal names it (`deployments`, `issue/:issueKey/close`).
    var name = ""
    var needsBody: Bool
    var decode: Decode

    init(needsBody: Bool, decode: @escaping Decode) {
        self.needsBody = needsBody
        self.decode = decode
    }
}

extension WebhookService {
    /// Every ingest route (API.md §3–§5) under every prefix and connection form, by pattern.
    func ingestRoutes() -> [(pattern: String, route: IngestRoute)] {
        let routes: [(path: String, route: IngestRoute)] = [
            ("/issues", IngestRoute(needsBody: true) { body, webhook, _, arrival in
                try IssueUpsert.decode(body!, for: webhook, arrival: arrival).get()
            }),
            ("/issue/:issueKey/close", IngestRoute(needsBody: false) { _, _, parameters, arrival in
                IssueClose(issueKey: parameters["issueKey"] ?? "", arrival: arrival)
            }),
            ("/issue/:boardKey/:issueKey/close", IngestRoute(needsBody: false) { _, _, parameters, arrival in
                IssueClose(issueKey: parameters["issueKey"] ?? "", arrival: arrival)
            }),
            ("/cicd_tasks", IngestRoute(needsBody: true) { body, webhook, _, arrival in
                try TaskUpsert.decode(body!, for: webhook, arrival: arrival).get()
            }),
            ("/cicd_pipeline/:pipelineName/finish", IngestRoute(needsBody: false) { _, _, parameters, arrival in
                PipelineFinish(pipelineName: parameters["pipelineName"] ?? "", arrival: arrival)
            }),
            ("/deployments", IngestRoute(needsBody: true) { body, webhook, _, arrival in
                try DeploymentUpsert.decode(body!, for: webhook, arrival: arrival).get()
            }),
            ("/pull_requests", IngestRoute(needsBody: true) { body, webhook, _, arrival in
                try PullRequestUpsert.decode(body!, for: webhook, arrival: arrival).get()
            }),
        ]
        var all: [(pattern: String, route: IngestRoute)] = []
        for (path, route) in routes {
            var named = route
            named.name = String(path.dropFirst())
            for prefix in Self.prefixes {
                for form in Self.connectionForms { all.append((prefix + form + path, named)) }
            }
        }
        return all
    }

    /// An ingest route by its journal name (replay, import).
    func ingestRoute(named name: String) -> IngestRoute? {
        ingestRoutes().first { $0.route.name == name }?.route
    }

    /// The path parameters below the connection (what the journal keeps).
    static func routeParameters(_ parameters: [String: String]) -> [String: String] {
        parameters.filter { $0.key != "connectionId" && $0.key != "connectionName" }
    }

    /// The request's body decoded by its route into an operation; throws the 400 that lists
    /// every problem.
    func decode(
        _ request: HTTPRequest, _ route: IngestRoute, for webhook: DevLakeConnection, arrival: Timestamp
    ) throws -> any IngestOperation {
        let body = route.needsBody ? try Self.jsonBody(request.body) : nil
        return try route.decode(body, webhook, request.pathParameters, arrival)
    }

    /// A 200 for what a write wrote, what a dry run would have written, or the first answer
    /// to the same idempotency key (with `Idempotent-Replayed: true`, as Stripe and others send).
    func answer(_ outcome: IngestOutcome, webhook: DevLakeConnection) -> HTTPResponse {
        var response: HTTPResponse
        switch outcome {
        case .written(let result):
            metrics.recordRows(result.rows)
            response = Answer.success(result.data)
        case .replayed(let data):
            response = Answer.success(data)
            response.headers.replaceOrAdd(name: "Idempotent-Replayed", value: "true")
        case .dryRun(let result):
            let rows = JSONObject(members: result.rows.sorted { $0.key < $1.key }.map { (key: $0.key, value: .number(String($0.value))) })
            response = Answer.success(.object(JSONObject(members: [
                (key: "dryRun", value: .bool(true)), (key: "wouldWrite", value: result.data), (key: "rows", value: .object(rows)),
            ])))
        }
        response.annotations["connection"] = String(webhook.id)
        return response
    }

    /// What the journal keeps of a request.
    func journalEntry(
        _ request: HTTPRequest, _ route: IngestRoute, webhook: DevLakeConnection, arrival: Timestamp,
        started: ContinuousClock.Instant
    ) -> JournalEntry {
        JournalEntry(
            receivedAt: arrival, connectionId: webhook.id, route: route.name,
            params: Self.routeParameters(request.pathParameters),
            requestId: Self.requestId(from: request.headers[first: "X-Request-ID"]),
            clientAddress: trustedProxies.clientAddress(peer: request.remoteAddress, forwardedFor: request.headers.values(for: "X-Forwarded-For")),
            userAgent: request.headers[first: "User-Agent"] ?? "", contentType: request.headers[first: "Content-Type"] ?? "",
            body: request.body, idempotencyKey: nil, started: started)
    }

    /// The answer to an ingest request that failed, tagged with the connection it named.
    func failed(_ error: any Error, _ request: HTTPRequest) -> HTTPResponse {
        var response = answer(for: error)
        if let reference = try? Self.connectionReference(request.pathParameters), case .id(let id) = reference {
            response.annotations["connection"] = String(id)
        }
        return response
    }

}
