import Postgres

/// Writes prepared events in order, many to a transaction, on one connection (replay, import).
///
/// A batch is one transaction: one commit, so one disk flush, for hundreds of statements. Each
/// event runs the statement its HTTP request runs, with its journal row when it has one. An
/// event the database refuses by its answer (an unknown issue, a finished pipeline: nothing was
/// written) is a refusal and the batch goes on. A statement that fails aborts the transaction:
/// the batch is rolled back and run again up to that event, which is recorded as refused, and
/// committed; then the rest goes on as a batch of its own. So each statement runs at most twice
/// per failure, the batch's other events are never lost, and the common case (nothing fails)
/// pays nothing — a savepoint per event would cost two more round trips each. A pipeline finish
/// (several statements) runs under a savepoint, so that a refusal takes back what it began.
struct EventWriter {
    let db: PostgresConnection

    /// How a written event ended.
    enum Outcome: Sendable, Equatable {
        case applied
        /// Changed nothing: the stored rows are newer (the answer's `applied: false`).
        case stale
        case refused(WebhookError)
    }

    /// Transient failures (serialization, deadlock, statement timeout) of a whole batch are
    /// tried again this many times before the command gives up.
    static let transientAttempts = 3

    /// Writes `events` in one transaction, or in several when a statement fails; returns each
    /// event's outcome, in order. Throws only what stops the command: the database unreachable,
    /// or a transient failure that did not pass.
    func write(_ events: [PreparedEvent]) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(events.count)
        var start = 0
        var end = events.count
        var failedByDatabase: [Int: WebhookError] = [:]
        var transientFailures = 0
        while start < events.count {
            do {
                outcomes += try db.transaction { db in
                    try (start..<end).map { index in try write(events[index], at: index, failed: failedByDatabase[index], db) }
                }
                (start, end) = (end, events.count)
            } catch let failure as StatementFailed {
                // Everything before it again, it refused, committed; then the rest.
                failedByDatabase[failure.index] = WebhookError(
                    status: 422, message: "the database refused it", causes: [failure.error.description])
                end = failure.index + 1
            } catch let error as PostgresError where !error.isUnavailable && WebhookService.transientStates.contains(error.sqlState ?? "") {
                transientFailures += 1
                if transientFailures >= Self.transientAttempts { throw error }
            }
        }
        return outcomes
    }

    /// A statement of event `index` failed: the transaction is aborted.
    private struct StatementFailed: Error {
        var index: Int
        var error: PostgresError
    }

    private func write(_ event: PreparedEvent, at index: Int, failed: WebhookError?, _ db: PostgresConnection) throws -> Outcome {
        if let failed { return try refuse(event, failed, db) }
        do {
            switch event.work {
            case .refused(let error):
                return try refuse(event, error, db)
            case .statement(let operation, let sql, let binds):
                guard let connection = event.connection else { preconditionFailure("a decoded event has its connection") }
                let result = try db.query(sql, binds)
                do {
                    return Self.outcome(try operation.answer(result, for: connection))
                } catch let refusal as WebhookError {
                    return try refuse(event, refusal, db)
                }
            case .operation(let operation):
                guard let connection = event.connection else { preconditionFailure("a decoded event has its connection") }
                try db.execute(script: "SAVEPOINT lakehook_event")
                do {
                    let result = try operation.write(db, for: connection, journal: event.entry)
                    try db.execute(script: "RELEASE SAVEPOINT lakehook_event")
                    return Self.outcome(result)
                } catch let refusal as WebhookError {
                    try db.execute(script: "ROLLBACK TO SAVEPOINT lakehook_event; RELEASE SAVEPOINT lakehook_event")
                    return try refuse(event, refusal, db)
                }
            }
        } catch let error as PostgresError where !error.isUnavailable && !WebhookService.transientStates.contains(error.sqlState ?? "") {
            throw StatementFailed(index: index, error: error)
        }
    }

    /// Records a refusal: its journal row, when the event has one.
    private func refuse(_ event: PreparedEvent, _ error: WebhookError, _ db: PostgresConnection) throws -> Outcome {
        if let entry = event.entry { try db.query(JournalEntry.insertSQL, entry.binds(refusedWith: error)) }
        return .refused(error)
    }

    static func outcome(_ result: WriteResult) -> Outcome {
        result.stale == nil ? .applied : .stale
    }
}
