import CLibPQ

/// Sole owner of one `PGresult*`; `PQclear` runs when it goes away, whatever happened.
/// Everything callers need is copied out into Swift values before that.
struct ResultHandle: ~Copyable {
    private let pointer: OpaquePointer?

    /// Takes ownership of `pointer`, which may be NULL (out of memory, a lost connection, or from
    /// `PQgetResult` the end of the results).
    init(taking pointer: OpaquePointer?) {
        self.pointer = pointer
    }

    deinit {
        if let pointer { PQclear(pointer) }
    }

    var isNull: Bool { pointer == nil }

    /// `PGRES_FATAL_ERROR` for a NULL result, as libpq itself answers.
    var status: ExecStatusType { PQresultStatus(pointer) }

    /// True for the statuses that mean the command succeeded.
    var succeeded: Bool {
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return true
        default:
            return false
        }
    }

    var isCopy: Bool {
        switch status {
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            return true
        default:
            return false
        }
    }

    var commandTag: String {
        guard let pointer, let tag = PQcmdStatus(pointer) else { return "" }
        return String(cString: tag)
    }

    func errorField(_ code: CChar) -> String? {
        guard let value = PQresultErrorField(pointer, Int32(code)) else { return nil }
        return String(cString: value)
    }

    /// The server's error fields; libpq's own errors (lost connection, out of memory) have only
    /// a message, taken from `PQresultErrorMessage`.
    func error(kind: PostgresError.Kind, connectionBroken: Bool, file: String, line: Int) -> PostgresError {
        var message = errorField(DiagnosticField.messagePrimary)
        if message?.isEmpty ?? true {
            message = String(cString: PQresultErrorMessage(pointer)).trimmingWhitespace()
        }
        if message?.isEmpty ?? true {
            message = "command failed with status \(String(cString: PQresStatus(status)))"
        }
        return PostgresError(
            kind: kind,
            sqlState: errorField(DiagnosticField.sqlState),
            message: message ?? "",
            detail: errorField(DiagnosticField.messageDetail),
            hint: errorField(DiagnosticField.messageHint),
            constraint: errorField(DiagnosticField.constraintName),
            connectionBroken: connectionBroken,
            file: file,
            line: line
        )
    }

    /// Copies columns, rows (text format), affected rows and the command tag out of the result.
    func makeResult() -> PostgresResult {
        let fieldCount = Int(PQnfields(pointer))
        let rowCount = Int(PQntuples(pointer))
        var names: [String] = []
        names.reserveCapacity(fieldCount)
        for field in 0..<fieldCount {
            names.append(PQfname(pointer, Int32(field)).map { String(cString: $0) } ?? "")
        }
        let columns = PostgresColumns(names)
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(fieldCount)
            for field in 0..<fieldCount {
                values.append(value(row: Int32(row), field: Int32(field)))
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        return PostgresResult(
            columns: names,
            rows: rows,
            affectedRows: PQcmdTuples(pointer).flatMap { Int(String(cString: $0)) } ?? 0,
            commandTag: commandTag
        )
    }

    private func value(row: Int32, field: Int32) -> String? {
        if PQgetisnull(pointer, row, field) == 1 { return nil }
        guard let bytes = PQgetvalue(pointer, row, field) else { return nil }
        let length = Int(PQgetlength(pointer, row, field))
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    }
}

/// The `PG_DIAG_*` field codes of `PQresultErrorField` (postgres_ext.h), which are C character
/// literals that Swift does not import.
enum DiagnosticField {
    static let sqlState = CChar(UInt8(ascii: "C"))
    static let messagePrimary = CChar(UInt8(ascii: "M"))
    static let messageDetail = CChar(UInt8(ascii: "D"))
    static let messageHint = CChar(UInt8(ascii: "H"))
    static let constraintName = CChar(UInt8(ascii: "n"))
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[start...end])
    }
}
