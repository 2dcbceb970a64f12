import Postgres

/// Writes prepared events in order, many to a transaction (replay, import).
///
/// A batch is one transaction: one commit, so one disk flush, for hundreds of statements; and
/// its statements go as one pipeline with one sync point (`PostgresBatchConnection`), so the
/// server runs them back to back instead of waiting a round trip for each, and answers in a few
/// large writes. Each event runs the statement its HTTP request
/// runs, with its journal row when it has one. An event the database refuses by its answer (an
/// unknown issue, a finished pipeline: nothing was written) is a refusal, journaled in the same
/// transaction, and the batch goes on.
///
/// A statement that fails aborts the transaction: it is rolled back, run again up to that event,
/// which is recorded as refused (422, the database's message as the cause), and committed; then
/// the rest goes on as a transaction of its own. So a failure costs one re-run of the events
/// before it, the other events are never lost, and the common case (nothing fails) pays
/// nothing — a savepoint per event would cost two more statements each.
///
/// A pipeline finish (several statements that read before they write) cannot be pipelined: the
/// events before it are committed, and it runs alone in a transaction on a blocking connection.
final class EventWriter {
    private let batches: PostgresBatchConnection
    /// For the multi-statement operations, and a refusal of one.
    private let db: PostgresConnection

    /// How a written event ended.
    enum Outcome: Sendable, Equatable {
        case applied
        /// Changed nothing: the stored rows are newer (the answer's `applied: false`).
        case stale
        case refused(WebhookError)
    }

    /// Transient failures (serialization, deadlock, statement timeout) of a transaction are
    /// tried again until this many, then the command stops.
    static let transientAttempts = 3

    /// Connects both connections with generic plans, as the server's pipelined connections
    /// (`LoopPipeline`): the long ingest statements are planned once, not at every execution
    /// (re-planning them was a third of the server's CPU in `make bench`).
    init(configuration: Configuration) throws {
        var config = configuration.database
        config.forcesGenericPlans = true
        batches = try PostgresBatchConnection(config: config)
        db = try PostgresConnection(config: config)
    }

