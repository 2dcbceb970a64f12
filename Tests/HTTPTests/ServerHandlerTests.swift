import Dispatch
import Foundation
import HTTP
import Testing
import TestSupport

/// Tracks how many handlers run at once.
final class ConcurrencyGauge: @unchecked Sendable {
    private let lock = NSLock()
    private var running = 0
    private var arrived = 0
    private(set) var peak = 0

    func enter() {
        lock.withLock {
            running += 1
            arrived += 1
            peak = max(peak, running)
        }
    }

    func leave() { lock.withLock { running -= 1 } }
    var arrivals: Int { lock.withLock { arrived } }
    var peakValue: Int { lock.withLock { peak } }
}

@Suite("HTTPServer: handlers")
struct ServerHandlerTests {
    /// Sends one request on each of `count` connections at once and reads every answer.
    private func requestInParallel(port: Int, count: Int) throws -> [Int] {
        let clients = try (0..<count).map { _ in try TestClient(port: port) }
        for client in clients { try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n") }
        return try clients.map { try $0.readResponse().status }
    }

    @Test("blocking handlers of different connections run at the same time")
    func handlersRunConcurrently() throws {
        let gauge = ConcurrencyGauge()
        let handler: HTTPHandler = { _ in
            gauge.enter()
            defer { gauge.leave() }
            // Wait until all four are in, proving they overlap (bounded, so a failure is quick).
            _ = try? waitUntil(timeout: 3, interval: 0.005) { gauge.arrivals >= 4 }
            return HTTPResponse(status: 200)
        }
        try withServer(handler: handler) { server in
            let statuses = try requestInParallel(port: server.port, count: 4)
            #expect(statuses == [200, 200, 200, 200])
            #expect(gauge.peakValue == 4)
        }
    }

    @Test("handlers beyond maxConcurrentHandlers wait their turn and still run")
    func handlerCap() throws {
        let gauge = ConcurrencyGauge()
        let handler: HTTPHandler = { _ in
            gauge.enter()
            defer { gauge.leave() }
            usleep(50_000)
            return HTTPResponse(status: 200)
        }
        var limits = ServerLimits()
        limits.maxConcurrentHandlers = 1
        try withServer(limits: limits, handler: handler) { server in
            let statuses = try requestInParallel(port: server.port, count: 3)
            #expect(statuses == [200, 200, 200])
            #expect(gauge.peakValue == 1)
            #expect(gauge.arrivals == 3)
        }
    }

    @Test("a client gone while its handler runs: the handler completes and the server carries on")
    func clientGoneDuringHandler() throws {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let completed = DispatchSemaphore(value: 0)
        let handler: HTTPHandler = { request in
            guard request.path == "/hold" else { return HTTPResponse(status: 200) }
            started.signal()
            _ = release.wait(timeout: .now() + 5)
            completed.signal()
            return HTTPResponse(status: 200, body: [UInt8](repeating: 1, count: 1_000_000))
        }
        try withServer(handler: handler) { server in
            do {
                let client = try TestClient(port: server.port)
                try client.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(started.wait(timeout: .now() + 5) == .success)
            }
            release.signal()
            #expect(completed.wait(timeout: .now() + 5) == .success)
            let probe = try TestClient(port: server.port)
            try probe.send("GET /probe HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try probe.readResponse().status == 200)
            try waitUntil { server.openConnectionCount == 1 }
        }
    }

    @Test("requests on one connection are handled one at a time, in order")
    func inOrderPerConnection() throws {
        let gauge = ConcurrencyGauge()
        let handler: HTTPHandler = { request in
            gauge.enter()
            defer { gauge.leave() }
            usleep(request.path == "/1" ? 100_000 : 0)
            return HTTPResponse(status: 200, body: Array(request.path.utf8))
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            try client.send((1...3).map { "GET /\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined())
            let paths = try (1...3).map { _ in try client.readResponse().text }
            #expect(paths == ["/1", "/2", "/3"])
            #expect(gauge.peakValue == 1)
        }
    }
}
