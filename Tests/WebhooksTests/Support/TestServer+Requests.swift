import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

extension TestServer {
    /// One request on a fresh connection.
    func request(
        _ method: String, _ path: String, body: String? = nil, key: String? = nil, headers: [(String, String)] = []
    ) throws -> Reply {
        let client = try TestClient(port: port, timeoutSeconds: 15)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let key { head += "Authorization: Bearer \(key)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bodyBytes = Array((body ?? "").utf8)
        if body != nil { head += "Content-Length: \(bodyBytes.count)\r\n" }
        try client.send(Array((head + "\r\n").utf8) + bodyBytes)
        return try client.receive()
    }

    func post(_ path: String, _ body: String? = nil, key: String?) throws -> Reply {
        try request("POST", path, body: body, key: key)
    }
}

/// Runs curl, as a CI job would, and returns its status code and body.
func curl(_ arguments: [String]) throws -> (status: Int, body: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["-sS", "-o", "-", "-w", "\n%{http_code}"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let output = String(decoding: data, as: UTF8.self)
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
    return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
}
