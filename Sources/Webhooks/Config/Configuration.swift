import Foundation
import HTTP
import Postgres

/// Everything the service reads from its environment, read once at start.
///
/// A bad value stops the start with a message that names the variable and says what to fix.
public struct Configuration: Sendable {
    public enum LogLevel: String, Sendable, CaseIterable, Comparable {
        case debug, info, warn, error
        public static func < (a: LogLevel, b: LogLevel) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    public var database: PostgresConfig
    public var listenHost: String
    public var listenPort: Int
    public var maxBodyBytes: Int
    public var databasePoolSize: Int
    /// How long a request waits for a free database connection before answering 503.
    public var databaseWaitTimeout: Duration
    public var logLevel: LogLevel
    /// The base URL printed in endpoint URLs (`lakehook connections create`); defaults to the listen address.
    public var publicURL: String
    /// Bearer token for connection administration over HTTP; nil turns that administration off.
    public var adminToken: String?
    /// Proxies whose `X-Forwarded-For` is believed (LAKEHOOK_TRUSTED_PROXIES).
    public var trustedProxies: TrustedProxies
    /// How long SIGTERM waits for in-flight requests before closing everything.
    public var shutdownDeadline: Duration
    /// Single-statement writes go through one pipelined connection per event loop
    /// (LAKEHOOK_DB_PIPELINE, default on); off, every write takes a pool connection.
    public var databasePipeline = true
    /// Most pipelined connections of the instance (LAKEHOOK_DB_PIPELINE_CONNECTIONS), shared out
    /// among the event loops: opened as load rises, so that concurrent commits share a WAL flush.
    public var pipelineConnections = Configuration.defaultPipelineConnections
    public static let defaultPipelineConnections = 16

    /// Each event loop's share of `pipelineConnections` (at least one).
    public var pipelineConnectionsPerLoop: Int { max(1, (pipelineConnections + eventLoops - 1) / eventLoops) }
    /// Threads serving HTTP connections (LAKEHOOK_EVENT_LOOPS); each has one pipelined database
    /// connection.
    public var eventLoops = Configuration.defaultEventLoops
    /// Most connections from one client IP (LAKEHOOK_MAX_CONNECTIONS_PER_CLIENT).
    public var maxConnectionsPerClient = ServerLimits().maxConnectionsPerClient
    /// Most request-body bytes held at once across all connections (LAKEHOOK_MAX_BUFFERED_BODY_BYTES).
    public var maxBufferedBodyBytes = ServerLimits().maxBufferedBodyBytes

    /// The HTTP server's limits: the defaults of `ServerLimits`, with what is configurable here.
    public var serverLimits: ServerLimits {
        var limits = ServerLimits()
        limits.maxBodyBytes = maxBodyBytes
        limits.maxConnectionsPerClient = maxConnectionsPerClient
        limits.maxBufferedBodyBytes = maxBufferedBodyBytes
        return limits
    }
    /// The longest window a DORA report may span, in days (LAKEHOOK_DORA_MAX_WINDOW_DAYS): the
    /// CLI, `GET /api/dora` and `GET /dora` refuse longer ones.
    public var doraMaxWindowDays = DoraWindow.defaultMaxDays
    /// Every authenticated ingest request is journaled (LAKEHOOK_JOURNAL, default on).
    public var journal = true
    /// Days the journal keeps (LAKEHOOK_JOURNAL_DAYS; 0: forever).
    public var journalDays = 30
    /// How often the DORA gauges of `/metrics` are computed, in the background
    /// (LAKEHOOK_DORA_REFRESH, seconds; 0: never, and `/metrics` has no DORA figures).
    public var doraRefreshSeconds = DoraMetricsRefresher.defaultIntervalSeconds
    /// Most projects the DORA gauges cover (LAKEHOOK_DORA_PROJECTS_MAX); the rest, in name
    /// order, are left out and counted in `lakehook_dora_projects_omitted`.
    public var doraProjectsMax = DoraMetricsRefresher.defaultMaxProjects

