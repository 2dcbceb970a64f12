import HTTP
import Postgres

/// `GET {prefix}/connections/:connectionId/events` (and `/connections/by-name/:name/events`),
/// behind the admin token: a connection's journal, as `lakehook events --connection C --json`
/// prints it, in the envelope's `data` (an array, oldest first).
///
///     ?since=1h|30m|7d|2026-05-04T09:00:00Z   ?status=400|4xx   ?route=deployments|issue   ?limit=1…1000 (50)
///
/// A bad parameter is a 400 listing every problem; an unknown connection, a 404.
extension WebhookService {
    /// The most events one answer carries (each may hold a body up to the body limit).
    static let maxEventsPerAnswer = 1_000

    func connectionEvents(_ request: HTTPRequest) throws -> JSONValue {
        let reference = try Self.connectionReference(request.pathParameters)
        var filter = try Self.eventFilter(request.query)
        guard let webhook = try store.find(reference) else { throw WebhookError.notFound("unknown \(reference)") }
        filter.connectionId = webhook.id
        let events = try pool.withConnection { db in try EventStore.recent(filter, bodies: true, on: db) }
        return .array(events.map(\.json))
    }

    /// The filter a query string asks for; every problem in one 400.
    static func eventFilter(_ query: String?) throws -> EventFilter {
        let parameters = try DoraQueryString(query)
        var filter = EventFilter()
        var problems: [String] = []
        if let text = parameters["since"] {
            if let since = EventFilter.since(text) { filter.since = since } else { problems.append("since: \(EventFilter.sinceProblem)") }
        }
        if let text = parameters["status"] {
            if let status = EventFilter.status(text) { filter.status = status } else { problems.append("status: \(EventFilter.statusProblem)") }
        }
        if let text = parameters["route"] {
            if let route = EventFilter.route(text) { filter.route = route } else { problems.append("route: \(EventFilter.routeProblem)") }
        }
        if let text = parameters["limit"] {
            if let limit = EventFilter.limit(text, max: maxEventsPerAnswer) {
                filter.limit = limit
            } else {
                problems.append("limit: \(EventFilter.limitProblem(max: maxEventsPerAnswer))")
            }
        }
        guard problems.isEmpty else { throw WebhookError.badRequest("bad query parameters", causes: problems) }
        return filter
    }
}
