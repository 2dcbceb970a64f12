import Foundation
import TestSupport

/// A `lakehook serve` process, as production runs it: the built binary, configured by its
/// environment, its stderr (the JSON log) captured to a file.
///
/// Spawned with posix_spawn, the child opening its log file itself (`spawn`), not with
/// Foundation's `Process` and a `FileHandle`: two instances started at once by `Process`
/// once wrote one log file between them (one log empty, the other missing its "migrated"
/// line), which points at descriptors crossing between concurrent launches. Here no descriptor
/// of the test process is involved.
final class LakehookProcess: @unchecked Sendable {
    let port: Int
    let logFile: URL
    let pid: pid_t
    private let exit = Shared<Int32?>(nil)

    init(databaseURL: String, environment extra: [String: String] = [:]) throws {
        port = try freePort()
        logFile = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lakehook-\(UUID().uuidString.prefix(8)).log")
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = databaseURL
        env["LAKEHOOK_LISTEN"] = "127.0.0.1:\(port)"
        env["LAKEHOOK_LOG_LEVEL"] = "info"
        for (k, v) in extra { env[k] = v }

        pid = try spawn(
            [CommandLineBinaryTests.binary.path, "serve"], stdoutPath: "/dev/null", stderrPath: logFile.path,
            environment: env)
        try waitUntil(timeout: 15) { (try? self.get("/livez").status) == 200 }
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }
        try? FileManager.default.removeItem(at: logFile)
    }

    /// Reaps the child once it has exited (its status kept in `exit`).
    private var isRunning: Bool {
        exit.withLock { exit in
            guard exit == nil else { return false }
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return true }
            exit = exitCode(ofWaitStatus: status)
            return false
        }
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func get(_ path: String) throws -> Reply {
        try TestClient.request(port: port, "GET", path, host: "x", timeoutSeconds: 5)
    }

    func post(_ path: String, _ body: String?, key: String?, timeoutSeconds: Int = 15) throws -> Reply {
        // Content-Length: 0 when there is no body, as before.
        let authorization = key.map { [("Authorization", "Bearer \($0)")] } ?? []
        return try TestClient.request(
            port: port, "POST", path, body: body ?? "", headers: authorization, host: "x", timeoutSeconds: timeoutSeconds)
    }

    func signal(_ number: Int32) { kill(pid, number) }

    /// Waits for the process to exit; its exit status (128 + the signal when a signal ended it),
    /// or nil on timeout.
    func waitForExit(timeout: Double) -> Int32? {
        guard (try? waitUntil(timeout: timeout) { !isRunning }) != nil else { return nil }
        return exit.withLock { $0 }
    }
}