    /// One line per variable for `--help`: name, default, meaning.
    public static let variables: [(name: String, defaultValue: String, meaning: String)] = [
        ("DATABASE_URL", "(libpq's PG* variables)", "PostgreSQL to use, e.g. postgres://user:pass@host:5432/db"),
        ("LAKEHOOK_LISTEN", "127.0.0.1:4000", "address and port to serve on (host:port, [v6]:port)"),
        ("LAKEHOOK_MAX_BODY_BYTES", "1048576", "largest accepted request body, in bytes (larger: 413)"),
        ("LAKEHOOK_MAX_CONNECTIONS_PER_CLIENT", "256", "most connections from one client IP; past it a silent one is closed or 503 (behind a proxy: its IP)"),
        ("LAKEHOOK_MAX_BUFFERED_BODY_BYTES", "67108864", "most request-body bytes held at once across all connections; past it 503 with Retry-After"),
        ("LAKEHOOK_DB_POOL_SIZE", "2 x cores, at least 4", "database connections per instance"),
        ("LAKEHOOK_DB_WAIT_MS", "5000", "how long a request waits for a free database connection before 503"),
        ("LAKEHOOK_DB_STATEMENT_TIMEOUT_MS", "15000", "statement_timeout of every query; past it the request answers 503"),
        ("LAKEHOOK_EVENT_LOOPS", "cores / 2, at least 1", "threads serving HTTP; each has one pipelined database connection"),
        ("LAKEHOOK_DB_PIPELINE", "on", "on: single-statement writes go through each event loop's pipelined connections; off: each takes a pool connection"),
        ("LAKEHOOK_DB_PIPELINE_CONNECTIONS", "16", "most pipelined connections of the instance, shared out among the event loops and opened as load rises, so that concurrent commits share a disk flush"),
        ("LAKEHOOK_LOG_LEVEL", "info", "debug, info, warn or error"),
        ("LAKEHOOK_PUBLIC_URL", "http://<LAKEHOOK_LISTEN>", "base URL shown in connection endpoint URLs"),
        ("LAKEHOOK_SHUTDOWN_SECONDS", "10", "on SIGTERM, how long in-flight requests may take to finish"),
        ("LAKEHOOK_TRUSTED_PROXIES", "(none)", "comma-separated IPs/CIDRs whose X-Forwarded-For is believed, e.g. 127.0.0.1,10.0.0.0/8"),
        ("LAKEHOOK_ADMIN_TOKEN", "(unset: HTTP administration off)", "Bearer token for /connections over HTTP (at least 16 characters)"),
        ("LAKEHOOK_JOURNAL", "on", "on: every authenticated ingest request is kept in webhook_events (lakehook events, replay, export); off: none is"),
        ("LAKEHOOK_JOURNAL_DAYS", "30", "days the journal keeps, dropped a whole day at a time; 0 keeps everything"),
        ("LAKEHOOK_DORA_MAX_WINDOW_DAYS", "731", "longest DORA report window in days (1-36525); longer: 400, or exit 1 in the CLI"),
        ("LAKEHOOK_DORA_REFRESH", "60", "seconds between background computations of the DORA gauges of /metrics (last 30 days); 0 turns them off"),
        ("LAKEHOOK_DORA_PROJECTS_MAX", "100", "most projects in the DORA gauges of /metrics (first in name order); the rest are counted in lakehook_dora_projects_omitted"),
    ]

    public static var defaultPoolSize: Int { max(4, 2 * ProcessInfo.processInfo.activeProcessorCount) }

