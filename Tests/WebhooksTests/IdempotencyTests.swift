import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// Issue 16: `Idempotency-Key` (IETF draft "The Idempotency-Key HTTP Header Field") or Standard
/// Webhooks' `webhook-id` makes a retry on the same connection within 24 hours answer with the
/// first answer without writing again; the same key with another request is a 422, and one
/// still in flight a 409 — across instances, since the key lives in the database.
@Suite("Idempotency keys")
struct IdempotencyTests {
    let server = TestServer.shared

    static func deployment(name: String) -> String {
        #"{"id":"d1","name":"\#(name)","startedDate":"2026-01-01T10:00:00Z","finishedDate":"2026-01-01T10:05:00Z","deploymentCommits":[{"repoUrl":"https://example.com/shop","commitSha":"abc"}]}"#
    }

    func post(_ connection: DevLakeConnection, _ key: String, _ body: String, header: String = "Idempotency-Key", value: String) throws -> Reply {
        try server.request("POST", "/api/plugins/webhook/\(connection.id)/deployments", body: body, key: key, headers: [(header, value)])
    }

    func name(_ connection: DevLakeConnection) throws -> String? {
        try LakehookDatabase.value("SELECT name FROM cicd_deployments WHERE id = $1", [connection.rowId("d1")])
    }

    func outcomes(_ connection: DevLakeConnection) throws -> [String] {
        try LakehookDatabase.rows(
            "SELECT status, outcome, idempotency_key FROM webhook_events WHERE connection_id = $1 ORDER BY received_at, id",
            [String(connection.id)]
        ).map { "\($0[0]!) \($0[1]!) \($0[2] ?? "-")" }
    }

