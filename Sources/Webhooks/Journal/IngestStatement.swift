/// The one statement of a `SingleStatementOperation`, in the parts the journal needs to add its
/// row to it: the statement and the journal insert run as one statement, so the event is in the
/// journal exactly when the rows are committed, on a pipelined connection as on the pool.
///
/// `WITH <ctes>, written AS (<body>), journaled AS (INSERT INTO webhook_events … WHERE <accepted>)
/// SELECT * FROM written`: `body` must return rows (`RETURNING …` for an INSERT), and
/// data-modifying CTEs cannot be nested, so a statement's own CTEs are listed apart.
struct IngestStatement: Sendable {
    /// The statement's own CTEs, `name AS (…), …`, without `WITH`; nil when it has none.
    var ctes: String?
    /// The statement after its CTEs: a SELECT, or an INSERT/UPDATE with RETURNING.
    var body: String
    /// An SQL condition over `written` (and the CTEs), true when the answer will be a success;
    /// false when it will be a refusal (404, 403, 409: nothing was written, and the refusal is
    /// journaled on its own).
    var accepted = "true"
    /// An SQL condition over `written`: the statement changed nothing because the stored rows
    /// are newer than the post (the event is journaled as `stale`).
    var stale = "false"

    /// The statement alone (journal off, replay).
    var text: String {
        guard let ctes else { return body }
        return "WITH \(ctes)\n\(body)"
    }

    /// The statement with the journal's insert, its parameters after the statement's `parameterCount`.
    func journaled(parameterCount: Int) -> String {
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
