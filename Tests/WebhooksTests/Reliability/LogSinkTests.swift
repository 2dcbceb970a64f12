import Foundation
import Glibc
import Testing
@testable import Webhooks
import TestSupport

/// A pipe (or socket) whose reader the test controls: stderr as a container's log driver sees it.
private final class LogPipe {
    private(set) var readEnd: Int32
    let writeEnd: Int32

    enum Kind: String, CaseIterable, Sendable {
        case anonymous = "a pipe"
        case named = "a named FIFO"
        case socket = "a Unix stream socket"
    }

    init(_ kind: Kind = .anonymous) throws {
        switch kind {
        case .anonymous:
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw TestFailure("pipe failed: errno \(errno)") }
            readEnd = ends[0]
            writeEnd = ends[1]
        case .named:
            let path = NSTemporaryDirectory() + "lakehook-log-\(UUID().uuidString)"
            guard mkfifo(path, 0o600) == 0 else { throw TestFailure("mkfifo failed: errno \(errno)") }
            defer { unlink(path) }
            readEnd = open(path, O_RDONLY | O_NONBLOCK)
            writeEnd = open(path, O_WRONLY)
            guard readEnd >= 0, writeEnd >= 0 else { throw TestFailure("opening the FIFO failed: errno \(errno)") }
        case .socket:
            var ends: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0 else {
                throw TestFailure("socketpair failed: errno \(errno)")
            }
            readEnd = ends[0]
            writeEnd = ends[1]
        }
    }

    deinit {
        closeReader()
        close(writeEnd)
    }

    /// Writes fail with EPIPE from then on (so a writer stuck on the full pipe gets free).
    func closeReader() {
        if readEnd >= 0 { close(readEnd) }
        readEnd = -1
    }

    /// Reads until `done` holds for what was read, or fails after `seconds`.
    func read(until done: (String) -> Bool, seconds: Double = 10) throws -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(seconds)
        while !done(String(decoding: bytes, as: UTF8.self)) {
            guard Date() < deadline else { throw TestFailure("the log did not come out within \(seconds) s") }
            var watch = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            guard poll(&watch, 1, 100) > 0 else { continue }
            let n = Glibc.read(readEnd, &chunk, chunk.count)
            if n > 0 { bytes += chunk[..<n] }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

@Suite("Log sink: a reader that falls behind never stops a writer")
struct LogSinkTests {
    @Test(
        "a full pipe never makes a writer wait; the backlog comes out in order once read, then how many lines were dropped",
        arguments: LogPipe.Kind.allCases)
    fileprivate func fullPipe(kind: LogPipe.Kind) throws {
        let pipe = try LogPipe(kind)
        let sink = LogSink(fd: pipe.writeEnd)
        let total = 12_000
        // 190 bytes a line, 2.3 MB in all: 64 KiB fill the pipe, 1 MiB the backlog, the rest is dropped.
        let padding = String(repeating: "x", count: 178)
        let finished = DispatchSemaphore(value: 0)
        Thread {
            for n in 0..<total {
                let number = String(n)
                sink.write(Array("line \(String(repeating: "0", count: 5 - number.count))\(number) \(padding)\n".utf8))
            }
            finished.signal()
        }.start()
        #expect(finished.wait(timeout: .now() + 10) == .success, "a write waited for the reader")
        #expect(sink.isBehind)

        let text = try pipe.read(until: { $0.contains("log lines dropped") })
        let lines = text.split(separator: "\n")
        let numbers = lines.compactMap { $0.hasPrefix("line ") ? Int($0.dropFirst(5).prefix(5)) : nil }
        #expect(numbers == Array(0..<numbers.count), "lines out of order or missing before the drops")
        #expect(numbers.count >= 5_000 && numbers.count < total)
        #expect(lines.allSatisfy { $0.hasPrefix("line ") ? $0.count == 189 : $0.hasPrefix("{") })
        let warning = try #require(lines.last.flatMap { try? JSONParser.parse(Array($0.utf8)) })
        #expect(warning == .object([
            "time": warning.objectValue?["time"] ?? .null, "level": "warn",
            "msg": "log lines dropped: stderr was full", "lines": .integer(Int64(total - numbers.count)),
        ]))
        #expect(!sink.isBehind)

        // Caught up: lines go straight out again.
        sink.write(Array("after\n".utf8))
        #expect(try pipe.read(until: { $0 == "after\n" }) == "after\n")
    }

    @Test("a server whose stderr nobody reads keeps answering, and its log catches up once read")
    func serverKeepsAnswering() throws {
        let pipe = try LogPipe()
        let sink = LogSink(fd: pipe.writeEnd)
        let server = try TestServer(log: RequestLog(level: .info, sink: sink))
        defer {
            pipe.closeReader()  // first: an event loop stuck writing its log could not stop
            server.stop()
        }
        // A /livez line is about 250 bytes: 1,000 requests fill the pipe four times over.
        for _ in 0..<1_000 {
            let reply = try server.request("GET", "/livez")
            guard reply.status == 200 else { throw TestFailure("/livez answered \(reply.status)") }
        }
        #expect(sink.isBehind)
        let text = try pipe.read(until: { $0.components(separatedBy: "\"path\":\"/livez\"").count > 1_000 })
        #expect(!text.contains("log lines dropped"))
    }
}
