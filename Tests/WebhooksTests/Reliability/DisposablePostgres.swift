import Foundation
import TestSupport

/// A PostgreSQL server of the test's own, on a free port, that the test may stop (even in
/// immediate mode, like a crash) and start again. As root it runs as the `postgres` user.
final class DisposablePostgres: @unchecked Sendable {
    let port: Int
    let folder: URL
    private let bin: URL

    var conninfo: String { "host=127.0.0.1 port=\(port) user=postgres dbname=postgres" }

    init() throws {
        let candidates = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = candidates.sorted(by: { $0.compare($1, options: .numeric) == .orderedDescending }).first else {
            throw TestFailure("no PostgreSQL server under /usr/lib/postgresql")
        }
        bin = URL(fileURLWithPath: "/usr/lib/postgresql/\(version)/bin")
        port = try freePort()
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lakehook-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try asOwner(["/bin/chown", "postgres:postgres", folder.path], ownerOnly: false)
        try run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"])
    }

    deinit {
        _ = try? run("pg_ctl", ["-D", data, "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(at: folder)
    }

    private var data: String { folder.appendingPathComponent("data").path }

    func start() throws {
        let log = folder.appendingPathComponent("log").path
        do {
            try run("pg_ctl", [
                "-D", data, "-l", log, "-w", "-t", "30",
                "-o", "-p \(port) -k \(folder.path) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
                "start",
            ])
        } catch {
            // pg_ctl says only "stopped waiting": the server's own log says why.
            let tail = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(15)
            throw TestFailure("\(error)\n--- PostgreSQL's log:\n\(tail.joined(separator: "\n"))")
        }
    }

    /// `immediate` is a crash: no checkpoint, clients cut off.
    func stop(immediate: Bool = false) throws {
        try run("pg_ctl", ["-D", data, "-m", immediate ? "immediate" : "fast", "-w", "stop"])
    }

    @discardableResult
    private func run(_ tool: String, _ arguments: [String]) throws -> String {
        try asOwner([bin.appendingPathComponent(tool).path] + arguments, ownerOnly: true)
    }

    @discardableResult
    private func asOwner(_ command: [String], ownerOnly: Bool) throws -> String {
        let isRoot = getuid() == 0
        if !ownerOnly && !isRoot { return "" }  // chown is only needed (and allowed) as root
        let argv = isRoot && ownerOnly ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + command : command
        // Output goes to a file, not a pipe: the server that pg_ctl starts would inherit a pipe
        // and keep it open. posix_spawn + waitpid rather than Foundation's Process, whose exit
        // monitoring hung here on a child that had started a daemon.
        let outputPath = folder.appendingPathComponent("command-\(UUID().uuidString.prefix(8)).out").path
        defer { unlink(outputPath) }
        let (status, output) = try spawnAndWait(argv, outputPath: outputPath)
        guard status == 0 else {
            throw TestFailure("\(command.joined(separator: " ")) failed (\(status)): \(output)")
        }
        return output
    }
}
