/// An error from the database, the connection, the pool or a transaction.
///
/// `description` is one short line (SQLSTATE and primary message) that is safe to log;
/// `debugDescription` adds detail, hint, constraint and the call site. The server's detail can
/// quote row values (`Key (id)=(42) already exists.`), so it is kept out of `description`.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Opening a connection failed (libpq's message).
        case connectionFailed
        /// The connection broke while a command was sent or awaited.
        case connectionLost
        /// The server answered with an error (see `sqlState`).
        case server
        /// No connection became free within the wait timeout, or too many callers were waiting.
        case poolTimeout
        /// The pool was closed.
        case poolClosed
        case transactionBegin
        case transactionCommit
        case transactionRollback
        /// libpq or the server did something this wrapper does not support (e.g. COPY).
        case protocolViolation
        /// A bind value cannot be sent (it contains a NUL byte).
        case invalidParameter
        /// `PostgresConfig.validate()` rejected the configuration.
        case invalidConfiguration
    }

    public var kind: Kind
    /// The five-character SQLSTATE, e.g. "23505"; nil for errors that libpq made itself.
    public var sqlState: String?
    /// The primary message.
    public var message: String
    public var detail: String?
    public var hint: String?
    public var constraint: String?
    /// True when the connection was found broken (PQstatus bad) right after the failing call,
    /// whatever `kind` says (a COMMIT that lost its connection is a `.transactionCommit`).
    public var connectionBroken: Bool
    /// The call site (`#fileID`).
    public var file: String
    public var line: Int

    public init(
        kind: Kind,
        sqlState: String? = nil,
        message: String,
        detail: String? = nil,
        hint: String? = nil,
        constraint: String? = nil,
        connectionBroken: Bool = false,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.connectionBroken = connectionBroken
        self.file = file
        self.line = line
    }

    /// True when the database is unreachable or the connection broke: the caller should answer
    /// 503 rather than 500. Covers SQLSTATE class 08 (connection exception), 53 (insufficient
    /// resources, e.g. 53300 too many connections), 57P01/57P02/57P03 (shutdown, crash, cannot
    /// connect now), and the kinds connectionFailed, connectionLost, poolTimeout, poolClosed.
    public var isUnavailable: Bool {
        switch kind {
        case .connectionFailed, .connectionLost, .poolTimeout, .poolClosed:
            return true
        case .server, .transactionBegin, .transactionCommit, .transactionRollback,
             .protocolViolation, .invalidParameter, .invalidConfiguration:
            break
        }
        if connectionBroken { return true }
        guard let sqlState else { return false }
        if sqlState.hasPrefix("08") || sqlState.hasPrefix("53") { return true }
        return ["57P01", "57P02", "57P03"].contains(sqlState)
    }

    /// One line: `23505 duplicate key value violates unique constraint "x"`, or
    /// `connectionFailed: connection to server at "127.0.0.1", port 1 failed: Connection refused`.
    public var description: String {
        let firstLine = message.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? message
        if let sqlState { return "\(sqlState) \(firstLine)" }
        return "\(kind): \(firstLine)"
    }

    public var debugDescription: String {
        var parts = ["kind: \(kind)"]
        if let sqlState { parts.append("sqlState: \(sqlState)") }
        parts.append("message: \(message.debugDescription)")
        if let detail { parts.append("detail: \(detail.debugDescription)") }
        if let hint { parts.append("hint: \(hint.debugDescription)") }
        if let constraint { parts.append("constraint: \(constraint.debugDescription)") }
        if connectionBroken { parts.append("connectionBroken: true") }
        parts.append("at: \(file):\(line)")
        return "PostgresError(\(parts.joined(separator: ", ")))"
    }

    /// The same error reported under another kind (BEGIN / COMMIT / ROLLBACK), keeping the
    /// server's fields.
    func reported(as kind: Kind) -> PostgresError {
        var copy = self
        copy.kind = kind
        return copy
    }

    /// True for "prepared statement does not exist" (26000) and "cached plan must not change
    /// result type" (0A000): the server no longer has the statement this connection cached.
    var isStalePreparedStatement: Bool {
        guard !connectionBroken, let sqlState else { return false }
        if sqlState == "26000" { return true }
        return sqlState == "0A000" && message.contains("cached plan must not change result type")
    }
}
