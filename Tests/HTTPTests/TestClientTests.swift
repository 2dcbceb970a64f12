import Foundation
import Testing
import TestSupport

/// The test client is what every HTTP test trusts, so it is tested too.
@Suite("TestClient")
struct TestClientTests {
    /// Its socket used to be closed twice when the connect failed: once by `init`, once more by
    /// `deinit` (which Swift runs for a class whose `init` throws after setting every property).
    /// The second `close` hit whatever another thread had opened under that number meanwhile:
    /// a full run then saw a server close one of 16 concurrent clients, and 3 of 1,024 silent
    /// sockets shut without the server closing them. Here one thread fails to connect over and
    /// over while another keeps opening pipes: none of the pipes may be closed under it.
    @Test("a client that cannot connect closes its socket once: nothing another thread opens meanwhile is closed")
    func failedConnectClosesOnce() throws {
        let unused = try boundSocket(listening: false)  // bound, not listening: connects are refused
        defer { close(unused.fd) }
        let stop = Shared(false)
        let lost = Shared(0), opened = Shared(0)
        let opener = Thread {
            while !stop.withLock({ $0 }) {
                var ends: [Int32] = [-1, -1]
                guard pipe(&ends) == 0 else { continue }
                opened.withLock { $0 += 1 }
                for _ in 0..<50 { _ = getpid() }  // a moment for the other thread to close it
                for end in ends {
                    if fcntl(end, F_GETFD) == -1 {
                        lost.withLock { $0 += 1 }  // closed under us: its number is not ours to close
                    } else {
                        close(end)
                    }
                }
            }
        }
        opener.start()
        var refused = 0, connected = 0
        let started = Date()
        while Date().timeIntervalSince(started) < 2 {
            do {
                _ = try TestClient(port: unused.port)
                connected += 1
            } catch {
                refused += 1
            }
        }
        stop.withLock { $0 = true }
        try waitUntil { opened.withLock { $0 } > 0 }
        #expect(connected == 0)
        #expect(refused > 100 && opened.withLock { $0 } > 100, "refused \(refused), pipes \(opened.withLock { $0 })")
        #expect(lost.withLock { $0 } == 0, "\(lost.withLock { $0 }) pipe ends were closed by the failing client")
    }
}
