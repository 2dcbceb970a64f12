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
        return try TestClient.request(port: port, method, path, body: body, headers: authorization + headers, timeoutSeconds: 60)
    }

    func post(_ path: String, _ body: String? = nil, key: String?) throws -> Reply {
        try request("POST", path, body: body, key: key)
    }
}

/// Runs curl, as a CI job would, and returns its status code and body.
func curl(_ arguments: [String]) throws -> (status: Int, body: String) {
    let output = try runProgram(["/usr/bin/curl", "-sS", "-o", "-", "-w", "\n%{http_code}"] + arguments).out
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
    return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
}
