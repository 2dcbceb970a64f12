import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// A source connection's options (docs/SOURCES.md, "Per-connection options"): set over the CLI
/// and HTTP, stored in `webhook_connections.source_options`, read by the mappings at once.
@Suite("Source options: environment names and GitHub's incident label, set by people")
struct SourceOptionsTests {
    let server = TestServer.shared

    // MARK: - Tier 1: parsing and validation

    @Test("the command line parses --environment (repeatable, any case, NAME= removes) and --incident-label")
    func parse() throws {
        #expect(try LakehookCommand.parse([
            "connections", "create", "gh", "--source", "github", "--environment", "eu-live=production",
            "--environment=Stage-EU=Staging", "--incident-label", "sev1",
        ]) == .sourceConnectionCreate(
            name: "gh", project: nil, source: .github, json: false,
            options: SourceOptionsChange(environments: ["eu-live": "PRODUCTION", "stage-eu": "STAGING"], incidentLabel: "sev1")))
        #expect(try LakehookCommand.parse(["connections", "update", "7", "--environment", "old=", "--environment", "qa2=testing"])
            == .connectionsUpdate(.id(7), name: nil, project: nil, timeZone: nil, json: false,
                                  options: SourceOptionsChange(environments: ["old": String?.none, "qa2": "TESTING"])))
        #expect(try LakehookCommand.parse(["connections", "update", "gh", "--incident-label=Sev 1", "--json"])
            == .connectionsUpdate(.name("gh"), name: nil, project: nil, timeZone: nil, json: true,
                                  options: SourceOptionsChange(incidentLabel: "Sev 1")))
        // The later of two for one name wins.
        #expect(try LakehookCommand.parse(["connections", "update", "gh", "--environment", "x=DEVELOPMENT", "--environment", "X=STAGING"])
            == .connectionsUpdate(.name("gh"), name: nil, project: nil, timeZone: nil, json: false,
                                  options: SourceOptionsChange(environments: ["x": "STAGING"])))
        for refused in [
            ["connections", "create", "dl", "--environment", "a=PRODUCTION"],        // a DevLake connection has no options
            ["connections", "create", "dl", "--incident-label", "sev1"],
            ["connections", "create", "gl", "--source", "gitlab", "--incident-label", "sev1"],  // GitLab reads no label
            ["connections", "create", "gh", "--source", "github", "--environment", "eu-live=PROD"],
            ["connections", "create", "gh", "--source", "github", "--environment", "eu-live"],
            ["connections", "create", "gh", "--source", "github", "--environment", "=PRODUCTION"],
            ["connections", "create", "gh", "--source", "github", "--environment"],
            ["connections", "update", "gh", "--incident-label", ""],
            ["connections", "list", "--environment", "a=PRODUCTION"],
        ] {
            #expect(throws: LakehookCommand.UsageError.self, "\(refused)") { try LakehookCommand.parse(refused) }
        }
        #expect(LakehookCommand.usage.contains("--environment NAME=ENV") && LakehookCommand.usage.contains("--incident-label L"))
    }

    @Test("a change is checked against the connection's source: every problem listed, devlake refused, values in any case")
    func validation() {
        #expect(SourceOptionsChange(environments: ["a": "production"], incidentLabel: "x").problems(for: .github).isEmpty)
        #expect(SourceOptionsChange(environments: ["a": "production"]).problems(for: .devlake).count == 1)
        #expect(SourceOptionsChange(environments: ["a": "production"]).problems(for: .pagerduty).count == 1)
        #expect(SourceOptionsChange(incidentLabel: "sev1").problems(for: .cdevents).count == 1)
        let bad = SourceOptionsChange(
            environments: ["": "PRODUCTION", "b": "PROD", String(repeating: "n", count: 256): "STAGING"],
            incidentLabel: "a\u{7}b")
        let problems = bad.problems(for: .github)
        #expect(problems.count == 4, "\(problems)")
        #expect(problems.contains { $0.contains("b: must be one of PRODUCTION, STAGING, TESTING, DEVELOPMENT") })
        let applied = SourceOptions(environments: ["old": "TESTING", "keep": "STAGING"])
            .applying(SourceOptionsChange(environments: ["Old": String?.none, "EU-Live": "production"], incidentLabel: "Sev1"))
        #expect(applied == SourceOptions(environments: ["keep": "STAGING", "eu-live": "PRODUCTION"], incidentLabel: "Sev1"))
        // What is stored reads back the same.
        #expect(SourceOptions(json: applied.json) == applied)
    }

    // MARK: - The binary and HTTP

    @Test("connections create --source github --environment and update --environment/--incident-label store and show the options")
    func cli() throws {
        _ = LakehookDatabase.pool
        let name = "opt-gh-\(UUID().uuidString.prefix(8))"
        let created = try CommandLineBinaryTests.lakehook(
            ["connections", "create", name, "--source", "github", "--environment", "EU-Live=production"])
        #expect(created.status == 0, "\(created.err)")
        #expect(created.out.contains("Options: environments eu-live=PRODUCTION, incident label incident"), "\(created.out)")
        let updated = try CommandLineBinaryTests.lakehook(
            ["connections", "update", name, "--environment", "eu-live=", "--environment", "canary=staging", "--incident-label", "Sev1", "--json"])
        #expect(updated.status == 0, "\(updated.err)")
        #expect(updated.out.contains(#""environments":{"canary":"STAGING"},"incidentLabel":"Sev1""#), "\(updated.out)")
        let stored = try LakehookDatabase.value("SELECT source_options::text FROM webhook_connections WHERE name = $1", [name])
        #expect(stored == #"{"environments": {"canary": "STAGING"}, "incidentLabel": "Sev1"}"#)
        // A DevLake connection has no options: the reason, exit 1, nothing changed.
        let devlake = "opt-dl-\(UUID().uuidString.prefix(8))"
        #expect(try CommandLineBinaryTests.lakehook(["connections", "create", devlake]).status == 0)
        let refused = try CommandLineBinaryTests.lakehook(["connections", "update", devlake, "--environment", "a=PRODUCTION"])
        #expect(refused.status == 1 && refused.err.contains("a devlake connection has no source options"), "\(refused.err)")
        #expect(try LakehookDatabase.value("SELECT source_options::text FROM webhook_connections WHERE name = $1", [devlake]) == "{}")
        let usage = try CommandLineBinaryTests.lakehook(["connections", "create", "x-\(name)", "--source", "github", "--environment", "a=LIVE"])
        #expect(usage.status != 0 && usage.err.contains("LIVE is none of PRODUCTION, STAGING, TESTING, DEVELOPMENT"), "\(usage.err)")
    }

    @Test("POST /connections takes environments and incidentLabel; PATCH merges (null removes); bad values and a devlake connection are 400 with causes")
    func http() throws {
        let name = "opt-http-\(UUID().uuidString.prefix(8))"
        let created = try server.request("POST", "/api/plugins/webhook/connections", body: """
            {"name":"\(name)","source":"github","environments":{"EU-Live":"production","old":"TESTING"},"incidentLabel":"sev1"}
            """, headers: TestServer.adminHeaders)
        #expect(created.status == 200, "\(created.text)")
        guard case .object(let data)? = created.json?["data"], case .number(let id)? = data["id"] else {
            Issue.record("no connection: \(created.text)"); return
        }
        #expect(created.text.contains(#""environments":{"eu-live":"PRODUCTION","old":"TESTING"},"incidentLabel":"sev1""#), "\(created.text)")
        let patched = try server.request("PATCH", "/api/plugins/webhook/connections/\(id)",
                                         body: #"{"environments":{"old":null,"canary":"Staging"}}"#, headers: TestServer.adminHeaders)
        #expect(patched.status == 200, "\(patched.text)")
        #expect(patched.text.contains(#""environments":{"canary":"STAGING","eu-live":"PRODUCTION"},"incidentLabel":"sev1""#), "\(patched.text)")
        let read = try server.request("GET", "/api/plugins/webhook/connections/by-name/\(name)", headers: TestServer.adminHeaders)
        #expect(read.text.contains(#""environments":{"canary":"STAGING","eu-live":"PRODUCTION"}"#), "\(read.text)")

        let bad = try server.request("PATCH", "/api/plugins/webhook/connections/\(id)",
                                     body: #"{"environments":{"x":"PROD","y":3},"incidentLabel":""}"#, headers: TestServer.adminHeaders)
        #expect(bad.status == 400, "\(bad.text)")
        #expect(bad.text.contains("y: must be PRODUCTION, STAGING, TESTING, DEVELOPMENT or null"), "\(bad.text)")
        let badValue = try server.request("PATCH", "/api/plugins/webhook/connections/\(id)",
                                          body: #"{"environments":{"x":"PROD"}}"#, headers: TestServer.adminHeaders)
        #expect(badValue.status == 400 && badValue.text.contains("x: must be one of PRODUCTION, STAGING, TESTING, DEVELOPMENT"), "\(badValue.text)")
        #expect(try LakehookDatabase.value("SELECT source_options->'environments'->>'x' FROM webhook_connections WHERE id = $1", [id]) == nil)

        let devlake = try server.request("POST", "/api/plugins/webhook/connections",
                                         body: #"{"name":"x-\#(name)","environments":{"a":"PRODUCTION"}}"#, headers: TestServer.adminHeaders)
        #expect(devlake.status == 400 && devlake.text.contains("a devlake connection has no source options"), "\(devlake.text)")
        let gitlabLabel = try server.request("POST", "/api/plugins/webhook/connections",
                                             body: #"{"name":"y-\#(name)","source":"gitlab","incidentLabel":"sev1"}"#, headers: TestServer.adminHeaders)
        #expect(gitlabLabel.status == 400 && gitlabLabel.text.contains("only github connections read an incident label"), "\(gitlabLabel.text)")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM webhook_connections WHERE name IN ($1, $2)", ["x-\(name)", "y-\(name)"]) == 0)
    }

    // MARK: - The effect on mapping

    /// A GitHub fixture with `change` applied, signed with the connection's secret.
    func signedGitHub(_ fixture: String, _ connection: DevLakeConnection, change: (inout [String: Any]) -> Void) throws -> (String, String) {
        let data = try Data(contentsOf: SourceFixture.folder.appendingPathComponent("github/\(fixture)"))
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        change(&object)
        let body = try JSONSerialization.data(withJSONObject: object)
        let secret = try #require(connection.signingSecret)
        return (String(decoding: body, as: UTF8.self), "sha256=" + HMAC.hex(HMAC.sha256(key: Array(secret.utf8), message: Array(body))))
    }

    func postGitHub(_ event: String, _ connection: DevLakeConnection, _ signed: (String, String)) throws -> Reply {
        try server.request("POST", "/api/plugins/webhook/sources/github/\(connection.id)", body: signed.0,
                           headers: [("X-GitHub-Event", event), ("X-Hub-Signature-256", signed.1), ("Content-Type", "application/json")])
    }

    func deployment(_ id: Int, environment: String, _ connection: DevLakeConnection) throws -> (String, String) {
        try signedGitHub("deployment_status.json", connection) { body in
            var deployment = body["deployment"] as! [String: Any]
            deployment["id"] = id
            deployment["environment"] = environment
            body["deployment"] = deployment
            var status = body["deployment_status"] as! [String: Any]
            status["environment"] = environment
            body["deployment_status"] = status
        }
    }

    func environmentOf(_ deployment: Int, _ connection: DevLakeConnection) throws -> String? {
        try LakehookDatabase.value("SELECT environment FROM cicd_deployments WHERE id = $1", [connection.rowId(String(deployment))])
    }

    @Test("lakehook connections update --environment eu-blue=PRODUCTION: GitHub's next eu-blue deployment is a PRODUCTION one")
    func environmentFromTheCommandLine() throws {
        let github = try server.service.store.create(name: "opt-env-\(UUID().uuidString.prefix(8))", source: .github).0
        #expect(try postGitHub("deployment_status", github, deployment(101, environment: "eu-blue", github)).status == 200)
        // A name the built-in rule does not know (eu-live would be: its word live is production).
        #expect(try environmentOf(101, github) == "DEVELOPMENT")
        let updated = try CommandLineBinaryTests.lakehook(["connections", "update", String(github.id), "--environment", "eu-blue=PRODUCTION"])
        #expect(updated.status == 0, "\(updated.err)")
        // The CLI is another process: this server forgets connections after 4 s; `make run`'s would too.
        server.service.directory.forget()
        let reply = try postGitHub("deployment_status", github, deployment(102, environment: "eu-blue", github))
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try environmentOf(102, github) == "PRODUCTION")
        #expect(try LakehookDatabase.value("SELECT original_environment FROM cicd_deployments WHERE id = $1", [github.rowId("102")]) == "eu-blue")
    }

    @Test("PATCH environments takes effect on the very next event, and a removed name falls back to the built-in ones")
    func environmentOverHTTPAtOnce() throws {
        let github = try server.service.store.create(name: "opt-env-http-\(UUID().uuidString.prefix(8))", source: .github).0
        #expect(try postGitHub("deployment_status", github, deployment(201, environment: "Blue-EU", github)).status == 200)
        #expect(try environmentOf(201, github) == "DEVELOPMENT")
        let patch = try server.request("PATCH", "/api/plugins/webhook/connections/\(github.id)",
                                       body: #"{"environments":{"blue-eu":"PRODUCTION","production":"STAGING"}}"#, headers: TestServer.adminHeaders)
        #expect(patch.status == 200, "\(patch.text)")
        #expect(try postGitHub("deployment_status", github, deployment(202, environment: "Blue-EU", github)).status == 200)
        #expect(try environmentOf(202, github) == "PRODUCTION")
        // The connection's own names come before the built-in ones.
        #expect(try postGitHub("deployment_status", github, deployment(203, environment: "production", github)).status == 200)
        #expect(try environmentOf(203, github) == "STAGING")
        let removal = try server.request("PATCH", "/api/plugins/webhook/connections/\(github.id)",
                                         body: #"{"environments":{"production":null}}"#, headers: TestServer.adminHeaders)
        #expect(removal.status == 200, "\(removal.text)")
        #expect(try postGitHub("deployment_status", github, deployment(204, environment: "production", github)).status == 200)
        #expect(try environmentOf(204, github) == "PRODUCTION")
    }

    @Test("--incident-label sev-1: a GitHub issue labelled Sev-1 is an incident, one labelled incident no longer")
    func incidentLabel() throws {
        let github = try server.service.store.create(name: "opt-label-\(UUID().uuidString.prefix(8))", source: .github).0
        func issue(_ number: Int, label: String) throws -> (String, String) {
            try signedGitHub("issues.opened.json", github) { body in
                var issue = body["issue"] as! [String: Any]
                issue["number"] = number
                var labels = issue["labels"] as! [[String: Any]]
                labels[0]["name"] = label
                issue["labels"] = labels
                body["issue"] = issue
            }
        }
        func incidents() throws -> Int {
            try LakehookDatabase.count("SELECT count(*) FROM incidents WHERE id LIKE $1", ["webhook:\(github.id):%"])
        }
        let before = try postGitHub("issues", github, issue(1, label: "Sev-1"))
        #expect(before.status == 202, "\(before.text)")
        #expect(try incidents() == 0)
        let updated = try CommandLineBinaryTests.lakehook(["connections", "update", github.name, "--incident-label", "sev-1"])
        #expect(updated.status == 0, "\(updated.err)")
        #expect(updated.out.contains("incident label sev-1"), "\(updated.out)")
        server.service.directory.forget()
        let after = try postGitHub("issues", github, issue(2, label: "Sev-1"))
        #expect(after.status == 200, "\(after.text)")
        #expect(try incidents() == 1)
        #expect(try LakehookDatabase.count(
            "SELECT count(*) FROM issues WHERE id = $1 AND type = 'INCIDENT'", [github.rowId("Codertocat/Hello-World#2")]) == 1)
        let old = try postGitHub("issues", github, issue(3, label: "incident"))
        #expect(old.status == 202, "\(old.text)")
        #expect(try incidents() == 1)
    }
}