    @Test("a retry with the same key gets the first answer and writes nothing; the journal says duplicate")
    func retryGetsFirstAnswer() throws {
        let (connection, key) = try server.newConnection("idem-retry")
        let first = try post(connection, key, Self.deployment(name: "v1"), value: "8e03978e-40d5-43e8-bc93-6894a57f9324")
        #expect(first.status == 200, "\(first.text)")
        #expect(first.header("Idempotent-Replayed") == nil)
        // Someone changes the row in between: a retry must not write it back.
        _ = try LakehookDatabase.value("UPDATE cicd_deployments SET name = 'changed' WHERE id = $1", [connection.rowId("d1")])
        let retry = try post(connection, key, Self.deployment(name: "v1"), value: #""8e03978e-40d5-43e8-bc93-6894a57f9324""#)
        #expect(retry.status == 200)
        #expect(retry.header("Idempotent-Replayed") == "true")
        #expect(retry.json?["data"] == first.json?["data"])
        #expect(try name(connection) == "changed")
        let k = "8e03978e-40d5-43e8-bc93-6894a57f9324"
        #expect(try outcomes(connection) == ["200 applied \(k)", "200 duplicate \(k)"])
    }

    @Test("webhook-id (Standard Webhooks) is a key too; keys are per connection")
    func webhookIdAndPerConnection() throws {
        let (a, keyA) = try server.newConnection("idem-a")
        let (b, keyB) = try server.newConnection("idem-b")
        #expect(try post(a, keyA, Self.deployment(name: "v1"), header: "webhook-id", value: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W").status == 200)
        let again = try post(a, keyA, Self.deployment(name: "v1"), header: "webhook-id", value: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
        #expect(again.header("Idempotent-Replayed") == "true")
        let other = try post(b, keyB, Self.deployment(name: "v1"), header: "webhook-id", value: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
        #expect(other.status == 200 && other.header("Idempotent-Replayed") == nil)
        #expect(try name(b) == "v1")
    }

    @Test("the same key with another body is a 422, journaled as refused, and writes nothing")
    func keyReusedWithAnotherBody() throws {
        let (connection, key) = try server.newConnection("idem-422")
        #expect(try post(connection, key, Self.deployment(name: "v1"), value: "k-1").status == 200)
        let reused = try post(connection, key, Self.deployment(name: "v2"), value: "k-1")
        #expect(reused.status == 422, "\(reused.text)")
        #expect(try name(connection) == "v1")
        #expect(try outcomes(connection) == ["200 applied k-1", "422 refused k-1"])
    }

    @Test("a refused request stores no key: the corrected request under the same key is written")
    func refusalStoresNoKey() throws {
        let (connection, key) = try server.newConnection("idem-fix")
        #expect(try post(connection, key, #"{"id":"d1"}"#, value: "k-2").status == 400)
        #expect(try post(connection, key, Self.deployment(name: "v1"), value: "k-2").status == 200)
        #expect(try name(connection) == "v1")
    }

    @Test("while a request with the key is in flight (here: its lock is held, as another instance would), the same key gets 409")
    func inFlightIsConflict() throws {
        let (connection, key) = try server.newConnection("idem-409")
        let holder = try PostgresConnection(config: TestDatabase.config())
        _ = try holder.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", ["lakehook-idempotency:\(connection.id):k-3"])
        let busy = try post(connection, key, Self.deployment(name: "v1"), value: "k-3")
        #expect(busy.status == 409, "\(busy.text)")
        #expect(busy.header("Retry-After") == "1")
        #expect(try name(connection) == nil)
        _ = try holder.query("SELECT pg_advisory_unlock_all()", [])
        #expect(try post(connection, key, Self.deployment(name: "v1"), value: "k-3").status == 200)
    }

    @Test("a key older than 24 hours is forgotten: the request is written again")
    func keysExpire() throws {
        let (connection, key) = try server.newConnection("idem-24h")
        #expect(try post(connection, key, Self.deployment(name: "v1"), value: "k-4").status == 200)
        _ = try LakehookDatabase.value(
            "UPDATE webhook_idempotency_keys SET created_at = now() - interval '25 hours' WHERE connection_id = $1", [String(connection.id)])
        let later = try post(connection, key, Self.deployment(name: "v2"), value: "k-4")
        #expect(later.status == 200 && later.header("Idempotent-Replayed") == nil)
        #expect(try name(connection) == "v2")
    }

    @Test("a key that is not 1-255 visible ASCII characters is a 400")
    func badKeys() throws {
        let (connection, key) = try server.newConnection("idem-400")
        #expect(try post(connection, key, Self.deployment(name: "v1"), value: String(repeating: "k", count: 256)).status == 400)
        #expect(try post(connection, key, Self.deployment(name: "v1"), value: "\"\"").status == 400)
        #expect(try name(connection) == nil)
    }

    @Test("two instances with four event loops: 16 concurrent posts of one key write once; every answer is the first or a 409; a retry on the other instance is replayed")
    func acrossInstances() throws {
        let store = DevLakeConnectionStore(pool: LakehookDatabase.pool)
        let (connection, apiKey) = try store.create(name: "idem-two-\(UUID().uuidString.prefix(13))")
        let environment = ["LAKEHOOK_EVENT_LOOPS": "4", "LAKEHOOK_LOG_LEVEL": "warn"]
        let a = try LakehookProcess(databaseURL: TestDatabase.config().conninfo, environment: environment)
        let b = try LakehookProcess(databaseURL: TestDatabase.config().conninfo, environment: environment)
        let path = "/api/plugins/webhook/\(connection.id)/deployments"
        let body = Array(Self.deployment(name: "v1").utf8)
        let statuses = Shared<[Int]>([])
        let group = DispatchGroup()
        let gate = DispatchSemaphore(value: 0)
        for writer in 0..<16 {
            group.enter()
            Thread {
                defer { group.leave() }
                do {
                    let client = try TestClient(port: (writer % 2 == 0 ? a : b).port, timeoutSeconds: 15)
                    let head = "POST \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
                        + "Authorization: Bearer \(apiKey.plaintext)\r\nIdempotency-Key: same\r\n\r\n"
                    gate.wait()
                    try client.send(Array(head.utf8) + body)
                    let reply = try client.receive()
                    statuses.withLock { $0.append(reply.status) }
                } catch {
                    statuses.withLock { $0.append(-1) }
                }
            }.start()
        }
        usleep(30_000)
        for _ in 0..<16 { gate.signal() }
        group.wait()
        let seen = statuses.withLock { $0 }
        #expect(seen.allSatisfy { $0 == 200 || $0 == 409 }, "\(seen)")
        #expect(seen.contains(200))
        let applied = try LakehookDatabase.count(
            "SELECT count(*) FROM webhook_events WHERE connection_id = $1 AND outcome = 'applied'", [String(connection.id)])
        #expect(applied == 1)
        for instance in [a, b] {
            let client = try TestClient(port: instance.port, timeoutSeconds: 15)
            let head = "POST \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
                + "Authorization: Bearer \(apiKey.plaintext)\r\nIdempotency-Key: same\r\n\r\n"
            try client.send(Array(head.utf8) + body)
            let reply = try client.receive()
            #expect(reply.status == 200 && reply.header("Idempotent-Replayed") == "true", "\(reply.status) \(reply.text)")
        }
    }
}
