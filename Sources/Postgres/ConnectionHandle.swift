import CLibPQ
import Glibc

/// Sole owner of one `PGconn*`; `PQfinish` runs when it goes away, also after a failed connect
/// (libpq allocates a `PGconn` even then).
struct ConnectionHandle: ~Copyable {
    let pointer: OpaquePointer

    private init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit { PQfinish(pointer) }

    /// Connects (blocking, bounded by `connectTimeoutSeconds`), installs a notice processor
    /// that drops notices, and applies the statement timeout.
    static func connect(config: PostgresConfig, file: String, line: Int) throws -> ConnectionHandle {
        func failure(_ message: String, sqlState: String? = nil) -> PostgresError {
            PostgresError(kind: .connectionFailed, sqlState: sqlState, message: message, file: file, line: line)
        }
        if config.conninfo.utf8.contains(0) || config.applicationName.utf8.contains(0) {
            throw failure("the connection string or application name contains a NUL byte")
        }
        // With expand_dbname, the first "dbname" may be a whole URL or key=value string; later
        // keywords override what it says. Empty values are ignored, so "" falls back to PG*.
        let keywords: [String?] = ["dbname", "application_name", "connect_timeout", nil]
        let values: [String?] = [
            config.conninfo, config.applicationName, String(max(config.connectTimeoutSeconds, 0)), nil,
        ]
        let raw = CStringArray.with(keywords) { keywords in
            CStringArray.with(values) { values in PQconnectdbParams(keywords, values, 1) }
        }
        guard let raw else { throw failure("libpq could not allocate a connection (out of memory)") }
        let handle = ConnectionHandle(taking: raw)
        guard PQstatus(raw) == CONNECTION_OK else {
            throw failure(handle.errorMessage.isEmpty ? "could not connect to the server" : handle.errorMessage)
        }
        PQsetNoticeProcessor(raw, { _, _ in }, nil)
        var settings: [String] = []
        if let milliseconds = config.statementTimeoutMilliseconds {
            settings.append("statement_timeout = \(milliseconds)")
        }
        if let milliseconds = config.lockTimeoutMilliseconds {
            settings.append("lock_timeout = \(milliseconds)")
        }
        if config.forcesGenericPlans {
            settings.append("plan_cache_mode = force_generic_plan")
        }
        for setting in settings {
            let result = ResultHandle(taking: PQexec(raw, "SET \(setting)"))
            if result.isNull {
                throw failure(handle.errorMessage)
            }
            if !result.succeeded {
                let error = result.error(kind: .connectionFailed, connectionBroken: handle.isBroken, file: file, line: line)
                throw failure("could not set \(setting): \(error.message)", sqlState: error.sqlState)
            }
        }
        return handle
    }

    /// `PQerrorMessage`, trimmed.
    var errorMessage: String {
        guard let message = PQerrorMessage(pointer) else { return "" }
        return String(cString: message).trimmingWhitespace()
    }

    var isBroken: Bool { PQstatus(pointer) != CONNECTION_OK }

    var transactionStatus: PGTransactionStatusType { PQtransactionStatus(pointer) }

    /// The error for a call that failed before it produced a result (send failed, or NULL
    /// result): `.connectionLost` when the connection is gone, else `.protocolViolation`.
    func callError(_ fallback: String, file: String, line: Int) -> PostgresError {
        let message = errorMessage.isEmpty ? fallback : errorMessage
        if isBroken {
            return PostgresError(kind: .connectionLost, message: message, connectionBroken: true, file: file, line: line)
        }
        return PostgresError(kind: .protocolViolation, message: message, file: file, line: line)
    }

    /// Reads whatever the server sent while the connection sat idle, without blocking (libpq's
    /// socket is non-blocking underneath). A terminated backend sends its FATAL and closes the
    /// socket; `PQconsumeInput` reads the message on one call and meets the end of the stream on
    /// the next, which turns `PQstatus` bad — so it is called while the socket stays readable
    /// (a few times at most). Notifications are discarded.
    func pollIdle() -> Bool {
        for _ in 0..<4 {
            guard PQconsumeInput(pointer) == 1 else { return false }
            while let notification = PQnotifies(pointer) {  // also parses what was read
                PQfreemem(notification)
            }
            if isBroken { return false }
            guard isReadable else { return true }
        }
        return !isBroken
    }

    /// The socket has data or an end-of-stream waiting (poll with a zero timeout).
    private var isReadable: Bool {
        let socket = PQsocket(pointer)
        guard socket >= 0 else { return false }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    /// Leaves a COPY state the caller did not ask for: COPY FROM STDIN is ended with an error,
    /// COPY TO STDOUT is read and discarded; then every remaining result is drained. COPY BOTH
    /// (replication) cannot be left, so the connection stays busy and will not count as healthy.
    func abandonCopy(from status: ExecStatusType) {
        var status = status
        while true {
            switch status {
            case PGRES_COPY_IN:
                guard PQputCopyEnd(pointer, "COPY FROM STDIN is not supported by this client") == 1 else { return }
            case PGRES_COPY_OUT:
                var buffer: UnsafeMutablePointer<CChar>?
                while PQgetCopyData(pointer, &buffer, 0) > 0 {
                    PQfreemem(buffer)
                    buffer = nil
                }
            case PGRES_COPY_BOTH:
                return
            default:
                break
            }
            let next = ResultHandle(taking: PQgetResult(pointer))
            if next.isNull { return }
            status = next.status
        }
    }
}
