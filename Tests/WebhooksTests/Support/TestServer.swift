import Foundation
import HTTP
import Postgres
@testable import Webhooks
import TestSupport

/// A real Lakehook (service + HTTP server) on an ephemeral loopback port, over the test database.
final class TestServer: Sendable {
    let service: WebhookService
    let server: HTTPServer
    var port: Int { server.port }

    static let adminToken = "test-admin-token-0123456789"
    /// What an administration request sends with `adminToken`.
    static let adminHeaders = [("Authorization", "Bearer \(adminToken)")]

    init(
        limits: ServerLimits = ServerLimits(), poolSize: Int = 8, cacheTTL: Duration = .seconds(4),
        adminToken: String? = TestServer.adminToken, log: RequestLog = RequestLog(level: .error),
        eventLoops: Int? = nil, journal: Bool = true, config: PostgresConfig = TestDatabase.config(),
        doraMaxWindowDays: Int = DoraWindow.defaultMaxDays
    ) throws {
        _ = LakehookDatabase.pool
        let pool = PostgresPool(config: config, size: poolSize)
        service = WebhookService(
            pool: pool, log: log, cacheTTL: cacheTTL,
            publicURL: "http://127.0.0.1:4000", adminToken: adminToken, doraMaxWindowDays: doraMaxWindowDays,
            journal: journal)
        server = service.makeServer(host: "127.0.0.1", port: 0, limits: limits, eventLoops: eventLoops)
        try server.start()
    }

    /// One server for the whole test process; tests keep apart by each using its own connection.
    static let shared: TestServer = {
        do { return try TestServer() } catch { fatalError("cannot start the test server: \(error)") }
    }()

    /// A fresh connection with a unique name, and its key.
    func newConnection(_ label: String = "test") throws -> (DevLakeConnection, String) {
        let name = "\(label)-\(UUID().uuidString.prefix(13))"
        let (connection, key) = try service.store.create(name: name)
        return (connection, key.plaintext)
    }

    func stop() { server.shutdown(deadline: .seconds(2)); service.pool.close() }
}

/// What a test reads of an answer's JSON envelope (`JSONParser` is Webhooks').
extension Reply {
    var json: JSONObject? {
        if case .object(let object)? = try? JSONParser.parse(body) { return object }
        return nil
    }
    var causes: [String] {
        guard case .array(let items)? = json?["causes"] else { return [] }
        return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }
    var data: JSONObject? {
        if case .object(let object)? = json?["data"] { return object }
        return nil
    }
}
