import Dispatch
import Foundation
import HTTP
import Testing
import TestSupport

@Suite("HTTPServer: start and shutdown")
struct ServerShutdownTests {
    @Test("shutdown lets an in-flight slow handler answer 200 while new connections are refused")
    func gracefulShutdown() throws {
        let handlerStarted = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)
        let handler: HTTPHandler = { request in
            if request.path == "/slow" {
                handlerStarted.signal()
                // Still running once the shutdown has visibly begun.
                _ = proceed.wait(timeout: .now() + 10)
                usleep(100_000)
            }
            return HTTPResponse(status: 200, body: Array("done".utf8))
        }
        let server = HTTPServer(host: "127.0.0.1", port: 0, limits: ServerLimits(), handler: handler,
                                errorResponse: testErrorResponse)
        try server.start()
        let port = server.port

        let idle = try TestClient(port: port)
        try idle.send("GET /quick HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try idle.readResponse().status == 200)

        let busy = try TestClient(port: port)
        try busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(handlerStarted.wait(timeout: .now() + 5) == .success)

        let finished = DispatchSemaphore(value: 0)
        let started = Date()
        DispatchQueue.global().async {
            server.shutdown(deadline: .seconds(30))
            finished.signal()
        }
        // New connections are refused once the listener is gone.
        try waitUntil { (try? TestClient(port: port)) == nil }
        // The idle keep-alive connection is closed at once.
        #expect(idle.isClosedByServer())
        proceed.signal()

        let response = try busy.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "done")
        #expect(response.header("Connection") == "close")
        #expect(busy.isClosedByServer())
        #expect(finished.wait(timeout: .now() + 40) == .success)
        // Done when the busy request was answered, not at the 30 s deadline.
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(server.openConnectionCount == 0)
    }

    @Test("shutdown closes a handler's connection when the deadline passes")
    func deadlineForcesClose() throws {
        let release = DispatchSemaphore(value: 0)
        let handlerStarted = DispatchSemaphore(value: 0)
        let handler: HTTPHandler = { _ in
            handlerStarted.signal()
            _ = release.wait(timeout: .now() + 60)
            return HTTPResponse(status: 200)
        }
        let server = HTTPServer(host: "127.0.0.1", port: 0, limits: ServerLimits(), handler: handler,
                                errorResponse: testErrorResponse)
        try server.start()
        let client = try TestClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(handlerStarted.wait(timeout: .now() + 5) == .success)

        let started = Date()
        server.shutdown(deadline: .milliseconds(300))
        let elapsed = Date().timeIntervalSince(started)
        // It waited for the deadline (the handler would hold on for 60 s), and no longer.
        #expect(elapsed >= 0.25 && elapsed < 30)
        #expect(client.isClosedByServer())
        release.signal()
    }

    @Test("start reports an address already in use")
    func addressInUse() throws {
        try withServer { server in
            let second = HTTPServer(host: "127.0.0.1", port: server.port, limits: ServerLimits(),
                                    handler: echoHandler, errorResponse: testErrorResponse)
            #expect {
                try second.start()
            } throws: { error in
                String(describing: error).contains("Address already in use")
            }
        }
    }

    @Test("start refuses a host that is not an IP address")
    func invalidHost() {
        let server = HTTPServer(host: "not a host", port: 0, limits: ServerLimits(), handler: echoHandler,
                                errorResponse: testErrorResponse)
        #expect(throws: HTTPServerError.self) { try server.start() }
    }

    /// Whether this host can bind IPv6 loopback at all (a container may have no `::1`).
    static let hasIPv6Loopback: Bool = {
        let descriptor = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
            }
        }
    }()

    @Test("the server listens on IPv6 loopback",
          .enabled(if: hasIPv6Loopback, "this host has no IPv6 loopback: ::1 cannot be bound"))
    func ipv6() throws {
        let server = HTTPServer(host: "::1", port: 0, limits: ServerLimits(), handler: { request in
            HTTPResponse(status: 200, body: Array(request.remoteAddress.utf8))
        }, errorResponse: testErrorResponse)
        try server.start()
        defer { server.shutdown(deadline: .seconds(1)) }
        let client = try TestClient(port: server.port, ipv6: true)
        try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.text.hasPrefix("[::1]:"))
    }
}
