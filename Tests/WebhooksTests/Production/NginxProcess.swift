import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Debian's nginx, started by a test on loopback with `docker/nginx.conf` as shipped: only the
/// `listen` port is substituted, the upstream's `server lakehook:4000 …;` line becomes one line
/// per local Lakehook (same parameters), and temporary files go to the test's folder. It runs in
/// the foreground (`daemon off`) in a process group of its own; `stop()` (or deinit) ends it and
/// its workers.
final class NginxProcess: @unchecked Sendable {
    static let binary = "/usr/sbin/nginx"
    static var shippedConfig: URL { PythonTools.projectRoot.appendingPathComponent("docker/nginx.conf") }

    let port: Int
    let folder: URL
    private let pid: pid_t
    private let exited = Shared(false)

    var errorLog: String { (try? String(contentsOf: folder.appendingPathComponent("error.log"), encoding: .utf8)) ?? "" }

    init(upstreamPorts: [Int]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw ClientError("nginx is missing (\(Self.binary)); install Debian's package: apt-get install nginx")
        }
        port = try freePort()
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lakehook-nginx-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let shipped = try String(contentsOf: Self.shippedConfig, encoding: .utf8)
        let config = try Self.config(from: shipped, port: port, upstreamPorts: upstreamPorts, folder: folder.path)
        let configPath = folder.appendingPathComponent("nginx.conf").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)

        let argv = [
            Self.binary, "-p", folder.path + "/", "-c", configPath, "-e", folder.appendingPathComponent("error.log").path,
            "-g", "daemon off; pid \(folder.appendingPathComponent("nginx.pid").path);",
        ]
        pid = try Self.spawn(argv, output: folder.appendingPathComponent("output.log").path)
        do {
            try waitUntil(timeout: 10) {
                if self.hasExited() { throw ClientError("nginx exited") }
                return (try? TestClient(port: self.port, timeoutSeconds: 1)) != nil
            }
        } catch {
            let output = (try? String(contentsOf: folder.appendingPathComponent("output.log"), encoding: .utf8)) ?? ""
            let log = errorLog
            stop()
            throw ClientError("nginx did not start: \(output)\(log)")
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// SIGTERM (nginx's fast shutdown: the master stops its workers, then exits); SIGKILL to the
    /// whole group if that takes more than 5 s.
    func stop() {
        guard !hasExited() else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while !hasExited() && Date() < deadline { usleep(20_000) }
        if !hasExited() {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            exited.withLock { $0 = true }
        }
    }

    private func hasExited() -> Bool {
        exited.withLock { done in
            if done { return true }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result == -1 && errno == ECHILD) { done = true }
            return done
        }
    }

    /// The shipped file with the test's port and upstreams; throws when the file no longer has
    /// the lines this substitutes (one `listen`, one `server lakehook:4000`, one `http {`).
    static func config(from text: String, port: Int, upstreamPorts: [Int], folder: String) throws -> String {
        var listens = 0, servers = 0, https = 0
        var out: [String] = []
        for line in text.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let indent = String(line.prefix { $0 == " " })
            if trimmed.hasPrefix("listen ") && trimmed.hasSuffix(";") {
                listens += 1
                out.append(indent + "listen 127.0.0.1:\(port);")
            } else if trimmed.hasPrefix("server lakehook:4000") {
                servers += 1
                let parameters = trimmed.dropFirst("server lakehook:4000".count)
                out += upstreamPorts.map { indent + "server 127.0.0.1:\($0)" + parameters }
            } else if trimmed == "http {" {
                https += 1
                out.append(line)
                // Debian's compiled-in temp paths are under /var/lib/nginx; keep the test's own.
                for kind in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
                    out.append("    \(kind)_temp_path \(folder)/\(kind)_temp;")
                }
            } else {
                out.append(line)
            }
        }
        guard listens == 1, servers == 1, https == 1 else {
            throw ClientError("docker/nginx.conf changed shape (listen: \(listens), server lakehook:4000: \(servers), http: \(https)); update NginxProcess")
        }
        return out.joined(separator: "\n")
    }

    /// posix_spawn in a new process group, stdout and stderr to `output`, stdin from /dev/null.
    private static func spawn(_ argv: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var cArgs = argv.map { strdup($0) }
        cArgs.append(nil)
        defer { for arg in cArgs { free(arg) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgs, environ)
        guard spawned == 0 else { throw ClientError("posix_spawn \(argv[0]): \(spawned)") }
        return pid
    }
}
