import Foundation
import HTTP
import Testing
@testable import Webhooks
import TestSupport

/// Issue 17, end to end: a vendor's own example payload (Fixtures/Sources, cited in each
/// folder's README), signed as the vendor signs it, posted to the source route of the shipped
/// server, lands in the domain tables and the journal.
@Suite("Native sources end to end: vendor payloads, signed, through the server")
struct SourceEndToEndTests {
    let server = TestServer.shared

    func raw(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: SourceFixture.folder.appendingPathComponent(path)))
    }

    func connection(_ source: SourceKind) throws -> DevLakeConnection {
        try server.service.store.create(name: "e2e-\(source.rawValue)-\(UUID().uuidString.prefix(8))", source: source).0
    }

    func post(_ kind: SourceKind, _ connection: DevLakeConnection, _ body: [UInt8], _ headers: [(String, String)]) throws -> Reply {
        try server.request(
            "POST", "/api/plugins/webhook/sources/\(kind.rawValue)/\(connection.id)",
            body: String(decoding: body, as: UTF8.self), headers: headers + [("Content-Type", "application/json")])
    }

    func journal(_ connection: DevLakeConnection) throws -> [String] {
        try LakehookDatabase.rows(
            "SELECT outcome || ' ' || status FROM webhook_events WHERE connection_id = $1 ORDER BY id", [String(connection.id)]
        ).map { $0[0] ?? "" }
    }

    @Test("GitHub deployment_status (octokit/webhooks' example), X-Hub-Signature-256: a deployment and its commit")
    func github() throws {
        let github = try connection(.github)
        let body = try raw("github/deployment_status.json")
        let signature = "sha256=" + HMAC.hex(HMAC.sha256(key: Array(github.signingSecret!.utf8), message: body))
        let reply = try post(.github, github, body, [("X-GitHub-Event", "deployment_status"), ("X-Hub-Signature-256", signature),
                                                   ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")])
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_deployment_commits WHERE cicd_deployment_id LIKE $1", ["webhook:\(github.id):%"]) == 1)
        #expect(try journal(github) == ["applied 200"])
        let bad = try post(.github, github, body, [("X-GitHub-Event", "deployment_status"), ("X-Hub-Signature-256", "sha256=" + String(repeating: "0", count: 64))])
        #expect(bad.status == 401)
        #expect(try journal(github) == ["applied 200"])
    }

    @Test("GitLab merge request hook (GitLab's documented example), X-Gitlab-Token: a pull request")
    func gitlab() throws {
        let gitlab = try connection(.gitlab)
        let body = try raw("gitlab/merge_request_hook.json")
        let reply = try post(.gitlab, gitlab, body, [("X-Gitlab-Event", "Merge Request Hook"), ("X-Gitlab-Token", gitlab.signingSecret!)])
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM pull_requests WHERE id LIKE $1", ["webhook:\(gitlab.id):%"]) == 1)
        #expect(try journal(gitlab) == ["applied 200"])
    }

    @Test("PagerDuty v3 incident.resolved, X-PagerDuty-Signature v1=: a resolved incident")
    func pagerDuty() throws {
        let pagerDuty = try connection(.pagerduty)
        let body = try raw("pagerduty/resolved_v3.json")
        let signature = "v1=" + HMAC.hex(HMAC.sha256(key: Array(pagerDuty.signingSecret!.utf8), message: body))
        let reply = try post(.pagerduty, pagerDuty, body, [("X-PagerDuty-Signature", "v1=\(String(repeating: "a", count: 64)),\(signature)")])
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try LakehookDatabase.count(
            "SELECT count(*) FROM incidents WHERE id LIKE $1 AND resolution_date IS NOT NULL", ["webhook:\(pagerDuty.id):%"]) == 1)
        #expect(try journal(pagerDuty) == ["applied 200"])
    }

    @Test("CDEvents service.deployed (the spec's conformance file), Standard Webhooks signature, in structured and binary mode")
    func cdevents() throws {
        let cdevents = try connection(.cdevents)
        let body = try raw("cdevents/service_deployed.json")
        let now = Int64(Date().timeIntervalSince1970)
        func signed(_ id: String, _ bytes: [UInt8]) -> [(String, String)] {
            [("webhook-id", id), ("webhook-timestamp", String(now)),
             ("webhook-signature", SourceSignature.standardWebhooksSignature(secret: cdevents.signingSecret!, id: id, timestamp: now, body: bytes))]
        }
        let reply = try post(.cdevents, cdevents, body, signed("msg_1", body))
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_deployments WHERE id LIKE $1", ["webhook:\(cdevents.id):%"]) == 1)
        // The same webhook-id again: the first answer, nothing written (the journal says duplicate).
        let again = try post(.cdevents, cdevents, body, signed("msg_1", body))
        #expect(again.status == 200 && again.header("Idempotent-Replayed") == "true")
        #expect(try journal(cdevents) == ["applied 200", "duplicate 200"])
        // Binary mode: the context in ce-* headers, the body the subject only.
        guard case .object(let event) = try JSONParser.parse(body), case .object(let context)? = event["context"],
              case .object(let subject)? = event["subject"] else { Issue.record("fixture"); return }
        let subjectBytes = Array(JSONValue.object(subject).serialized().utf8)
        var headers = signed("msg_2", subjectBytes)
        for (name, key) in [("ce-id", "id"), ("ce-source", "source"), ("ce-type", "type"), ("ce-time", "timestamp")] {
            if case .string(let value)? = context[key] { headers.append((name, name == "ce-id" ? value + "-binary" : value)) }
        }
        headers.append(("ce-specversion", "1.0"))
        let binary = try post(.cdevents, cdevents, subjectBytes, headers)
        #expect(binary.status == 200, "\(binary.text)")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM cicd_deployments WHERE id LIKE $1", ["webhook:\(cdevents.id):%"]) == 2)
    }

    @Test("a GitHub workflow_job delivered after its run completed is answered 202 and journaled ignored, not a 403 the sender retries")
    func lateJobIsIgnored() throws {
        let github = try connection(.github)
        func send(_ event: String, _ file: String) throws -> Reply {
            let body = try raw("github/\(file)")
            let signature = "sha256=" + HMAC.hex(HMAC.sha256(key: Array(github.signingSecret!.utf8), message: body))
            return try post(.github, github, body, [("X-GitHub-Event", event), ("X-Hub-Signature-256", signature)])
        }
        let first = try send("workflow_job", "workflow_job.completed.success.with-organization.json")
        #expect(first.status == 200, "\(first.text)")
        // Its run completes (as a workflow_run `completed` would finish it) before GitHub redelivers the job.
        let finished = try LakehookDatabase.count(
            "UPDATE cicd_pipelines SET status = 'DONE' WHERE id LIKE $1 RETURNING 1", ["webhook:\(github.id):%"])
        #expect(finished == 1)
        let late = try send("workflow_job", "workflow_job.completed.success.with-organization.json")
        #expect(late.status == 202, "\(late.text)")
        #expect(try journal(github) == ["applied 200", "ignored 202"])
    }
}
