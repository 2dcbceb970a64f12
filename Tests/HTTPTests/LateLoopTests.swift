import Foundation
import HTTP
import Testing
import TestSupport

/// The header timeout from the accept (issue 13) closes a connection that has sent nothing. When
/// the loop falls behind (here: a handler holds it 600 ms), the deadlines of connections whose
/// requests arrived meanwhile pass before the loop has read them. Closing them then, with unread
/// input, reset connections whose clients spoke in time (`recv: 104` in `make check`'s
/// ThreadSanitizer run, where the loops were starved): the timer reads before it decides.
@Suite("HTTPServer: a late loop")
struct LateLoopTests {
    @Test("requests that arrived while the loop was held past their header deadline are read and answered, not reset")
    func lateLoopReadsBeforeClosingSilentConnections() throws {
        var limits = ServerLimits()
        limits.headerTimeout = .milliseconds(300)
        let server = HTTPServer(
            host: "127.0.0.1", port: 0, limits: limits, eventLoops: 1,
            asyncHandler: { request, responder in
                if request.path == "/hold" { usleep(600_000) }  // on the loop: nothing else runs
                responder.respond(HTTPResponse(status: 200, headers: HTTPHeaders(), body: Array(request.path.utf8)))
            },
            errorResponse: testErrorResponse)
        try server.start()
        defer { server.shutdown(deadline: .seconds(2)) }

        let clients = try (0..<50).map { _ in try TestClient(port: server.port, timeoutSeconds: 5) }
        usleep(100_000)  // all accepted and started, each with its header deadline armed
        let holder = try TestClient(port: server.port)
        try holder.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(100_000)  // the loop is inside /hold now
        for (index, client) in clients.enumerated() {
            try client.send("GET /c\(index) HTTP/1.1\r\nHost: t\r\n\r\n")
        }
        #expect(try holder.readResponse().status == 200)
        var answered = 0
        var failures: [String] = []
        for (index, client) in clients.enumerated() {
            do {
                let response = try client.readResponse()
                if response.status == 200 && response.text == "/c\(index)" { answered += 1 }
            } catch {
                failures.append("\(index): \(error)")
            }
        }
        #expect(answered == clients.count, "\(failures.prefix(5))")
    }
}
