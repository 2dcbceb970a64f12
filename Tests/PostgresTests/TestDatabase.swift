import Foundation
import Postgres

/// The tier-4 database: the standard `PG*` variables, defaulting to the local test server
/// (127.0.0.1:5432, user postgres, database postgres) so the suite runs as is.
enum TestDatabase {
    static func config(
        statementTimeout: Duration? = .seconds(15),
        connectTimeoutSeconds: Int = 5
    ) -> PostgresConfig {
        let environment = ProcessInfo.processInfo.environment
        func setting(_ name: String, _ fallback: String) -> String {
            guard let value = environment[name], !value.isEmpty else { return fallback }
            return value
        }
        let pairs = [
            ("host", setting("PGHOST", "127.0.0.1")),
            ("port", setting("PGPORT", "5432")),
            ("user", setting("PGUSER", "postgres")),
            ("dbname", setting("PGDATABASE", "postgres")),
        ]
        // PGPASSWORD, PGSSLMODE and the rest are read by libpq itself.
        let conninfo = pairs.map { "\($0.0)=\(quoted($0.1))" }.joined(separator: " ")
        return PostgresConfig(
            conninfo: conninfo,
            applicationName: "lakehook-tests",
            connectTimeoutSeconds: connectTimeoutSeconds,
            statementTimeout: statementTimeout
        )
    }

    static func connect() throws -> PostgresConnection {
        try PostgresConnection(config: config())
    }

    /// A table name no other test (or other user of the server) will pick.
    static func uniqueName(_ prefix: String) -> String {
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        return "lakehook_test_\(prefix)_\(suffix)"
    }

    /// Terminates the backend `pid` from another connection and waits until it has exited
    /// (PostgreSQL 14+ `pg_terminate_backend(pid, timeout)`), then a moment more: the backend
    /// leaves the process table a few instructions before its socket closes.
    static func terminate(pid: Int32) throws {
        let admin = try connect()
        let result = try admin.query("SELECT pg_terminate_backend($1::int, 5000) AS done", [String(pid)])
        precondition(result.rows.first?["done"] == "t", "backend \(pid) did not terminate")
        Thread.sleep(forTimeInterval: 0.05)
    }

    private static func quoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}

/// Runs `work(index)` on `count` new threads at once (not Dispatch workers, which are capped at
/// the core count) and returns when all have finished.
func onThreads(_ count: Int, _ work: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            work(index)
            group.leave()
        }
        thread.start()
    }
    group.wait()
}

/// Elapsed wall time of `body`, in seconds.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// An error of the test's own, to tell the body's error from the library's.
struct BodyError: Error, Equatable {}

/// A value shared between test threads behind an NSLock (ThreadSanitizer cannot see
/// `Synchronization.Mutex` on Linux and would report its accesses as races).
final class Shared<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
