import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Webhooks
import TestSupport

/// Issue 13 (4): 1,000 connections each sending a body of 1 MiB − 1 byte took a `lakehook serve`
/// from 43 MB to 1,116 MB, and it stayed there. Refused requests now cost no body memory, and
/// the bodies read at once are held to `LAKEHOOK_MAX_BUFFERED_BODY_BYTES` (64 MiB).
@Suite("Body memory of a real lakehook process")
struct BodyMemoryTests {
    /// A field of /proc/<pid>/status, in KiB.
    static func status(_ pid: pid_t, _ field: String) -> Int {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// 1,000 connections at once: every head first (so they are all in the server together),
    /// then every body of 1 MiB − 1 byte from 8 threads. Returns the statuses answered.
    static func flood(port: Int, path: String, authorization: String?) throws -> [Int: Int] {
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: 1_048_575 - 8)
        let json = Array(#"{"x":""#.utf8) + body + Array(#""}"#.utf8)
        var clients: [TestClient] = []
        for _ in 0..<1000 {
            let client = try TestClient(port: port, timeoutSeconds: 20)
            var head = "POST \(path) HTTP/1.1\r\nHost: t\r\nContent-Length: \(json.count)\r\n"
            if let authorization { head += "Authorization: \(authorization)\r\n" }
            try client.send(head + "\r\n")
            clients.append(client)
        }
        let statuses = Shared<[Int: Int]>([:])
        let all = Shared(clients)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in stride(from: worker, to: 1000, by: 8) {
                let client = all.withLock { $0[index] }
                try? client.send(json)  // a refused one may be closed before its body is all sent
                let status = (try? client.receive().status) ?? 0
                statuses.withLock { $0[status, default: 0] += 1 }
            }
        }
        return statuses.withLock { $0 }
    }

    @Test("1,000 bodies of 1 MiB, refused and then authenticated, keep peak RSS under 128 MiB, and RSS comes back")
    func thousandMegabyteBodies() throws {
        let (connection, key) = try DevLakeConnectionStore(pool: LakehookDatabase.pool).create(name: "memory-\(UUID().uuidString.prefix(8))")
        let lakehook = try LakehookProcess(
            databaseURL: TestDatabase.config().conninfo,
            environment: ["LAKEHOOK_MAX_CONNECTIONS_PER_CLIENT": "1100", "LAKEHOOK_EVENT_LOOPS": "2"])
        let path = "/api/plugins/webhook/\(connection.id)/issues"
        #expect(try lakehook.post(path, "{}", key: key.plaintext).status == 400)  // warm: key cached, pipeline up
        let baseline = Self.status(lakehook.pid, "VmRSS")

        let refused = try Self.flood(port: lakehook.port, path: path, authorization: nil)
        #expect(refused[401, default: 0] + refused[0, default: 0] == 1000, "\(refused)")
        let peakRefused = Self.status(lakehook.pid, "VmHWM")

        let read = try Self.flood(port: lakehook.port, path: path, authorization: "Bearer \(key.plaintext)")
        // Read and decoded (400: not an issue) or turned away by the body budget (503).
        #expect(read[400, default: 0] > 0 && read[400, default: 0] + read[503, default: 0] + read[0, default: 0] == 1000, "\(read)")
        let peak = Self.status(lakehook.pid, "VmHWM")
        usleep(1_500_000)
        let after = Self.status(lakehook.pid, "VmRSS")
        print("body memory: baseline \(baseline) KiB, peak after refused \(peakRefused) KiB, peak \(peak) KiB, after \(after) KiB; refused \(refused), read \(read)")
        // Under a sanitizer (make check) the process's memory is the sanitizer's to keep (ASan
        // quarantines freed blocks, up to 256 MiB): the bounds hold for the build that ships.
        if let sanitizer = ProcessInfo.processInfo.environment["LAKEHOOK_TEST_SANITIZER"] {
            // Said where scripts/test.sh lists what this run skipped.
            print("lakehook-test: skipped the body memory bounds under the \(sanitizer) sanitizer (its own memory is not Lakehook's)")
            return
        }
        #expect(peak < 128 * 1024, "peak \(peak) KiB")
        #expect(after < baseline + 16 * 1024, "RSS \(baseline) → \(after) KiB")
    }
}
