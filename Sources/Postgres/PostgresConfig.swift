import CLibPQ
import Foundation

/// How to reach the database. Read once at start; `validate()` it before serving.
public struct PostgresConfig: Sendable {
    /// A `postgres://` URL or a `key=value` string; "" means libpq's `PG*` environment variables.
    /// Fields given here override the same fields of the environment.
    public var conninfo: String
    /// Sent as `application_name` (shows in `pg_stat_activity`); overrides the conninfo's.
    public var applicationName: String
    /// libpq's `connect_timeout` (libpq treats 1 as 2; 0 waits forever); overrides the conninfo's.
    public var connectTimeoutSeconds: Int
    /// Set per session with `SET statement_timeout` right after connecting; nil keeps the
    /// server's setting. Sub-millisecond values round up to 1 ms.
    public var statementTimeout: Duration?
    /// Set per session with `SET plan_cache_mode = force_generic_plan`: prepared statements are
    /// planned once, not at each execution. Right for statements that look rows up by key (the
    /// ingest writes), where PostgreSQL's own choice kept re-planning a 4 KB statement on every
    /// execution (a third of the server's CPU in `make bench`); wrong for queries whose best
    /// plan depends on their parameters, so off by default.
    public var forcesGenericPlans = false
    /// Set per session with `SET lock_timeout` right after connecting; nil keeps the server's
    /// setting (normally none). A statement that waits longer for a lock fails with 55P03.
    public var lockTimeout: Duration?

    public init(
        conninfo: String = "",
        applicationName: String = "lakehook",
        connectTimeoutSeconds: Int = 5,
        statementTimeout: Duration? = .seconds(15)
    ) {
        self.conninfo = conninfo
        self.applicationName = applicationName
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.statementTimeout = statementTimeout
    }

    /// `DATABASE_URL` when set and non-empty, else "" (libpq reads `PGHOST`, `PGPORT`, …).
    public static func fromEnvironment(
        _ env: [String: String] = ProcessInfo.processInfo.environment
    ) -> PostgresConfig {
        let url = env["DATABASE_URL"]?.trimmingWhitespace() ?? ""
        return PostgresConfig(conninfo: url)
    }

    /// Checks the configuration without connecting: the conninfo must parse
    /// (`PQconninfoParse`, whose message is passed on), ports must be numbers, and the timeouts
    /// must not be negative. Throws `PostgresError(kind: .invalidConfiguration)`.
    public func validate() throws {
        func invalid(_ message: String) -> PostgresError {
            PostgresError(kind: .invalidConfiguration, message: message)
        }
        if connectTimeoutSeconds < 0 {
            throw invalid("connect timeout must not be negative (got \(connectTimeoutSeconds))")
        }
        if let statementTimeout, statementTimeout < .zero {
            throw invalid("statement timeout must not be negative (got \(statementTimeout))")
        }
        if applicationName.utf8.contains(0) {
            throw invalid("application name contains a NUL byte")
        }
        let options = try ConninfoOptions.parse(conninfo)
        if let ports = options["port"] {
            // One port per host; an empty one means the default.
            for port in ports.split(separator: ",", omittingEmptySubsequences: false)
            where !String(port).trimmingWhitespace().isEmpty {
                guard let number = Int(String(port).trimmingWhitespace()), (1...65535).contains(number) else {
                    throw invalid("invalid port \(String(port).debugDescription) in the connection string")
                }
            }
        }
    }

    /// The statement timeout in whole milliseconds, as `SET statement_timeout` takes it.
    var statementTimeoutMilliseconds: Int64? {
        statementTimeout.map { $0.roundedUpMilliseconds }
    }

    var lockTimeoutMilliseconds: Int64? {
        lockTimeout.map { $0.roundedUpMilliseconds }
    }
}

extension PostgresConfig: CustomStringConvertible {
    /// The connection settings with any password replaced by `***`, safe to log.
    public var description: String {
        let shown: String
        if conninfo.isEmpty {
            shown = "(PG* environment)"
        } else if let options = try? ConninfoOptions.parse(conninfo) {
            shown = options.keys.sorted().map { key in
                key == "password" ? "password=***" : "\(key)=\(options[key] ?? "")"
            }.joined(separator: " ")
        } else {
            shown = "(unparsable)"
        }
        return "PostgresConfig(\(shown), application_name=\(applicationName), "
            + "connect_timeout=\(connectTimeoutSeconds)s, statement_timeout="
            + (statementTimeoutMilliseconds.map { "\($0)ms" } ?? "server default") + ")"
    }
}

/// `PQconninfoParse`, with its option array and error message freed before returning.
enum ConninfoOptions {
    /// The options that the string sets (keyword → value); "" parses to no options.
    static func parse(_ conninfo: String) throws -> [String: String] {
        if conninfo.utf8.contains(0) {
            throw PostgresError(kind: .invalidConfiguration, message: "connection string contains a NUL byte")
        }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            var message = "invalid connection string"
            if let errorMessage {
                message += ": " + String(cString: errorMessage).trimmingWhitespace()
                PQfreemem(errorMessage)
            }
            throw PostgresError(kind: .invalidConfiguration, message: message)
        }
        defer { PQconninfoFree(options) }
        if let errorMessage { PQfreemem(errorMessage) }
        var result: [String: String] = [:]
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val {
                result[String(cString: keyword)] = String(cString: value)
            }
            cursor += 1
        }
        return result
    }
}
