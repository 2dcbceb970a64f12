import Foundation
import TestSupport
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
            throw TestFailure("nginx is missing (\(Self.binary)); install Debian's package: apt-get install nginx")
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
        pid = try spawn(argv, stdoutPath: folder.appendingPathComponent("output.log").path)
        do {
            try waitUntil(timeout: 10) {
                if self.hasExited() { throw TestFailure("nginx exited") }
                return (try? TestClient(port: self.port, timeoutSeconds: 1)) != nil
            }
        } catch {
            let output = (try? String(contentsOf: folder.appendingPathComponent("output.log"), encoding: .utf8)) ?? ""
            let log = errorLog
            stop()
            throw TestFailure("nginx did not start: \(output)\(log)")
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
        if (try? waitUntil(timeout: 5) { hasExited() }) == nil {
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
            throw TestFailure("docker/nginx.conf changed shape (listen: \(listens), server lakehook:4000: \(servers), http: \(https)); update NginxProcess")
        }
        return out.joined(separator: "\n")
    }
}
