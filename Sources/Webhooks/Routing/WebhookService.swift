import Foundation
import HTTP
import Postgres
import Synchronization

/// The webhook API: routes, authentication, decoding, the database work, and the one place
/// where errors become answers (API.md §9).
public final class WebhookService: Sendable {
    public let pool: PostgresPool
    public let directory: DevLakeConnectionDirectory
    public let store: DevLakeConnectionStore
    public let log: RequestLog
    /// Base of the endpoint URLs in connection answers.
    public let publicURL: String
    /// SHA-256 of LAKEHOOK_ADMIN_TOKEN; nil when HTTP administration is off.
    let adminTokenHash: String?
    public let metrics: Metrics
    /// What the HTTP layer refuses by itself: counted in `metrics`, logged at a bounded rate.
    public let refusals: RefusalLog
    let trustedProxies: TrustedProxies
    /// Where every ingest write runs: the loops' pipelined connections or the pool.
    let executor: IngestExecutor
    /// Tells `lakehook events --follow` that requests were journaled (NOTIFY outside the writes).
    let journalNotifier: JournalNotifier
    /// The longest window a DORA report over HTTP may span (LAKEHOOK_DORA_MAX_WINDOW_DAYS).
    let doraMaxWindowDays: Int
    /// The native sources' mappings (issue 17).
    let sourceMappings = SourceRegistry()

    /// The four prefixes every route lives under (API.md §1).
    public static let prefixes = ["/api/plugins/webhook", "/api/rest/plugins/webhook", "/plugins/webhook", "/rest/plugins/webhook"]
    /// The three ways of naming a connection.
    static let connectionForms = ["/:connectionId", "/connections/:connectionId", "/connections/by-name/:connectionName"]

    public init(
        pool: PostgresPool, log: RequestLog, cacheTTL: Duration = .seconds(4),
        publicURL: String = "http://127.0.0.1:4000", adminToken: String? = nil,
        trustedProxies: TrustedProxies = .none, pipeline: Bool = true,
        pipelineConnectionsPerLoop: Int = Configuration.defaultPipelineConnections,
        doraMaxWindowDays: Int = DoraWindow.defaultMaxDays, journal: Bool = true
    ) {
        self.pool = pool
        self.doraMaxWindowDays = doraMaxWindowDays
        self.trustedProxies = trustedProxies
        self.publicURL = publicURL
        self.adminTokenHash = adminToken.map(APIKey.hash(of:))
        self.store = DevLakeConnectionStore(pool: pool)
        self.directory = DevLakeConnectionDirectory(store: store, ttl: cacheTTL)
        self.log = log
        let metrics = Metrics()
        self.metrics = metrics
        self.refusals = RefusalLog(log: log, metrics: metrics)
        let journalNotifier = JournalNotifier(pool: pool)
        self.journalNotifier = journalNotifier
        self.executor = IngestExecutor(
            pool: pool, metrics: metrics, pipelineConnectionsPerLoop: pipeline ? pipelineConnectionsPerLoop : nil,
            journaling: journal, journalNotifier: journalNotifier)
    }

    /// Every route, by what it is (`Route`): where its work runs, and who may call it.
    func routes() -> RouteTable {
        var table = RouteTable()
        for (pattern, route) in ingestRoutes() {
            table.add("POST", pattern, .ingest(route))
        }
        addAdministration(to: &table)
        addSources(to: &table)
        addDora(to: &table)
        table.add("GET", "/livez", .inline { _ in Answer.success(.object(JSONObject(members: [(key: "status", value: .string("up"))]))) })
        table.add("GET", "/api/openapi.json", .inline { _ in Self.openAPIDocument })
        table.add("GET", "/metrics", .inline { [self] _ in
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            return HTTPResponse(status: 200, headers: headers, body: Array(metrics.render(pool: pool.statistics).utf8))
        })
        table.add("GET", "/readyz", .blocking({ [self] _ in readiness() }, admin: false))
        table.add("GET", "/healthz", .blocking({ [self] _ in readiness() }, admin: false))
        return table
    }

    /// The answer when routing found no handler (405, 404, 400).
    static func refusal(_ match: RouteMatch<Route>, _ request: HTTPRequest) -> HTTPResponse {
        switch match {
        case .methodNotAllowed(let allow):
            return Answer.failure(WebhookError(
                status: 405, message: "\(request.method) is not allowed here; use \(allow.joined(separator: ", "))",
                headers: ["Allow": allow.joined(separator: ", ")]))
        case .badPath(let reason):
            return Answer.failure(.badRequest("bad path: \(reason)"))
        case .notFound, .matched:
            return Answer.failure(.notFound("no route for \(request.method) \(request.path)"))
        }
    }

