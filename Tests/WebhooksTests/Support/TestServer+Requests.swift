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
        let authorization = key.map { [("Authorization", "Bearer \($0)")] } ?? []
        return try TestClient.request(port: port, method, path, body: body, headers: authorization + headers, timeoutSeconds: 15)
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