    /// Half the cores: a request costs Lakehook about half what it costs PostgreSQL, and fewer
    /// threads sharing the cores with the database batch more (docs/PERFORMANCE.md).
    public static var defaultEventLoops: Int { max(1, ProcessInfo.processInfo.activeProcessorCount / 2) }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> Configuration {
        var problems: [String] = []
        func value(_ name: String) -> String? {
            guard let raw = env[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) -> Int {
            guard let raw = value(name) else { return fallback }
            guard let number = Int(raw), range.contains(number) else {
                problems.append("\(name)=\(raw) is not a whole number between \(range.lowerBound) and \(range.upperBound)")
                return fallback
            }
            return number
        }

        var database = PostgresConfig.fromEnvironment(env)
        let statementTimeout = integer("LAKEHOOK_DB_STATEMENT_TIMEOUT_MS", default: 15_000, range: 1...3_600_000)
        database.statementTimeout = .milliseconds(statementTimeout)
        let waitTimeout = integer("LAKEHOOK_DB_WAIT_MS", default: 5_000, range: 1...600_000)
        do { try database.validate() } catch {
            problems.append("DATABASE_URL is not a valid PostgreSQL connection string: \(error)")
        }

        var host = "127.0.0.1", port = 4000
        if let listen = value("LAKEHOOK_LISTEN") {
            if let parsed = parseListenAddress(listen) {
                (host, port) = parsed
            } else {
                problems.append("LAKEHOOK_LISTEN=\(listen) is not host:port (e.g. 127.0.0.1:4000, 0.0.0.0:4000, [::]:4000)")
            }
        }
        let maxBody = integer("LAKEHOOK_MAX_BODY_BYTES", default: 1 << 20, range: 1...(1 << 30))
        let perClient = integer("LAKEHOOK_MAX_CONNECTIONS_PER_CLIENT", default: ServerLimits().maxConnectionsPerClient, range: 1...1_000_000)
        let bufferedBodies = integer("LAKEHOOK_MAX_BUFFERED_BODY_BYTES", default: ServerLimits().maxBufferedBodyBytes, range: 1...(1 << 40))
        if bufferedBodies < maxBody {
            problems.append("LAKEHOOK_MAX_BUFFERED_BODY_BYTES=\(bufferedBodies) is smaller than LAKEHOOK_MAX_BODY_BYTES=\(maxBody): no body of the largest size could ever be read")
        }
        let shutdownSeconds = integer("LAKEHOOK_SHUTDOWN_SECONDS", default: 10, range: 0...3600)
        let poolSize = integer("LAKEHOOK_DB_POOL_SIZE", default: defaultPoolSize, range: 1...1000)
        var level = LogLevel.info
        if let raw = value("LAKEHOOK_LOG_LEVEL") {
            if let parsed = LogLevel(rawValue: raw.lowercased()) {
                level = parsed
            } else {
                problems.append("LAKEHOOK_LOG_LEVEL=\(raw) is not one of debug, info, warn, error")
            }
        }
        let shownHost = host.contains(":") ? "[\(host)]" : (host == "0.0.0.0" ? "127.0.0.1" : host)
        var publicURL = "http://\(shownHost):\(port)"
        if let raw = value("LAKEHOOK_PUBLIC_URL") {
            if raw.hasPrefix("http://") || raw.hasPrefix("https://") {
                publicURL = raw.hasSuffix("/") ? String(raw.dropLast()) : raw
            } else {
                problems.append("LAKEHOOK_PUBLIC_URL=\(raw) must start with http:// or https://")
            }
        }
        let adminToken = value("LAKEHOOK_ADMIN_TOKEN")
        if let adminToken, adminToken.count < 16 {
            problems.append("LAKEHOOK_ADMIN_TOKEN is too short; use at least 16 random characters (e.g. openssl rand -hex 24)")
        }
        var trustedProxies = TrustedProxies.none
        if let raw = value("LAKEHOOK_TRUSTED_PROXIES") {
            switch TrustedProxies.parse(raw) {
            case .success(let parsed): trustedProxies = parsed
            case .failure(let problem): problems.append("LAKEHOOK_TRUSTED_PROXIES: \(problem.message)")
            }
        }
        let eventLoops = integer("LAKEHOOK_EVENT_LOOPS", default: defaultEventLoops, range: 1...1024)
        var pipeline = true
        if let raw = value("LAKEHOOK_DB_PIPELINE") {
            switch raw.lowercased() {
            case "on", "true", "1", "yes": pipeline = true
            case "off", "false", "0", "no": pipeline = false
            default: problems.append("LAKEHOOK_DB_PIPELINE=\(raw) is not on or off")
            }
        }
        let pipelineConnections = integer(
            "LAKEHOOK_DB_PIPELINE_CONNECTIONS", default: defaultPipelineConnections, range: 1...64)
        let doraMaxWindowDays = integer("LAKEHOOK_DORA_MAX_WINDOW_DAYS", default: DoraWindow.defaultMaxDays, range: 1...36_525)
        var journal = true
        if let raw = value("LAKEHOOK_JOURNAL") {
            switch raw.lowercased() {
            case "on", "true", "1", "yes": journal = true
            case "off", "false", "0", "no": journal = false
            default: problems.append("LAKEHOOK_JOURNAL=\(raw) is not on or off")
            }
        }
        let journalDays = integer("LAKEHOOK_JOURNAL_DAYS", default: 30, range: 0...36_525)
        let doraRefresh = integer("LAKEHOOK_DORA_REFRESH", default: DoraMetricsRefresher.defaultIntervalSeconds, range: 0...86_400)
        let doraProjectsMax = integer("LAKEHOOK_DORA_PROJECTS_MAX", default: DoraMetricsRefresher.defaultMaxProjects, range: 1...100_000)
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        var configuration = Configuration(
            database: database, listenHost: host, listenPort: port, maxBodyBytes: maxBody,
            databasePoolSize: poolSize, databaseWaitTimeout: .milliseconds(waitTimeout), logLevel: level, publicURL: publicURL,
            adminToken: adminToken, trustedProxies: trustedProxies, shutdownDeadline: .seconds(shutdownSeconds),
            databasePipeline: pipeline, pipelineConnections: pipelineConnections, eventLoops: eventLoops,
            maxConnectionsPerClient: perClient,
            maxBufferedBodyBytes: bufferedBodies, doraMaxWindowDays: doraMaxWindowDays)
        configuration.journal = journal
        configuration.journalDays = journalDays
        configuration.doraRefreshSeconds = doraRefresh
        configuration.doraProjectsMax = doraProjectsMax
        return configuration
    }

    /// `127.0.0.1:4000`, `0.0.0.0:4000`, `[::1]:4000`, `localhost:4000`; port 0 picks a free one.
    static func parseListenAddress(_ text: String) -> (String, Int)? {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (host == "localhost" ? "127.0.0.1" : String(host), port)
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public var problems: [String]
    public var description: String {
        "lakehook: bad configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