    /// Writes `events`, in order; returns each one's outcome. Throws only what stops the
    /// command: the database unreachable, or a transient failure that did not pass.
    func write(_ events: [PreparedEvent]) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(events.count)
        var runStart = 0
        for (index, event) in events.enumerated() {
            guard case .operation(let operation) = event.work else { continue }
            outcomes += try writeRun(Array(events[runStart..<index]))
            outcomes.append(try writeAlone(event, operation))
            runStart = index + 1
        }
        outcomes += try writeRun(Array(events[runStart...]))
        return outcomes
    }

    // MARK: - Single statements, pipelined in transactions

    private func writeRun(_ events: [PreparedEvent]) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        var (start, end) = (0, events.count)
        var failedByDatabase: [Int: WebhookError] = [:]
        var transientFailures = 0
        while start < events.count {
            switch try attempt(events, start..<end, failedByDatabase) {
            case .committed(let committed):
                outcomes += committed
                (start, end) = (end, events.count)
            case .failed(let index, let error):
                // Everything before it again, it refused, committed; then the rest.
                failedByDatabase[index] = Self.refusal(error)
                end = index + 1
            case .transient(let error):
                transientFailures += 1
                if transientFailures >= Self.transientAttempts { throw error }
            }
        }
        return outcomes
    }

    private enum Attempt {
        case committed([Outcome])
        /// The statement of this event failed; the transaction was rolled back.
        case failed(Int, PostgresError)
        case transient(PostgresError)
    }

    /// One step of a transaction: what a result belongs to.
    private enum Step {
        case control
        case statement(Int)
        case refusal(Int)
    }

    /// Events `range` in one transaction: BEGIN and every statement (and the refusals known
    /// already) pipelined; then, from the answers, the refusals they make, and COMMIT.
    private func attempt(_ events: [PreparedEvent], _ range: Range<Int>, _ failed: [Int: WebhookError]) throws -> Attempt {
        var steps: [Step] = [.control]
        var statements: [(sql: String, binds: [String?])] = [("BEGIN", [])]
        var outcomes = [Outcome?](repeating: nil, count: range.count)
        func refuse(_ index: Int, _ error: WebhookError) {
            outcomes[index - range.lowerBound] = .refused(error)
            guard let entry = events[index].entry else { return }
            steps.append(.refusal(index))
            statements.append((JournalEntry.insertSQL, entry.binds(refusedWith: error)))
        }
        for index in range {
            switch (failed[index], events[index].work) {
            case (let error?, _), (nil, .refused(let error)):
                refuse(index, error)
            case (nil, .statement(_, let sql, let binds)):
                steps.append(.statement(index))
                statements.append((sql, binds))
            case (nil, .operation):
                preconditionFailure("a multi-statement operation runs alone (writeAlone)")
            }
        }
        let results = try batches.run(statements)
        if let failure = try firstFailure(events, steps, results) { return failure }

        // The answers: a refusal wrote nothing, and is journaled before the COMMIT.
        let sent = steps
        (steps, statements) = ([], [])
        for (step, result) in zip(sent, results) {
            guard case .statement(let index) = step, case .statement(let operation, _, _) = events[index].work,
                  let webhook = events[index].webhook
            else { continue }
            guard case .success(let written) = result else { preconditionFailure("a batch without a failure ran every statement") }
            do {
                outcomes[index - range.lowerBound] = Self.outcome(try operation.answer(written, for: webhook))
            } catch let error as WebhookError {
                refuse(index, error)
            }
        }
        steps.append(.control)
        statements.append(("COMMIT", []))
        let closing = try batches.run(statements)
        if let failure = try firstFailure(events, steps, closing) { return failure }
        guard case .success(let commit)? = closing.last, commit.commandTag == "COMMIT" else {
            throw PostgresError(kind: .transactionCommit, message: "COMMIT was not answered with COMMIT: nothing was committed")
        }
        return .committed(outcomes.map { $0! })
    }

    /// The first failure among `results`, after which the transaction is rolled back; nil when
    /// there is none. What stops the command (the database unreachable, a failed BEGIN or
    /// COMMIT, a refusal that cannot be journaled) is thrown.
    private func firstFailure(_ events: [PreparedEvent], _ steps: [Step], _ results: [PostgresBatchConnection.Outcome]) throws -> Attempt? {
        guard let first = zip(steps, results).first(where: { if case .failure = $0.1 { true } else { false } }),
              case .failure(let error) = first.1
        else { return nil }
        if error.isUnavailable { throw error }
        _ = try? batches.run([("ROLLBACK", [])])
        switch first.0 {
        case .statement(let index):
            if Self.isTransient(error) { return .transient(error) }
            if case .statement(let operation, _, _) = events[index].work, operation.runsAgain(after: error) { return .transient(error) }
            return .failed(index, error)
        case .control, .refusal:
            if Self.isTransient(error) { return .transient(error) }
            throw error
        }
    }

    // MARK: - Several statements, alone

    /// A multi-statement operation in a transaction of its own (the events before it are
    /// committed); its refusal journaled after the rollback.
    private func writeAlone(_ event: PreparedEvent, _ operation: any IngestOperation) throws -> Outcome {
        guard let webhook = event.webhook else { preconditionFailure("a decoded event has its connection") }
        var transientFailures = 0
        while true {
            do {
                return Self.outcome(try db.transaction { db in try operation.write(db, for: webhook, journal: event.entry) })
            } catch let refusal as WebhookError {
                return try refuseAlone(event, refusal)
            } catch let error as PostgresError where !error.isUnavailable {
                guard Self.isTransient(error) else { return try refuseAlone(event, Self.refusal(error)) }
                transientFailures += 1
                if transientFailures >= Self.transientAttempts { throw error }
            }
        }
    }

    private func refuseAlone(_ event: PreparedEvent, _ error: WebhookError) throws -> Outcome {
        if let entry = event.entry { try db.query(JournalEntry.insertSQL, entry.binds(refusedWith: error)) }
        return .refused(error)
    }

    // MARK: -

    static func outcome(_ result: WriteResult) -> Outcome {
        result.stale == nil ? .applied : .stale
    }

    /// Statement timeout, serialization failure, deadlock: nothing was committed; again may pass.
    /// So does a prepared statement the server no longer has (26000; a changed result type): the
    /// batch connection forgot it, and prepares it again.
    static func isTransient(_ error: PostgresError) -> Bool {
        WebhookService.transientStates.contains(error.sqlState ?? "") || error.sqlState == "26000"
            || (error.sqlState == "0A000" && error.message.contains("cached plan must not change result type"))
    }

    private static func refusal(_ error: PostgresError) -> WebhookError {
        WebhookError(status: 422, message: "the database refused it", causes: [error.description])
    }
}
