import Foundation

/// A `lakehook serve` process, as production runs it: the built binary, configured by its
/// environment, its stderr (the JSON log) captured to a file.
final class LakehookProcess: @unchecked Sendable {
    let port: Int
    let process = Process()
    let logFile: URL

    init(databaseURL: String, environment extra: [String: String] = [:]) throws {
        port = try freePort()
        logFile = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lakehook-\(UUID().uuidString.prefix(8)).log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = CommandLineBinaryTests.binary
        process.arguments = ["serve"]
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = databaseURL
        env["LAKEHOOK_LISTEN"] = "127.0.0.1:\(port)"
        env["LAKEHOOK_LOG_LEVEL"] = "info"
        for (k, v) in extra { env[k] = v }
        process.environment = env
        process.standardError = try FileHandle(forWritingTo: logFile)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        try waitUntil(timeout: 15) { (try? self.get("/livez").status) == 200 }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(at: logFile)
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func get(_ path: String) throws -> Reply {
        let client = try TestClient(port: port, timeoutSeconds: 5)
        try client.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return try client.receive()
    }

    func post(_ path: String, _ body: String?, key: String?, timeoutSeconds: Int = 15) throws -> Reply {
        let client = try TestClient(port: port, timeoutSeconds: timeoutSeconds)
        let bytes = Array((body ?? "").utf8)
        var head = "POST \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(bytes.count)\r\n"
        if let key { head += "Authorization: Bearer \(key)\r\n" }
        try client.send(Array((head + "\r\n").utf8) + bytes)
        return try client.receive()
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit; its status, or nil on timeout.
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }
}

/// Polls `condition` until it holds or `timeout` seconds pass (then throws).
func waitUntil(timeout: Double, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if (try? condition()) == true { return }
        usleep(50_000)
    }
    throw ClientError("condition not met within \(timeout) s")
}
