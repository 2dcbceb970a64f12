import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Webhooks
import TestSupport

/// Issue 13 (4): a request that will be refused is answered from its head, before its body is
/// read and without `100 Continue` (it used to buffer up to 1 MiB first, and invite it).
@Suite("Early refusals: key, token and route checked before the body")
struct EarlyRefusalTests {
    let server = TestServer.shared

    /// Sends a head declaring a 1 MiB body and asking for 100-continue, and returns the first
    /// bytes the server answers (with no body byte sent).
    func firstAnswer(_ path: String, method: String = "POST", authorization: String?) throws -> String {
        let client = try TestClient(port: server.port, timeoutSeconds: 5)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1048575\r\n"
        if let authorization { head += "Authorization: \(authorization)\r\n" }
        try client.send(head + "\r\n")
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = recv(client.fd, &bytes, bytes.count, 0)
        return String(decoding: bytes[..<max(count, 0)], as: UTF8.self)
    }

    @Test("no key, a wrong key, an unknown connection, an unknown route, a wrong method: answered before the body, then closed",
          arguments: [
              ("/api/plugins/webhook/{id}/issues", nil as String?, "401"),
              ("/api/plugins/webhook/{id}/issues", "Bearer lhk_wrong", "403"),
              ("/api/plugins/webhook/999999999/issues", "Bearer {key}", "403"),
              ("/api/plugins/webhook/{id}/no-such-route", "Bearer {key}", "404"),
              ("/api/plugins/webhook/abc/issues", "Bearer {key}", "400"),
          ])
    func ingestRefusedFromHead(path: String, authorization: String?, status: String) throws {
        let (connection, key) = try server.newConnection("early")
        let answer = try firstAnswer(
            path.replacingOccurrences(of: "{id}", with: String(connection.id)),
            authorization: authorization?.replacingOccurrences(of: "{key}", with: key))
        #expect(answer.hasPrefix("HTTP/1.1 \(status) "), "\(answer.prefix(200))")
        #expect(answer.contains("Connection: close"))
        #expect(answer.contains(#""success":false"#))
    }

    @Test("a wrong method on an ingest route is 405 before the body")
    func wrongMethod() throws {
        let (connection, key) = try server.newConnection("early")
        let answer = try firstAnswer("/api/plugins/webhook/\(connection.id)/issues", method: "PUT", authorization: "Bearer \(key)")
        #expect(answer.hasPrefix("HTTP/1.1 405 "))
        #expect(answer.contains("Allow: POST"))
    }

    @Test("administration with a wrong admin token is 403 before the body")
    func adminRefusedFromHead() throws {
        let answer = try firstAnswer("/api/plugins/webhook/connections", authorization: "Bearer wrong-token-0123456789")
        #expect(answer.hasPrefix("HTTP/1.1 403 "))
        let missing = try firstAnswer("/api/plugins/webhook/connections", authorization: nil)
        #expect(missing.hasPrefix("HTTP/1.1 401 "))
    }

    @Test("a right key not yet cached is looked up off the loop, then 100 Continue and the body are read")
    func uncachedKeyProceeds() throws {
        // A server of its own, so the key cannot be in its cache yet.
        let fresh = try TestServer()
        defer { fresh.stop() }
        let (connection, key) = try fresh.newConnection("early")
        let client = try TestClient(port: fresh.port, timeoutSeconds: 15)
        let body = Array(#"{"issue_key":"E-1","title":"t","status":"TODO","original_status":"open","created_date":"2024-01-01"}"#.utf8)
        try client.send("POST /api/plugins/webhook/\(connection.id)/issues HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
            + "Authorization: Bearer \(key)\r\nContent-Length: \(body.count)\r\n\r\n")
        var interim = [UInt8](repeating: 0, count: 64)
        let count = recv(client.fd, &interim, interim.count, 0)
        #expect(String(decoding: interim[..<max(count, 0)], as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
        try client.send(body)
        let reply = try client.receive()
        #expect(reply.status == 200, "\(reply.text)")
    }
}
