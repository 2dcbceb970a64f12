import Foundation
import HTTP
import Testing
@testable import Webhooks
import TestSupport

/// A GitHub mapping for the route's tests, chosen by `X-GitHub-Event`: the four outcomes, a
/// mapping's 400, and two writes of which the second is refused (one transaction).
enum RouteTestMapping: SourceMapping {
    static let kind = SourceKind.github

    static func deployment(_ id: String, _ connection: DevLakeConnection, _ arrival: Timestamp) throws(WebhookError) -> any IngestOperation {
        let body: JSONObject = [
            "id": .string(id), "startedDate": .string("2026-01-01T12:00:00Z"), "finishedDate": .string("2026-01-01T12:10:00Z"),
            "environment": .string("PRODUCTION"), "result": .string("SUCCESS"),
            "deploymentCommits": .array([.object(["repoUrl": .string("https://github.com/acme/shop"), "commitSha": .string("a1b2c3")])]),
        ]
        return try DeploymentUpsert.decode(body, for: connection, arrival: arrival).get()
    }

    static func map(_ event: SourceEvent, for connection: DevLakeConnection, options: SourceOptions) throws(WebhookError) -> SourceOutcome {
        switch event.headers[first: "X-GitHub-Event"] {
        case "ping": return .ping
        case "deployment": return .write([try deployment("d-1", connection, event.arrival)])
        case "two": return .write([try deployment("d-2", connection, event.arrival), try deployment("d-3", connection, event.arrival)])
        case "two-refused":
            return .write([try deployment("d-4", connection, event.arrival), IssueClose(issueKey: "no-such-issue", arrival: event.arrival)])
        case "invalid": throw WebhookError.invalidBody(["deployment.id: is required"])
        default: return .ignored("\(event.headers[first: "X-GitHub-Event"] ?? "") is not mapped")
        }
    }
}

@Suite("Source routes: signature, mapping, journal", .serialized)
struct SourceRouteTests {
    static let server: TestServer = {
        let server = try! TestServer()
        server.service.sourceMappings.register(RouteTestMapping.self)
        return server
    }()

    func connection(_ source: SourceKind) throws -> DevLakeConnection {
        try Self.server.service.store.create(name: "src-\(UUID().uuidString.prefix(13))", source: source).0
    }

    func postGitHub(_ connection: DevLakeConnection, event: String, body: String = #"{"zen":"Keep it logically awesome."}"#,
                    secret: String? = nil, delivery: String? = nil) throws -> Reply {
        let signature = "sha256=" + HMAC.hex(HMAC.sha256(key: Array((secret ?? connection.signingSecret!).utf8), message: Array(body.utf8)))
        var headers = [("X-GitHub-Event", event), ("X-Hub-Signature-256", signature), ("Content-Type", "application/json")]
        if let delivery { headers.append(("X-GitHub-Delivery", delivery)) }
        return try Self.server.request("POST", "/api/plugins/webhook/sources/github/\(connection.id)", body: body, headers: headers)
    }

    func journal(_ connection: DevLakeConnection) throws -> [String] {
        try LakehookDatabase.rows(
            "SELECT outcome || ' ' || status || ' ' || route || ' ' || (params->>'event') FROM webhook_events WHERE connection_id = $1 ORDER BY id",
            [String(connection.id)]).map { $0[0] ?? "" }
    }

