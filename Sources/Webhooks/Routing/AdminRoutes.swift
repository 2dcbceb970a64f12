import HTTP
import Postgres

/// Connection administration over HTTP (API.md §1), under every prefix, guarded by
/// `LAKEHOOK_ADMIN_TOKEN` (Bearer). Without the token configured it answers 403: the CLI is the way.
extension WebhookService {
    func addAdministration(to router: inout RouteTable) {
        for prefix in Self.prefixes {
            let connections = prefix + "/connections"
            router.add("POST", connections, admin { [self] request in
                let body = try Self.jsonBody(request.body)
                var r = FieldReader(body)
                let name = r.string("name", required: true)
                let project = r.string("project")
                let timeZone = r.string("timeZone")
                let sourceName = r.string("source")
                let options = Self.sourceOptionsChange(&r)
                var causes = r.causes
                let source = sourceName.map { SourceKind(rawValue: $0.lowercased()) } ?? .devlake
                if source == nil {
                    causes.append("source: must be one of \(SourceKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                guard causes.isEmpty, let name, let source else { throw WebhookError.invalidBody(causes) }
                let (webhook, key) = try store.create(
                    name: name, project: project, timeZone: timeZone, source: source, options: options)
                if source != .devlake { return Endpoints.describe(webhook, publicURL: publicURL, key: nil, secret: true) }
                return Endpoints.describe(webhook, publicURL: publicURL, key: key)
            })
            router.add("GET", connections, admin { [self] _ in
                .array(try store.list().map { Endpoints.describe($0, publicURL: publicURL, key: nil) })
            })
            for form in ["/:connectionId", "/by-name/:connectionName"] {
                let one = connections + form
                router.add("GET", one, admin { [self] request in
                    let reference = try Self.connectionReference(request.pathParameters)
                    guard let webhook = try store.find(reference) else { throw WebhookError.notFound("unknown \(reference)") }
                    return Endpoints.describe(webhook, publicURL: publicURL, key: nil)
                })
                router.add("PATCH", one, admin { [self] request in
                    let reference = try Self.connectionReference(request.pathParameters)
                    let body = try Self.jsonBody(request.body)
                    var r = FieldReader(body)
                    let name = r.string("name")
                    let project: String?? = body.members.contains { FieldReader.fold($0.key) == "project" }
                        ? .some(r.string("project")) : .none
                    let timeZone = r.string("timeZone")
                    let options = Self.sourceOptionsChange(&r)
                    guard r.causes.isEmpty else { throw WebhookError.invalidBody(r.causes) }
                    let webhook = try store.update(reference, name: name, project: project, timeZone: timeZone, options: options)
                    directory.forget()
                    return Endpoints.describe(webhook, publicURL: publicURL, key: nil)
                })
                router.add("DELETE", one, admin { [self] request in
                    let reference = try Self.connectionReference(request.pathParameters)
                    let purge = Self.queryFlag("purge", in: request.query)
                    let webhook = try store.delete(reference, purge: purge)
                    directory.forget()
                    return .object(["id": .integer(webhook.id), "name": .string(webhook.name), "purged": .bool(purge)])
                })
                router.add("GET", one + "/events", admin(withoutToken: "lakehook events") { [self] request in try connectionEvents(request) })
                router.add("POST", one + "/api-key", admin { [self] request in
                    let reference = try Self.connectionReference(request.pathParameters)
                    let (webhook, key) = try store.rotateKey(reference)
                    directory.forget()
                    return Endpoints.describe(webhook, publicURL: publicURL, key: key)
                })
                router.add("POST", one + "/rotate-secret", admin { [self] request in
                    let reference = try Self.connectionReference(request.pathParameters)
                    var grace = SourceGrace.defaultSeconds
                    var secret: String?
                    if !request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
                        let body = try Self.jsonBody(request.body)
                        var r = FieldReader(body)
                        if let text = r.string("grace") {
                            guard let seconds = SourceGrace.seconds(text) else {
                                throw WebhookError.invalidBody(["grace: must be a duration such as 24h, 30m, 90s or 2d"])
                            }
                            grace = seconds
                        }
                        secret = r.string("secret")
                    }
                    let webhook = try store.rotateSecret(reference, graceSeconds: grace, secret: secret)
                    directory.forget()
                    return Endpoints.describe(webhook, publicURL: publicURL, key: nil, secret: true)
                })
            }
        }
    }

    /// A source connection's options in a POST or PATCH body: `environments` (an object, name →
    /// PRODUCTION|STAGING|TESTING|DEVELOPMENT; `null` for a name removes it) and `incidentLabel`.
    /// A value that is not a string or null is a cause here; the store checks the rest.
    static func sourceOptionsChange(_ r: inout FieldReader) -> SourceOptionsChange {
        var change = SourceOptionsChange(incidentLabel: r.string("incidentLabel"))
        guard let value = r.value("environments") else { return change }
        guard case .object(let names) = value else {
            r.fail("environments", "must be an object of name → PRODUCTION, STAGING, TESTING or DEVELOPMENT")
            return change
        }
        for (name, environment) in names.members {
            switch environment {
            case .string(let text): change.environments[name] = text
            case .null: change.environments[name] = .some(nil)
            default: r.fail("environments", "\(name): must be PRODUCTION, STAGING, TESTING, DEVELOPMENT or null")
            }
        }
        return change
    }

    /// Wraps an administration handler: token check, then the one error-to-answer mapping.
    /// `withoutToken` names the command that does the same without the token.
    func admin(
        withoutToken: String = "lakehook connections", _ body: @escaping @Sendable (HTTPRequest) throws -> JSONValue
    ) -> HTTPHandler {
        { [self] request in
            do {
                try authorizeAdmin(request, withoutToken: withoutToken)
                return Answer.success(try body(request))
            } catch {
                return answer(for: error)
            }
        }
    }

    /// Checks the admin token. Administration off (no LAKEHOOK_ADMIN_TOKEN): 403 naming the
    /// variable and the command (`withoutToken`) that works without it.
    func authorizeAdmin(_ request: HTTPRequest, withoutToken: String = "lakehook connections") throws {
        guard let adminTokenHash else {
            throw WebhookError(
                status: 403,
                message: "administration over HTTP is off: set LAKEHOOK_ADMIN_TOKEN, or use \(withoutToken), which works without it")
        }
        guard let token = Credentials.key(fromAuthorization: request.headers[first: "Authorization"]) else {
            throw WebhookError(
                status: 401, message: "missing admin token: send Authorization: Bearer <LAKEHOOK_ADMIN_TOKEN>",
                headers: ["WWW-Authenticate": "Bearer realm=\"lakehook-admin\""])
        }
        guard APIKey.constantTimeEquals(APIKey.hash(of: token), adminTokenHash) else {
            throw WebhookError(status: 403, message: "the admin token is not valid")
        }
    }

    /// `?purge=true` (also `1`, `yes`); anything else is false.
    static func queryFlag(_ name: String, in query: String?) -> Bool {
        guard let query else { return false }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.first == Substring(name) {
                return ["true", "1", "yes"].contains(parts.count > 1 ? parts[1].lowercased() : "true")
            }
        }
        return false
    }
}
