import Foundation
import Testing
@testable import Webhooks

@Suite("Source connections: create and rotate the signing secret over the CLI and HTTP")
struct SourceConnectionTests {
    static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    @Test("the command line parses --source and rotate-secret --grace")
    func parse() throws {
        #expect(try LakehookCommand.parse(["connections", "create", "gh", "--source", "github", "--project", "shop"])
            == .sourceConnectionCreate(name: "gh", project: "shop", source: .github, json: false))
        #expect(try LakehookCommand.parse(["connections", "rotate-secret", "7", "--grace", "2h"])
            == .connectionsRotateSecret(.id(7), graceSeconds: 7200, json: false))
        #expect(try LakehookCommand.parse(["connections", "rotate-secret", "gh"]) == .connectionsRotateSecret(.name("gh"), graceSeconds: 86_400, json: false))
        #expect(throws: LakehookCommand.UsageError.self) { try LakehookCommand.parse(["connections", "create", "gh", "--source", "jira"]) }
        #expect(throws: LakehookCommand.UsageError.self) { try LakehookCommand.parse(["connections", "list", "--grace", "1h"]) }
        #expect(try LakehookCommand.parse(["connections", "rotate-secret", "pd", "--secret", "pagerduty-made-secret", "--grace", "0"])
            == .connectionsRotateSecret(.name("pd"), graceSeconds: 0, json: false, secret: "pagerduty-made-secret"))
    }

    @Test("connections create --source prints the secret once with the URL and what to set; list never shows it; rotate-secret prints a new one")
    func cli() throws {
        _ = LakehookDatabase.pool
        let name = "gh-\(UUID().uuidString.prefix(8))"
        let created = try CommandLineBinaryTests.lakehook(["connections", "create", name, "--source", "github"])
        #expect(created.status == 0, "\(created.err)")
        let secretLine = created.out.split(separator: "\n").first { $0.hasPrefix("Signing secret") }
        let secret = try #require(secretLine?.split(separator: " ").last.map(String.init))
        #expect(secret.count == 64)
        let stored = try #require(try LakehookDatabase.rows("SELECT id, signing_secret, source FROM webhook_connections WHERE name = $1", [name]).first)
        #expect(stored[1] == secret && stored[2] == "github")
        #expect(created.out.contains("Payload URL:   http://127.0.0.1:4000/api/plugins/webhook/sources/github/\(stored[0]!)"))
        #expect(created.out.contains("application/json"))
        let listed = try CommandLineBinaryTests.lakehook(["connections", "list"])
        let listedJSON = try CommandLineBinaryTests.lakehook(["connections", "list", "--json"])
        #expect(listed.out.contains("\(name)\t-\tUTC\t-\tgithub"), "\(listed.out)")
        #expect(!listed.out.contains(secret) && !listedJSON.out.contains(secret))
        let rotated = try CommandLineBinaryTests.lakehook(["connections", "rotate-secret", name, "--grace", "1h"])
        #expect(rotated.status == 0, "\(rotated.err)")
        let newSecret = try #require(try LakehookDatabase.value("SELECT signing_secret FROM webhook_connections WHERE name = $1", [name]))
        #expect(newSecret != secret && rotated.out.contains(newSecret) && !rotated.out.contains(secret))
        #expect(try LakehookDatabase.value("SELECT previous_signing_secret FROM webhook_connections WHERE name = $1", [name]) == secret)
        let again = try CommandLineBinaryTests.lakehook(["connections", "list", "--json"])
        #expect(!again.out.contains(newSecret) && !again.out.contains(secret))
    }

    @Test("POST /connections with a source answers the secret once; GET never; rotate-secret answers a new one")
    func http() throws {
        let server = TestServer.shared
        let admin = TestServer.adminHeaders
        let name = "gl-\(UUID().uuidString.prefix(8))"
        let created = try server.request("POST", "/api/plugins/webhook/connections", body: #"{"name":"\#(name)","source":"gitlab"}"#, headers: admin)
        #expect(created.status == 200, "\(created.text)")
        guard case .object(let data)? = created.json?["data"], case .number(let id)? = data["id"] else {
            Issue.record("no connection: \(created.text)"); return
        }
        let secret = try #require(Self.string(data["signingSecret"]))
        #expect(secret.hasPrefix("whsec_"))
        #expect(Self.string(data["webhookURL"]) == "http://127.0.0.1:4000/api/plugins/webhook/sources/gitlab/\(id)")
        #expect(data["apiKey"] == nil)
        let read = try server.request("GET", "/api/plugins/webhook/connections/\(id)", headers: admin)
        #expect(read.status == 200 && !read.text.contains(secret) && read.text.contains("\"source\":\"gitlab\""))
        let rotated = try server.request("POST", "/api/plugins/webhook/connections/\(id)/rotate-secret", body: #"{"grace":"10m"}"#, headers: admin)
        #expect(rotated.status == 200, "\(rotated.text)")
        guard case .object(let after)? = rotated.json?["data"] else { Issue.record("\(rotated.text)"); return }
        let newSecret = try #require(Self.string(after["signingSecret"]))
        #expect(newSecret != secret && !rotated.text.contains(secret))
        // The old secret opens during the grace, the new one too.
        for token in [secret, newSecret] {
            #expect(try server.request("POST", "/api/plugins/webhook/sources/gitlab/\(id)", body: "{}", headers: [("X-Gitlab-Token", token), ("X-Gitlab-Event", "Push Hook")]).status == 202)
        }
        let bad = try server.request("POST", "/api/plugins/webhook/connections", body: #"{"name":"x-\#(name)","source":"jira"}"#, headers: admin)
        #expect(bad.status == 400)
        #expect(try server.request("POST", "/api/plugins/webhook/connections/\(id)/rotate-secret", headers: []).status == 401)
    }
}

extension SourceConnectionTests {
    @Test("rotate-secret --secret takes the tool's own secret (PagerDuty makes its own), which then signs")
    func givenSecret() throws {
        let server = TestServer.shared
        let created = try server.service.store.create(name: "pd-\(UUID().uuidString.prefix(8))", source: .pagerduty).0
        let made = "pagerduty-made-0123456789abcdef"
        let rotated = try server.service.store.rotateSecret(.id(created.id), graceSeconds: 0, secret: made)
        server.service.directory.forget()
        #expect(rotated.signingSecret == made)
        let body = #"{"event":{"id":"01PD","event_type":"pagey.ping"}}"#
        let signature = "v1=" + HMAC.hex(HMAC.sha256(key: Array(made.utf8), message: Array(body.utf8)))
        #expect(try server.request("POST", "/api/plugins/webhook/sources/pagerduty/\(created.id)", body: body,
                                   headers: [("X-PagerDuty-Signature", signature)]).status == 202)
        #expect(throws: WebhookError.self) { try server.service.store.rotateSecret(.id(created.id), graceSeconds: 0, secret: "short") }
    }
}
