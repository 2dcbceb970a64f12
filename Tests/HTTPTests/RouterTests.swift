import Testing
import HTTP

/// A handler that answers with its route's name, so tests can tell which route matched.
private func named(_ name: String) -> HTTPHandler {
    { _ in HTTPResponse(status: 200, body: Array(name.utf8)) }
}

/// The matched route's name and parameters, or a description of the other outcomes.
private enum Outcome: Equatable {
    case route(String, [String: String])
    case methodNotAllowed([String])
    case notFound
    case badPath

    init(_ match: RouteMatch<HTTPHandler>) {
        switch match {
        case .matched(let handler, let parameters, _):
            let name = String(decoding: handler(HTTPRequest(method: "GET", target: "/")).body, as: UTF8.self)
            self = .route(name, parameters)
        case .methodNotAllowed(let allow): self = .methodNotAllowed(allow)
        case .notFound: self = .notFound
        case .badPath: self = .badPath
        }
    }
}

@Suite("Router")
struct RouterTests {
    let router: Router<HTTPHandler> = {
        var router = Router<HTTPHandler>()
        router.add("POST", "/x/:id/issues", named("byId"))
        router.add("POST", "/x/connections/:id/issues", named("connections"))
        router.add("POST", "/x/connections/by-name/:name/issues", named("byName"))
        router.add("POST", "/x/:id/issue/:issueKey/close", named("close"))
        router.add("POST", "/x/:id/issue/:boardKey/:issueKey/close", named("classicClose"))
        router.add("GET", "/x/connections", named("list"))
        router.add("POST", "/x/connections", named("create"))
        router.add("GET", "/x/connections/:id", named("read"))
        router.add("DELETE", "/x/connections/:id", named("delete"))
        router.add("PATCH", "/x/connections/:id", named("update"))
        router.add("GET", "/", named("root"))
        return router
    }()

    private func route(_ method: String, _ path: String) -> Outcome {
        Outcome(router.route(method: method, path: path))
    }

    @Test("a literal segment beats a parameter at the same position")
    func literalsBeatParameters() {
        #expect(route("POST", "/x/connections/7/issues") == .route("connections", ["id": "7"]))
        #expect(route("POST", "/x/connections/by-name/team%20a/issues") == .route("byName", ["name": "team a"]))
        #expect(route("POST", "/x/42/issues") == .route("byId", ["id": "42"]))
    }

    @Test("a failed literal branch backtracks to the parameter branch")
    func backtracking() {
        // "connections" is a literal child of /x, but /x/connections/issues only fits /x/:id/issues.
        #expect(route("POST", "/x/connections/issues") == .route("byId", ["id": "connections"]))
        // "by-name" is a literal under connections, but here it is the :id of /x/connections/:id/issues.
        #expect(route("POST", "/x/connections/by-name/issues") == .route("connections", ["id": "by-name"]))
    }

    @Test("a method served by another pattern of the same path is found past the first")
    func methodAcrossPatterns() {
        var router = Router<HTTPHandler>()
        router.add("GET", "/a/literal", named("literal"))
        router.add("POST", "/a/:p", named("param"))
        #expect(Outcome(router.route(method: "POST", path: "/a/literal")) == .route("param", ["p": "literal"]))
        #expect(Outcome(router.route(method: "GET", path: "/a/literal")) == .route("literal", [:]))
        #expect(Outcome(router.route(method: "PUT", path: "/a/literal")) == .methodNotAllowed(["GET", "POST"]))
    }

    @Test("parameters are percent-decoded exactly once")
    func decodedOnce() {
        #expect(route("POST", "/x/1/issue/a%20b/close") == .route("close", ["id": "1", "issueKey": "a b"]))
        #expect(route("POST", "/x/1/issue/a%252Fb/close") == .route("close", ["id": "1", "issueKey": "a%2Fb"]))
        #expect(route("POST", "/x/1/issue/a+b/close") == .route("close", ["id": "1", "issueKey": "a+b"]))
        #expect(route("POST", "/x/1/issue/%C3%A9t%C3%A9/close") == .route("close", ["id": "1", "issueKey": "été"]))
    }

    @Test("%2F inside a parameter is a slash in the value, not a separator")
    func encodedSlash() {
        #expect(route("POST", "/x/1/issue/PROJ%2F12/close") == .route("close", ["id": "1", "issueKey": "PROJ/12"]))
        #expect(route("POST", "/x/1/issue/BOARD/PROJ%2f12/close")
            == .route("classicClose", ["id": "1", "boardKey": "BOARD", "issueKey": "PROJ/12"]))
    }

    @Test("invalid percent-encoding in a parameter is a bad path", arguments: [
        "/x/1/issue/%zz/close", "/x/1/issue/abc%4/close", "/x/1/issue/abc%/close",
        "/x/1/issue/%FF%FE/close", "/x/1/issue/a%00b/close",
    ])
    func badEscapes(path: String) {
        #expect(route("POST", path) == .badPath)
    }

    @Test("a bad path reason names the parameter")
    func badPathReason() {
        guard case .badPath(let reason) = router.route(method: "POST", path: "/x/1/issue/%zz/close") else {
            Issue.record("expected badPath"); return
        }
        #expect(reason.contains("issueKey"))
    }

    @Test("a path served only under other methods gives 405 with a sorted, unique Allow list")
    func methodNotAllowed() {
        #expect(route("PUT", "/x/connections/3") == .methodNotAllowed(["DELETE", "GET", "PATCH"]))
        #expect(route("GET", "/x/1/issues") == .methodNotAllowed(["POST"]))
        #expect(route("DELETE", "/x/connections") == .methodNotAllowed(["GET", "POST"]))
    }

    @Test("an unknown path is not found")
    func notFound() {
        #expect(route("GET", "/nope") == .notFound)
        #expect(route("POST", "/x/1/issues/extra") == .notFound)
        #expect(route("POST", "/x") == .notFound)
        #expect(route("GET", "relative/path") == .notFound)
        #expect(route("GET", "") == .notFound)
    }

    @Test("a trailing slash is tolerated, an empty middle segment is not")
    func trailingSlash() {
        #expect(route("POST", "/x/1/issues/") == .route("byId", ["id": "1"]))
        #expect(route("GET", "/x/connections/") == .route("list", [:]))
        #expect(route("POST", "/x//issues") == .notFound)
        #expect(route("POST", "/x/1/issues//") == .notFound)
        #expect(route("GET", "//") == .notFound)
    }

    @Test("the root path matches the root pattern")
    func root() {
        #expect(route("GET", "/") == .route("root", [:]))
    }

    @Test("literal segments match the raw segment, case-sensitively")
    func literalsAreExact() {
        #expect(route("POST", "/x/Connections/7/issues") == .notFound)
        #expect(route("GET", "/x/CONNECTIONS") == .notFound)
    }

    @Test("percent-decoding: + stays + in a path segment and is a space in a query value; %2B is + in both")
    func plusInPathsAndQueries() {
        func decoded(_ text: Substring, plusIsSpace: Bool) -> String? {
            guard case .success(let value) = PercentDecoding.decode(text, plusIsSpace: plusIsSpace) else { return nil }
            return value
        }
        #expect(decoded("a+b%2Bc", plusIsSpace: false) == "a+b+c")
        #expect(decoded("a+b%2Bc", plusIsSpace: true) == "a b+c")
        #expect(decoded("a+b", plusIsSpace: true) == "a b")
        #expect(decoded("%zz", plusIsSpace: true) == nil)
        #expect(decoded("a+%00", plusIsSpace: true) == nil)
    }
}
