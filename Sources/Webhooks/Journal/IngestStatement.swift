import Concurrency

/// The one statement of a `SingleStatementOperation`, in the parts the journal needs to add its
/// row to it: the statement and the journal insert run as one statement, so the event is in the
/// journal exactly when the rows are committed, on a pipelined connection as on the pool.
///
/// `WITH <ctes>, written AS (<body>), journaled AS (INSERT INTO webhook_events … WHERE <accepted>)
/// SELECT * FROM written`: `body` must return rows (`RETURNING …` for an INSERT), and
/// data-modifying CTEs cannot be nested, so a statement's own CTEs are listed apart.
struct IngestStatement: Sendable {
    /// The statement's own CTEs, `name AS (…), …`, without `WITH`; nil when it has none.
    let ctes: String?
    /// The statement after its CTEs: a SELECT, or an INSERT/UPDATE with RETURNING.
    let body: String
    /// An SQL condition over `written` (and the CTEs), true when the answer will be a success;
    /// false when it will be a refusal (404, 403, 409: nothing was written, and the refusal is
    /// journaled on its own).
    let accepted: String
    /// An SQL condition over `written`: the statement changed nothing because the stored rows
    /// are newer than the post (the event is journaled as `stale`).
    let stale: String
    /// The statement alone (journal off, replay).
    let text: String
    /// The journaled texts made so far, by parameter count. Operations keep their statements
    /// in `static let`s, so each text is composed once per process, not once per request (a
    /// few microseconds of string building each).
    private let journaledTexts = Locked<[Int: String]>([:])

    init(ctes: String? = nil, body: String, accepted: String = "true", stale: String = "false") {
        self.ctes = ctes
        self.body = body
        self.accepted = accepted
        self.stale = stale
        text = ctes.map { "WITH \($0)\n\(body)" } ?? body
    }

    /// The statement with the journal's insert, its parameters after the statement's `parameterCount`.
    func journaled(parameterCount: Int) -> String {
        if let text = journaledTexts.withLock({ $0[parameterCount] }) { return text }
        let text = compose(parameterCount: parameterCount)
        journaledTexts.withLock { $0[parameterCount] = text }
        return text
    }

    private func compose(parameterCount: Int) -> String {
        """
        WITH \(ctes.map { $0 + "," } ?? "") written AS (
        \(body)
        ), journaled AS (
            INSERT INTO webhook_events (\(JournalEntry.columns), status, outcome)
            SELECT \(JournalEntry.placeholders(from: parameterCount + 1)), 200,
                CASE WHEN \(stale) THEN 'stale' ELSE 'applied' END
            WHERE \(accepted)
        )
        SELECT * FROM written
        """
    }
}
