import Foundation
import HTTP
import Testing
import TestSupport

@Suite("HTTPServer: curl as the client")
struct CurlTests {
    static let curl = "/usr/bin/curl"

    @Test("curl posting 5 KiB (with Expect: 100-continue) gets the echoed size")
    func curlPost() throws {
        // scripts/deps.sh --test and .ci/run install curl: without it this test fails, it is not skipped.
        try #require(FileManager.default.isExecutableFile(atPath: Self.curl), "\(Self.curl) is missing: apt-get install curl")
        let handler: HTTPHandler = { request in
            let expect = request.headers[first: "Expect"] ?? "none"
            return HTTPResponse(status: 200, body: Array("\(request.body.count) \(expect)".utf8))
        }
        try withServer(handler: handler) { server in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("lakehook-curl-\(UUID()).json")
            try Data(repeating: 0x7B, count: 5 * 1024).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }

            let started = Date()
            // Older curl asks for 100-continue above 1 KiB by itself, newer only above 1 MiB: ask
            // explicitly. Without our 100 Continue curl would wait the full 60 s before the body.
            let run = try runProgram([
                Self.curl, "-sS", "--max-time", "90", "--expect100-timeout", "60", "-H", "Expect: 100-continue",
                "--data-binary", "@\(file.path)", "http://127.0.0.1:\(server.port)/echo",
            ])
            #expect(run.status == 0)
            #expect(run.out == "5120 100-continue")
            #expect(Date().timeIntervalSince(started) < 30)
        }
    }
}
