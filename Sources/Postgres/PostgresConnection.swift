import CLibPQ

/// One libpq connection. Every call blocks the calling thread (a Dispatch worker or a thread of
/// your own, never the Swift concurrency pool) until the server answers.
///
/// Thread safety: a connection is used by one thread at a time — libpq's rule. `PostgresPool`
/// guarantees it by handing each connection to one caller at a time; code that holds a
/// connection directly must do the same. That rule is why `@unchecked Sendable` is sound here.
public final class PostgresConnection: @unchecked Sendable {
    let handle: ConnectionHandle
    private var statements: PreparedStatementCache
    /// True while `transaction(_:)` runs its body, to catch nested use.
    var isInTransactionBody = false

    /// Connects now. Throws `PostgresError(kind: .connectionFailed)` with libpq's message.
    public init(config: PostgresConfig, file: String = #fileID, line: Int = #line) throws {
        handle = try ConnectionHandle.connect(config: config, file: file, line: line)
        statements = PreparedStatementCache()
    }

    /// `PQstatus` is `CONNECTION_OK` and no transaction is open or in progress.
    public var isHealthy: Bool {
        !handle.isBroken && handle.transactionStatus == PQTRANS_IDLE
    }

    /// e.g. 150018 for 15.18; 0 when the connection is bad.
    /// Inside a transaction block (BEGIN … not yet COMMIT or ROLLBACK).
    public var isInTransaction: Bool {
        let status = handle.transactionStatus
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    public var serverVersion: Int { Int(PQserverVersion(handle.pointer)) }

    /// The server process serving this connection (`pg_backend_pid()`).
    public var backendPID: Int32 { PQbackendPID(handle.pointer) }

    /// Runs one statement with the extended protocol: `binds` travel as text parameters
    /// (`$1`, `$2`, …; nil is NULL) and results come back as text. The statement is prepared
    /// once per connection under a generated name, cached by SQL text, and executed with
    /// `PQexecPrepared` afterwards. A statement the server no longer has (26000) or whose
    /// result type changed (0A000) is prepared again and retried once, outside a transaction.
    @discardableResult
    public func query(
        _ sql: String,
        _ binds: [String?] = [],
        file: String = #fileID,
        line: Int = #line
    ) throws -> PostgresResult {
        if let index = CStringArray.firstIndexWithNUL(binds) {
            throw PostgresError(
                kind: .invalidParameter,
                message: "parameter $\(index + 1) contains a NUL byte, which a PostgreSQL text value cannot hold",
                file: file,
                line: line
            )
        }
        let name = try preparedName(for: sql, file: file, line: line)
        do {
            return try executePrepared(name, binds, file: file, line: line)
        } catch let error as PostgresError where error.isStalePreparedStatement {
            statements.remove(sql)
            // Inside a transaction the failure aborted it; a retry would only fail with 25P02.
            guard handle.transactionStatus == PQTRANS_IDLE else { throw error }
            let fresh = try preparedName(for: sql, file: file, line: line)
            return try executePrepared(fresh, binds, file: file, line: line)
        }
    }

    /// Runs a script with the simple protocol: several statements, no parameters (migrations,
    /// SET, BEGIN). Every result is drained; the first error is thrown.
    public func execute(script: String, file: String = #fileID, line: Int = #line) throws {
        _ = try runSimple(script, file: file, line: line)
    }

    // MARK: - Internals

    /// The SQL text is checked for NUL only here, when it is first prepared: a cached statement
    /// was checked then (scanning a long statement on every call showed in `make bench`).
    private func preparedName(for sql: String, file: String, line: Int) throws -> String {
        if let name = statements.name(for: sql) { return name }
        if sql.utf8.contains(0) {
            throw PostgresError(kind: .invalidParameter, message: "the SQL text contains a NUL byte", file: file, line: line)
        }
        if statements.isFull {
            _ = try runSimple("DEALLOCATE ALL", file: file, line: line)
            statements.removeAll()
        }
        let name = statements.makeName()
        let result = ResultHandle(taking: PQprepare(handle.pointer, name, sql, 0, nil))
        _ = try finish(result, file: file, line: line)
        statements.insert(name, for: sql)
        return name
    }

    private func executePrepared(_ name: String, _ binds: [String?], file: String, line: Int) throws -> PostgresResult {
        let raw = CStringArray.with(binds) { values in
            PQexecPrepared(handle.pointer, name, Int32(clamping: binds.count), values, nil, nil, 0)
        }
        return try finish(ResultHandle(taking: raw), file: file, line: line)
    }

    /// A finished command's result as a value, or its error.
    private func finish(_ result: borrowing ResultHandle, file: String, line: Int) throws -> PostgresResult {
        if result.isNull {
            throw handle.callError("the command returned no result", file: file, line: line)
        }
        if result.succeeded { return result.makeResult() }
        if result.isCopy {
            handle.abandonCopy(from: result.status)
            throw copyNotSupported(file: file, line: line)
        }
        throw serverError(result, file: file, line: line)
    }

    /// Sends `sql` with the simple protocol and drains every result until libpq says there are
    /// no more. Returns the last command tag; throws the first error.
    func runSimple(_ sql: String, file: String, line: Int) throws -> String {
        if sql.utf8.contains(0) {
            throw PostgresError(kind: .invalidParameter, message: "the SQL text contains a NUL byte", file: file, line: line)
        }
        guard PQsendQuery(handle.pointer, sql) == 1 else {
            throw handle.callError("could not send the command", file: file, line: line)
        }
        var firstError: PostgresError?
        var lastTag = ""
        while true {
            let result = ResultHandle(taking: PQgetResult(handle.pointer))
            if result.isNull { break }
            if result.succeeded {
                lastTag = result.commandTag
            } else if result.isCopy {
                handle.abandonCopy(from: result.status)
                firstError = firstError ?? copyNotSupported(file: file, line: line)
                break
            } else if firstError == nil {
                firstError = serverError(result, file: file, line: line)
            }
        }
        if var firstError {
            if handle.isBroken {
                firstError.connectionBroken = true
                if firstError.kind == .server { firstError.kind = .connectionLost }
            }
            throw firstError
        }
        return lastTag
    }

    private func serverError(_ result: borrowing ResultHandle, file: String, line: Int) -> PostgresError {
        let broken = handle.isBroken
        return result.error(kind: broken ? .connectionLost : .server, connectionBroken: broken, file: file, line: line)
    }

    private func copyNotSupported(file: String, line: Int) -> PostgresError {
        PostgresError(
            kind: .protocolViolation,
            message: "COPY FROM STDIN / TO STDOUT is not supported by this client",
            connectionBroken: handle.isBroken,
            file: file,
            line: line
        )
    }
}