    /// Records an answer on its way out: the request id, a tagged 500, the metrics, the log line.
    func record(_ request: HTTPRequest, route: String, started: ContinuousClock.Instant, _ answer: HTTPResponse) -> HTTPResponse {
        var response = answer
        let requestId = Self.requestId(from: request.headers[first: "X-Request-ID"])
        if response.status == 500 {
            response = Self.tagInternalError(response, requestId: requestId)
        }
        response.headers.replaceOrAdd(name: "X-Request-ID", value: requestId)
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        metrics.recordRequest(method: request.method, route: route, status: response.status, seconds: seconds)
        let level: Configuration.LogLevel = response.status >= 500 ? .error : .info
        guard log.isEnabled(level) else { return response }
        let client = trustedProxies.clientAddress(
            peer: request.remoteAddress, forwardedFor: request.headers.values(for: "X-Forwarded-For"))
        log.log(level, "request", [
            ("method", .string(String(request.method.prefix(Self.loggedMethodLength)))), ("route", .string(route)), ("path", .string(request.path)),
            ("status", .integer(Int64(response.status))),
            ("duration_ms", .number(RequestLog.milliseconds(seconds))),
            ("connection_id", response.annotations["connection"].map(JSONValue.string) ?? .null),
            ("request_id", .string(requestId)), ("client", .string(client)),
        ])
        return response
    }

    /// A method is a token of any length (up to the request line's 8 KiB): the log keeps this much.
    static let loggedMethodLength = 32

    /// The body of the errors the HTTP layer answers itself (400, 408, 413, 431, 503).
    public static func errorResponse(status: Int, message: String) -> HTTPResponse {
        var error = WebhookError(status: status, message: message)
        if status == 503 { error.headers["Retry-After"] = "1" }
        return Answer.failure(error)
    }

    /// The one place where an error becomes an answer.
    func answer(for error: any Error) -> HTTPResponse {
        switch error {
        case let error as WebhookError:
            return Answer.failure(error)
        case let error as PostgresError where error.isUnavailable:
            metrics.recordDatabaseError(error)
            log.log(.warn, "database unavailable", [("error", .string(error.description))])
            return Answer.failure(.unavailable("the database is unavailable; retry later"))
        case let error as PostgresError where Self.transientStates.contains(error.sqlState ?? ""):
            // Statement timeout, serialization failure, deadlock: nothing was committed; a retry may pass.
            metrics.recordDatabaseError(error)
            log.log(.warn, "database statement failed; answered 503", [("error", .string(error.description))])
            return Answer.failure(.unavailable("the database did not complete the request in time; retry later"))
        case let error as PostgresError where error.sqlState == "42P01":
            metrics.recordDatabaseError(error)
            // A table is missing: the database came up but the migrations have not run yet.
            log.log(.warn, "database not migrated", [("error", .string(error.description))])
            return Answer.failure(.unavailable("the database is not migrated yet; retry later"))
        default:
            if let error = error as? PostgresError { metrics.recordDatabaseError(error) }
            log.log(.error, "internal error", [("error", .string(String(reflecting: error)))])
            return Answer.failure(WebhookError(status: 500, message: "internal error"))
        }
    }

    /// query_canceled (statement_timeout), serialization_failure, deadlock_detected.
    static let transientStates: Set<String> = ["57014", "40001", "40P01"]

    static func tagInternalError(_ response: HTTPResponse, requestId: String) -> HTTPResponse {
        guard response.status == 500 else { return response }
        var tagged = Answer.failure(WebhookError(status: 500, message: "internal error (request \(requestId))"))
        tagged.headers = response.headers
        tagged.annotations = response.annotations
        return tagged
    }

    static func connectionReference(_ parameters: [String: String]) throws -> DevLakeConnectionReference {
        if let name = parameters["connectionName"] { return .name(name) }
        let text = parameters["connectionId"] ?? ""
        guard let reference = DevLakeConnectionReference.parseId(text) else {
            throw WebhookError.badRequest("bad connection id \"\(text)\": it must be a positive whole number")
        }
        return reference
    }

    static func jsonBody(_ bytes: [UInt8]) throws -> JSONObject {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            throw WebhookError.badRequest("the request body is empty; send a JSON object")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw WebhookError.badRequest("malformed JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw WebhookError.badRequest("the request body must be a JSON object")
        }
        return object
    }

    func readiness() -> HTTPResponse {
        do {
            let version = try pool.withConnection { db in try Migrator.currentVersion(db) }
            guard let version, version >= Migrator.latestVersion else {
                return Answer.failure(.unavailable("the database is not migrated; run lakehook migrate"))
            }
            return Answer.success(.object(JSONObject(members: [
                (key: "status", value: .string("ready")), (key: "schemaVersion", value: .number(String(version))),
            ])))
        } catch {
            return Answer.failure(.unavailable("the database is unreachable"))
        }
    }

    /// `GET /api/openapi.json`: the document in Resources/openapi.json, byte for byte.
    static let openAPIDocument: HTTPResponse = {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: 200, headers: headers, body: PackageResources.openapi_json)
    }()

    /// The client's `X-Request-ID` when it is a sane token (1–128 visible ASCII characters),
    /// else a new random one.
    static func requestId(from header: String?) -> String {
        if let header, (1...128).contains(header.utf8.count), header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return header
        }
        // A random prefix per process and a counter: unique without a getrandom(2) per request
        // (which showed in `make bench`).
        let value = requestIdPrefix | (nextRequestNumber.add(1, ordering: .relaxed).newValue & 0xFFFF_FFFF)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    private static let requestIdPrefix: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next() as UInt64) << 32
    }()
    private static let nextRequestNumber = Atomic<UInt64>(0)
}
