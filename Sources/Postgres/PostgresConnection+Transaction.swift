import CLibPQ

extension PostgresConnection {
    /// Runs `body` between BEGIN and COMMIT.
    ///
    /// - An error thrown by `body` rolls back and is rethrown as is (a failed ROLLBACK leaves
    ///   the connection unhealthy, so a pool discards it).
    /// - A statement that failed inside `body` aborts the transaction even when `body` caught
    ///   the error: then the transaction is rolled back and `.transactionCommit` (SQLSTATE 25P02)
    ///   is thrown. A COMMIT that the server answers with ROLLBACK is an error too.
    /// - BEGIN, COMMIT and ROLLBACK failures are reported as `.transactionBegin`,
    ///   `.transactionCommit`, `.transactionRollback`, keeping the server's fields.
    /// - Nesting (calling it again inside `body`, or inside a BEGIN of your own) is a
    ///   programmer error and traps; use SAVEPOINT in `body` instead.
    public func transaction<T>(
        file: String = #fileID,
        line: Int = #line,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        let status = handle.transactionStatus
        precondition(
            !isInTransactionBody && status != PQTRANS_INTRANS && status != PQTRANS_INERROR,
            "PostgresConnection.transaction is not reentrant (nested at \(file):\(line)); use SAVEPOINT"
        )
        isInTransactionBody = true
        defer { isInTransactionBody = false }

        do {
            _ = try runSimple("BEGIN", file: file, line: line)
        } catch let error as PostgresError {
            throw error.reported(as: .transactionBegin)
        }

        let value: T
        do {
            value = try body(self)
        } catch {
            if isTransactionOpen {
                try? rollback(file: file, line: line)
            }
            throw error
        }

        switch handle.transactionStatus {
        case PQTRANS_INTRANS:
            break
        case PQTRANS_INERROR:
            try rollback(file: file, line: line)
            throw PostgresError(
                kind: .transactionCommit,
                sqlState: "25P02",
                message: "a statement inside the transaction failed, so it was rolled back instead of committed",
                file: file,
                line: line
            )
        case PQTRANS_IDLE:
            throw PostgresError(
                kind: .transactionCommit,
                message: "the transaction was ended inside the body (it ran COMMIT or ROLLBACK itself)",
                file: file,
                line: line
            )
        default:
            throw PostgresError(
                kind: .transactionCommit,
                message: "the connection is not in a usable transaction state: \(handle.errorMessage)",
                connectionBroken: handle.isBroken,
                file: file,
                line: line
            )
        }

        let tag: String
        do {
            tag = try runSimple("COMMIT", file: file, line: line)
        } catch let error as PostgresError {
            throw error.reported(as: .transactionCommit)
        }
        guard tag == "COMMIT" else {
            throw PostgresError(
                kind: .transactionCommit,
                sqlState: "25P02",
                message: "COMMIT was answered with \(tag.isEmpty ? "no command tag" : tag): nothing was committed",
                file: file,
                line: line
            )
        }
        return value
    }

    /// A transaction block is open (in progress or aborted).
    var isTransactionOpen: Bool {
        let status = handle.transactionStatus
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    func rollback(file: String, line: Int) throws {
        do {
            _ = try runSimple("ROLLBACK", file: file, line: line)
        } catch let error as PostgresError {
            throw error.reported(as: .transactionRollback)
        }
    }
}
