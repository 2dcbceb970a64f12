import Foundation
import Testing
import TestSupport

/// The servers the tests start (PostgreSQL, lakehook) inherit no descriptor of the test process.
/// They did: while a hostile-client test held 1,000 sockets, a PostgreSQL started by
/// `DisposablePostgres` counted them against its own limit and refused to start
/// ("insufficient file descriptors available to start server process ... System allows 32").
@Suite("Spawning test servers")
struct SpawnTests {
    @Test("a spawned program sees only stdin, stdout and stderr, though the test process holds 500 sockets")
    func childInheritsNoDescriptors() throws {
        let held = (0..<500).map { _ in socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        defer { for fd in held where fd >= 0 { close(fd) } }
        #expect(held.allSatisfy { $0 >= 0 })
        let output = NSTemporaryDirectory() + "spawn-\(UUID().uuidString.prefix(8)).out"
        defer { unlink(output) }
        // ls opens /proc/self/fd itself: one more descriptor than it inherited.
        let (status, listing) = try spawnAndWait(["/bin/ls", "/proc/self/fd"], outputPath: output)
        #expect(status == 0)
        let descriptors = listing.split(separator: "\n").compactMap { Int($0) }
        #expect(descriptors.count <= 4, "the child had \(descriptors.count) descriptors: \(descriptors.prefix(20))")
    }

    @Test("lakehook serve started with a soft descriptor limit of 256 raises it to the hard limit")
    func serveRaisesItsDescriptorLimit() throws {
        let port = try freePort()
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = TestDatabase.config().conninfo
        environment["LAKEHOOK_LISTEN"] = "127.0.0.1:\(port)"
        let log = NSTemporaryDirectory() + "limit-\(UUID().uuidString.prefix(8)).log"
        defer { unlink(log) }
        let pid = try spawn(
            ["/bin/sh", "-c", #"ulimit -Sn 256 && exec "$0" serve"#, CommandLineBinaryTests.binary.path],
            stdoutPath: log, environment: environment)
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        try waitUntil(timeout: 15) {
            let client = try TestClient(port: port, timeoutSeconds: 2)
            try client.send("GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return try client.receive().status == 200
        }
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        // "Max open files  <soft>  <hard>  files"
        #expect(fields.count >= 5 && fields[3] == fields[4] && fields[3] != "256", "\(line)")
    }
}
