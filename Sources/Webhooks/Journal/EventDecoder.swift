import Postgres

/// Turns a request kept in the journal (or a line to import) back into the operation its HTTP
/// request ran: the route by its journal name, the path parameters, the body through the same
/// `WebhookService.jsonBody` and the route's own decoder, and `arrival` as the request's "now".
/// So a replay writes what the request wrote, and an import what its request would write.
struct EventDecoder: Sendable {
    /// Every ingest route by its journal name (`deployments`, `issue/:issueKey/close`).
    let routes: [String: IngestRoute]

    init(service: WebhookService) {
        var routes: [String: IngestRoute] = [:]
        for (_, route) in service.ingestRoutes() where routes[route.name] == nil { routes[route.name] = route }
        self.routes = routes
    }

    /// The route names, for a message about an unknown one.
    var routeNames: String { routes.keys.sorted().joined(separator: ", ") }

    func route(named name: String) -> IngestRoute? { routes[name] }

    /// The operation, or the refusal its HTTP request would have had (a 400 that lists every
    /// problem). `parsed`: `body` parsed already, when it is.
    func decode(
        _ route: IngestRoute, params: [String: String], body: [UInt8], parsed: JSONValue? = nil, webhook: DevLakeConnection,
        arrival: Timestamp
    ) -> Result<any IngestOperation, WebhookError> {
        do {
            var object: JSONObject?
            if route.needsBody {
                if case .object(let parsed)? = parsed { object = parsed } else { object = try WebhookService.jsonBody(body) }
            }
            return .success(try route.decode(object, webhook, params, arrival))
        } catch let error as WebhookError {
            return .failure(error)
        } catch {
            return .failure(WebhookError(status: 400, message: "cannot decode it: \(error)"))
        }
    }
}

/// One request ready for `EventWriter`: its operation (with its statement built ahead, off the
/// writing thread), or the refusal found before the database.
struct PreparedEvent: Sendable {
    /// How the summary names it: `event 1234`, `line 17`.
    var label: String
    /// The journal's route name, as given (also for a refusal, when known).
    var route: String
    var webhook: DevLakeConnection?
    /// Its journal row, written with its rows (or as its refusal); nil when it is not journaled
    /// (replay, `LAKEHOOK_JOURNAL=off`, a line without a known route or connection).
    var entry: JournalEntry?
    var work: Work

    enum Work: Sendable {
        /// One statement: `sql` and `binds` include the journal's row when `entry` is set.
        case statement(any SingleStatementOperation, sql: String, binds: [String?])
        /// Several statements (a pipeline finish), run under a savepoint.
        case operation(any IngestOperation)
        case refused(WebhookError)
    }

    /// `operation` for `webhook`, with its statement built now.
    static func make(
        label: String, route: String, webhook: DevLakeConnection, entry: JournalEntry?,
        _ decoded: Result<any IngestOperation, WebhookError>
    ) -> PreparedEvent {
        let work: Work
        switch decoded {
        case .failure(let error):
            work = .refused(error)
        case .success(let operation as any SingleStatementOperation):
            let query = operation.query(for: webhook, journal: entry)
            work = .statement(operation, sql: query.sql, binds: query.binds)
        case .success(let operation):
            work = .operation(operation)
        }
        return PreparedEvent(label: label, route: route, webhook: webhook, entry: entry, work: work)
    }

    /// Refused before the database; journaled when `entry` is given.
    static func refused(label: String, route: String, entry: JournalEntry? = nil, _ error: WebhookError) -> PreparedEvent {
        PreparedEvent(label: label, route: route, webhook: nil, entry: entry, work: .refused(error))
    }
}

/// Webhooks (`DevLakeConnection`s) by id, each looked up once (`nil`: there is none).
final class WebhookCache {
    private let db: PostgresConnection
    private var known: [Int64: DevLakeConnection?] = [:]

    init(db: PostgresConnection) { self.db = db }

    func webhook(_ id: Int64) throws -> DevLakeConnection? {
        if let found = known[id] { return found }
        let found = try DevLakeConnectionStore.find(.id(id), db)
        known[id] = found
        return found
    }
}
