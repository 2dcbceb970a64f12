import Foundation
import HTTP
import Testing
import TestSupport

/// Who holds a connection slot: silent connections are closed after the header timeout and
/// give up their slot to newcomers; one client address cannot take every slot.
@Suite("HTTPServer: admission, silent connections and per-client caps")
struct ServerAdmissionTests {
    @Test("a connection that never sends a byte is closed after the header timeout, not the idle timeout")
    func silentConnectionGetsHeaderTimeout() throws {
        var limits = ServerLimits()
        limits.headerTimeout = .milliseconds(300)
        limits.idleTimeout = .seconds(60)
        let recorder = RefusalRecorder()
        try withServer(limits: limits, onRefusal: recorder.observer) { server in
            let silent = try TestClient(port: server.port, timeoutSeconds: 40)
            let started = Date()
            #expect(silent.isClosedByServer())  // no 408: there was no request to answer
            // The header timeout (0.3 s), not the idle one (60 s): a ceiling far from both.
            #expect(Date().timeIntervalSince(started) < 30)
            #expect(recorder.wait { $0.contains(.headerTimeout) })
        }
    }

    @Test("a client at its cap is answered 503 when none of its connections is silent")
    func perClientCap() throws {
        var limits = ServerLimits()
        limits.maxConnectionsPerClient = 2
        let recorder = RefusalRecorder()
        try withServer(limits: limits, onRefusal: recorder.observer) { server in
            let clients = try (0..<2).map { _ in try TestClient(port: server.port) }
            for client in clients {
                try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try client.readResponse().status == 200)
            }
            let third = try TestClient(port: server.port)
            let refused = try third.readResponse()
            #expect(refused.status == 503)
            #expect(refused.text.contains("for this client address"))
            #expect(recorder.wait { $0.contains(.clientLimit) })
            // The two that spoke keep working.
            try clients[0].send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try clients[0].readResponse().status == 200)
        }
    }

    @Test("a newcomer at the cap takes the slot of the oldest silent connection, which is closed")
    func oldestSilentIsEvicted() throws {
        var limits = ServerLimits()
        limits.maxConnections = 3
        let recorder = RefusalRecorder()
        try withServer(limits: limits, onRefusal: recorder.observer) { server in
            let speaking = try TestClient(port: server.port)
            try speaking.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try speaking.readResponse().status == 200)
            let oldSilent = try TestClient(port: server.port)
            usleep(50_000)
            let newSilent = try TestClient(port: server.port, timeoutSeconds: 1)
            usleep(50_000)
            let newcomer = try TestClient(port: server.port)
            try newcomer.send("GET /n HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try newcomer.readResponse().status == 200)
            #expect(oldSilent.isClosedByServer())
            #expect(!newSilent.isClosedByServer())  // still open: the receive timed out
            #expect(recorder.count(.evictedSilent) == 1)
            try speaking.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try speaking.readResponse().status == 200)
        }
    }

    @Test("with 4 event loops, 300 silent sockets cannot keep 20 real requests out, and are all shed")
    func silentFloodOnSeveralLoops() throws {
        var limits = ServerLimits()
        limits.maxConnections = 256
        // Long enough that a real request held up behind the silent ones would wait for it.
        limits.headerTimeout = .seconds(20)
        let recorder = RefusalRecorder()
        try withServer(limits: limits, eventLoops: 4, onRefusal: recorder.observer) { server in
            let silent = try (0..<300).map { _ in try TestClient(port: server.port, timeoutSeconds: 40) }
            let started = Date()
            for index in 0..<20 {
                let client = try TestClient(port: server.port)
                try client.send("GET /\(index) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                #expect(try client.readResponse().status == 200)
            }
            // Well before the header timeout would have shed the silent ones (20 s).
            #expect(Date().timeIntervalSince(started) < 10)
            // Beyond the cap the oldest were evicted; the rest go at the header timeout.
            #expect(silent.allSatisfy { $0.isClosedByServer() })
            #expect(recorder.count(.evictedSilent) >= 300 - 256)
            #expect(recorder.wait { $0.count(where: { $0 == .evictedSilent || $0 == .headerTimeout }) == 300 })
        }
    }
}
