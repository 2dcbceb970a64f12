import HTTP
import Postgres

/// `GET /api/dora` (JSON) and `GET /dora` (the HTML page), both behind the admin token.
///
///     GET /api/dora?project=P&from=DATE&to=DATE   data: what `lakehook dora --project P --json` prints
///     GET /api/dora?from=...&to=...               data: an array, one report per project
///     GET /dora?project=P&from=...&to=...          the page; without a project, every project's levels
///
/// The page also takes the token as the password of HTTP Basic auth, so a browser can ask for it.
extension WebhookService {
    func addDora(to router: inout RouteTable) {
        let dora = DoraStore(pool: pool)
        let maxDays = doraMaxWindowDays
        router.add("GET", "/api/dora", admin(withoutToken: "lakehook dora --json") { request in
            let query = try DoraQueryString(request.query)
            let window = try Self.doraWindow(query, maxDays: maxDays)
            guard let project = query["project"] else {
                return .array(try dora.reports(window: window).map(\.json))
            }
            try Self.requireDoraProject(project, dora)
            return try dora.report(project: project, window: window).json
        })
        router.add("GET", "/dora", doraPage { request in
            let query = try DoraQueryString(request.query)
            let window = try Self.doraWindow(query, maxDays: maxDays)
            let projects = try dora.projects()
            guard let project = query["project"] ?? (projects.count == 1 ? projects[0] : nil) else {
                return DoraPage.index(try dora.reports(window: window))
            }
            try Self.requireDoraProject(project, dora, known: projects)
            let report = try dora.report(project: project, window: window)
            let series = try dora.series(project: project, windows: DoraWindow.weeks(endingAt: window.to, count: 12))
            return DoraPage.project(
                report, series: series, incidentWindowSeconds: try dora.incidentWindowSeconds(project: project),
                projects: projects, refusals: try ConnectionRefusals.of(project: project, pool: dora.pool))
        })
    }

    /// The window of `from` and `to`; a bad date, an empty window or one longer than `maxDays`: 400.
    static func doraWindow(_ query: DoraQueryString, maxDays: Int) throws -> DoraWindow {
        do {
            return try DoraWindow.resolve(from: query["from"], to: query["to"], maxDays: maxDays)
        } catch {
            throw WebhookError.badRequest("bad report window", causes: error.problems)
        }
    }

    static func requireDoraProject(_ project: String, _ dora: DoraStore, known: [String]? = nil) throws {
        let projects = try known ?? dora.projects()
        guard projects.contains(project) else {
            throw WebhookError.notFound("unknown project \"\(project)\": no connection belongs to it")
        }
    }

    /// Wraps the page handler: the admin token (Bearer, or Basic's password), then HTML for
    /// success and for every refusal.
    func doraPage(_ body: @escaping @Sendable (HTTPRequest) throws -> String) -> HTTPHandler {
        { [self] request in
            do {
                try authorizeAdmin(request, withoutToken: "lakehook dora")
                return Self.html(status: 200, try body(request))
            } catch let error as WebhookError {
                var response = Self.html(status: error.status, DoraPage.error(status: error.status, message: error.message, causes: error.causes))
                for (name, value) in error.headers.sorted(by: { $0.key < $1.key }) where name != "WWW-Authenticate" {
                    response.headers.add(name: name, value: value)
                }
                if error.status == 401 {
                    response.headers.add(name: "WWW-Authenticate", value: "Basic realm=\"lakehook-admin\", charset=\"UTF-8\"")
                }
                return response
            } catch {
                // The one mapping of other errors (logged there); the page shows only the outcome.
                let answer = answer(for: error)
                let message = answer.status == 503 ? "the database is unavailable; retry later" : "internal error"
                var response = Self.html(status: answer.status, DoraPage.error(status: answer.status, message: message))
                if answer.status == 503 { response.headers.add(name: "Retry-After", value: "1") }
                return response
            }
        }
    }

    static func html(status: Int, _ page: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-store")
        return HTTPResponse(status: status, headers: headers, body: Array(page.utf8))
    }
}

/// The parameters of a query string (`a=1&b=x%20y`): percent-decoded, `+` read as a space (as
/// HTML forms send it); the last of a repeated name wins.
struct DoraQueryString: Sendable {
    private var values: [String: String] = [:]

    init(_ query: String?) throws {
        guard let query else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : "") else {
                throw WebhookError.badRequest("bad query string: invalid percent-encoding in \"\(pair)\"")
            }
            values[name] = value
        }
    }

    /// A parameter, nil when absent or empty.
    subscript(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    /// Nil for invalid percent-encoding, text that is not UTF-8 once decoded, or a NUL.
    static func decode(_ text: Substring) -> String? {
        guard case .success(let decoded) = PercentDecoding.decode(text, plusIsSpace: true) else { return nil }
        return decoded
    }

    /// A value for a query string: everything but unreserved characters percent-encoded.
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let unreserved = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~")
            if unreserved {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPad(2)
            }
        }
        return out
    }
}

private extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