    @Test("a ping answers 200 and writes nothing")
    func ping() throws {
        let github = try connection(.github)
        let reply = try postGitHub(github, event: "ping")
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try journal(github).isEmpty)
    }

    @Test("an unmapped event answers 202 with the reason, journaled ignored")
    func ignored() throws {
        let github = try connection(.github)
        let reply = try postGitHub(github, event: "star")
        #expect(reply.status == 202)
        #expect(reply.json?["data"] == .object(["ignored": .string("star is not mapped")]))
        #expect(try journal(github) == ["ignored 202 sources/github star"])
    }

    @Test("a signed event type its source does not map (CDEvents pipelinerun.started) answers 202, journaled ignored")
    func unmappedSource() throws {
        let cdevents = try connection(.cdevents)
        let body = #"{"context":{"id":"1","type":"dev.cdevents.pipelinerun.started.0.1.1"},"subject":{"id":"r1","content":{}}}"#
        let now = Int64(Date().timeIntervalSince1970)
        let signature = SourceSignature.standardWebhooksSignature(secret: cdevents.signingSecret!, id: "msg_1", timestamp: now, body: Array(body.utf8))
        let reply = try Self.server.request("POST", "/rest/plugins/webhook/sources/cdevents/\(cdevents.id)", body: body, headers: [
            ("webhook-id", "msg_1"), ("webhook-timestamp", String(now)), ("webhook-signature", signature),
        ])
        #expect(reply.status == 202, "\(reply.text)")
        #expect(try journal(cdevents) == ["ignored 202 sources/cdevents dev.cdevents.pipelinerun.started.0.1.1"])
        // A stale timestamp is refused, and not journaled.
        let stale = SourceSignature.standardWebhooksSignature(secret: cdevents.signingSecret!, id: "msg_2", timestamp: now - 400, body: Array(body.utf8))
        let refused = try Self.server.request("POST", "/rest/plugins/webhook/sources/cdevents/\(cdevents.id)", body: body, headers: [
            ("webhook-id", "msg_2"), ("webhook-timestamp", String(now - 400)), ("webhook-signature", stale),
        ])
        #expect(refused.status == 401)
        #expect(try journal(cdevents).count == 1)
    }

    @Test("a mapped event writes its deployment, journaled applied in the same statement; a redelivery is answered once")
    func writesDeployment() throws {
        let github = try connection(.github)
        let reply = try postGitHub(github, event: "deployment")
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try LakehookDatabase.footprint(of: github)["cicd_deployments"] == 1)
        #expect(try journal(github) == ["applied 200 sources/github deployment"])
        let first = try postGitHub(github, event: "deployment", delivery: "delivery-1")
        let again = try postGitHub(github, event: "deployment", delivery: "delivery-1")
        #expect(first.status == 200 && again.status == 200)
        #expect(again.header("Idempotent-Replayed") == "true")
        #expect(try journal(github).last == "duplicate 200 sources/github deployment")
    }

    @Test("two operations run in one transaction: both written with one journal row, or neither when one is refused")
    func twoOperations() throws {
        let github = try connection(.github)
        let reply = try postGitHub(github, event: "two")
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try LakehookDatabase.footprint(of: github)["cicd_deployments"] == 2)
        let refused = try postGitHub(github, event: "two-refused")
        #expect(refused.status == 404, "\(refused.text)")
        #expect(try LakehookDatabase.footprint(of: github)["cicd_deployments"] == 2)
        #expect(try journal(github) == ["applied 200 sources/github two", "refused 404 sources/github two-refused"])
    }

    @Test("a mapping's 400 is journaled as a refusal")
    func mappingRefusal() throws {
        let github = try connection(.github)
        let reply = try postGitHub(github, event: "invalid")
        #expect(reply.status == 400)
        #expect(try journal(github) == ["refused 400 sources/github invalid"])
    }

    @Test("a bad or missing signature is a 401, nothing journaled; a JSON body that is not an object is a 400")
    func badSignature() throws {
        let github = try connection(.github)
        #expect(try postGitHub(github, event: "deployment", secret: "wrong").status == 401)
        let missing = try Self.server.request("POST", "/api/plugins/webhook/sources/github/\(github.id)", body: "{}", headers: [("X-GitHub-Event", "push")])
        #expect(missing.status == 401)
        #expect(missing.text.contains("X-Hub-Signature-256"))
        #expect(try journal(github).isEmpty)
        #expect(try postGitHub(github, event: "push", body: "[1]").status == 400)
    }

    @Test("a connection of another source is a 403, an unknown one a 404")
    func wrongSource() throws {
        let gitlab = try connection(.gitlab)
        let devlake = try Self.server.service.store.create(name: "dl-\(UUID().uuidString.prefix(13))").0
        let headers = [("X-Gitlab-Token", gitlab.signingSecret!), ("X-Gitlab-Event", "Push Hook")]  // a hook Lakehook does not map
        #expect(try Self.server.request("POST", "/api/plugins/webhook/sources/github/\(gitlab.id)", body: "{}", headers: headers).status == 403)
        #expect(try Self.server.request("POST", "/api/plugins/webhook/sources/gitlab/\(devlake.id)", body: "{}", headers: headers).status == 403)
        #expect(try Self.server.request("POST", "/api/plugins/webhook/sources/gitlab/999999999", body: "{}", headers: headers).status == 404)
        #expect(try Self.server.request("POST", "/api/plugins/webhook/sources/gitlab/\(gitlab.id)", body: "{}", headers: headers).status == 202)
    }

    @Test("a rotated secret is accepted during its grace and refused after it")
    func rotation() throws {
        let github = try connection(.github)
        let old = github.signingSecret!
        let rotated = try Self.server.service.store.rotateSecret(.id(github.id), graceSeconds: 3600)
        Self.server.service.directory.forget()
        #expect(rotated.signingSecret != old)
        #expect(try postGitHub(rotated, event: "ping").status == 200)
        #expect(try postGitHub(rotated, event: "ping", secret: old).status == 200)
        _ = try LakehookDatabase.rows(
            "UPDATE webhook_connections SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1 RETURNING id",
            [String(github.id)])
        Self.server.service.directory.forget()
        #expect(try postGitHub(rotated, event: "ping", secret: old).status == 401)
        #expect(try postGitHub(rotated, event: "ping").status == 200)
    }
}
