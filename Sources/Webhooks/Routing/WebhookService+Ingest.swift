import HTTP
import Postgres

/// The ingest routes (API.md §3–§5): how each decodes its body into an operation, and how a
/// write becomes an answer.
/// One ingest route: whether it reads a body, and how it turns one into an operation.
struct IngestRoute: Sendable {
    typealias Decode = @Sendable (_ body: JSONObject?, _ connection: WebhookConnection, _ parameters: [String: String]) throws -> any IngestOperation

    var needsBody: Bool
    var decode: Decode
}

extension WebhookService {
    /// Every ingest route (API.md §3–§5) under every prefix and connection form, by pattern.
    func ingestRoutes() -> [(pattern: String, route: IngestRoute)] {
        let routes: [(path: String, route: IngestRoute)] = [
            ("/issues", IngestRoute(needsBody: true) { body, connection, _ in
                try IssueUpsert.decode(body!, for: connection).get()
            }),
            ("/issue/:issueKey/close", IngestRoute(needsBody: false) { _, _, parameters in
                IssueClose(issueKey: parameters["issueKey"] ?? "")
            }),
            ("/issue/:boardKey/:issueKey/close", IngestRoute(needsBody: false) { _, _, parameters in
                IssueClose(issueKey: parameters["issueKey"] ?? "")
            }),
            ("/cicd_tasks", IngestRoute(needsBody: true) { body, connection, _ in
                try TaskUpsert.decode(body!, for: connection).get()
            }),
            ("/cicd_pipeline/:pipelineName/finish", IngestRoute(needsBody: false) { _, _, parameters in
                PipelineFinish(pipelineName: parameters["pipelineName"] ?? "")
            }),
            ("/deployments", IngestRoute(needsBody: true) { body, connection, _ in
                try DeploymentUpsert.decode(body!, for: connection).get()
            }),
            ("/pull_requests", IngestRoute(needsBody: true) { body, connection, _ in
                try PullRequestUpsert.decode(body!, for: connection).get()
            }),
        ]
        var all: [(pattern: String, route: IngestRoute)] = []
        for prefix in Self.prefixes {
            for form in Self.connectionForms {
                for (path, route) in routes { all.append((prefix + form + path, route)) }
            }
        }
        return all
    }

    /// The request's body decoded by its route into an operation; throws the 400 that lists
    /// every problem.
    func decode(_ request: HTTPRequest, _ route: IngestRoute, for connection: WebhookConnection) throws -> any IngestOperation {
        let body = route.needsBody ? try Self.jsonBody(request.body) : nil
        return try route.decode(body, connection, request.pathParameters)
    }

    /// An ingest request run on this thread from start to end (`handler()`).
    func ingestBlocking(_ request: HTTPRequest, _ route: IngestRoute) -> HTTPResponse {
        do {
            let reference = try Self.connectionReference(request.pathParameters)
            let connection = try directory.authenticate(reference, authorization: request.headers[first: "Authorization"])
            let operation = try decode(request, route, for: connection)
            return written(try executor.run(operation, for: connection), connection: connection)
        } catch {
            return failed(error, request)
        }
    }

    /// A 200 for what a write wrote.
    func written(_ result: WriteResult, connection: WebhookConnection) -> HTTPResponse {
        metrics.recordRows(result.rows)
        var response = Answer.success(result.data)
        response.annotations["connection"] = String(connection.id)
        return response
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
