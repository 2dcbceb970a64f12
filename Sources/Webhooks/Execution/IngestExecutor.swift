import HTTP
import Postgres

/// Where every ingest write runs — decided here and nowhere else.
///
/// - A single statement (`SingleStatementOperation`: every route but a pipeline finish) goes
///   through the pipelined connections of the loop that read the request (`LoopPipeline`, whose
///   choices `PipelineState` makes): sent without waiting for earlier answers, spread over
///   connections as load rises so that concurrent commits share a disk flush, and answered on
///   that loop when its result arrives.
/// - It runs on the pool instead, on a handler thread, when pipelining is off, when the
///   pipeline cannot take it (`PipelineState.PoolReason`: not connected, full), and once more
///   when its pipelined run did nothing (it waited past the pipeline's lock timeout, or met a
///   concurrent write it must see). Each of these is counted in
///   `lakehook_db_pool_fallbacks_total{reason}`.
/// - Anything else (a pipeline finish: several statements) runs in one transaction on the pool.
///
/// Every statement is its own transaction, so a request's `200` means its own commit was
/// flushed, and a failing request changes no other's answer.
final class IngestExecutor: Sendable {
    let pool: PostgresPool
    private let metrics: Metrics
    /// Most pipelined connections of each event loop; nil when pipelining is off.
    let pipelineConnectionsPerLoop: Int?

    /// Each event loop's pipeline (its PostgreSQL connections in pipeline mode), made there on
    /// first use; nil when pipelining is off.
    private let pipelines: LoopLocal<LoopPipeline>?

    /// Whether requests are journaled (`LAKEHOOK_JOURNAL`).
    let journaling: Bool
    /// Poked after a refusal is journaled (`lakehook events --follow`).
    private let journalNotifier: JournalNotifier

    init(pool: PostgresPool, metrics: Metrics, pipelineConnectionsPerLoop: Int?, journaling: Bool = true, journalNotifier: JournalNotifier) {
        self.journaling = journaling
        self.journalNotifier = journalNotifier
        self.pool = pool
        self.metrics = metrics
        self.pipelineConnectionsPerLoop = pipelineConnectionsPerLoop
        let config = pool.config
        pipelines = pipelineConnectionsPerLoop.map { perLoop in
            LoopLocal { loop in LoopPipeline(loop: loop, config: config, maxConnections: perLoop) }
        }
    }

    /// lock_not_available: `lock_timeout` expired (see `LoopPipeline.lockTimeout`).
    static let lockNotAvailable = "55P03"

    /// Runs `request` (read on `responder`'s loop; call it there), then `done(outcome)` on that
    /// loop. Its journal row is written with its rows when the journal is on.
    func execute(
        _ request: IngestRequest, responder: HTTPResponder,
        done: @escaping @Sendable (Result<IngestOutcome, any Error>) -> Void
    ) {
        let runOnPool: @Sendable () -> Void = { [self] in
            responder.offload({ Result { try self.run(request) } }, then: done)
        }
        guard !request.dryRun, request.idempotencyKey == nil,
              let statement = request.operation as? any SingleStatementOperation,
              let pipeline = pipeline(for: responder.eventLoop)
        else {
            runOnPool()
            return
        }
        let onPool: @Sendable (PipelineState.PoolReason) -> Void = { [metrics] reason in
            metrics.recordPoolFallback(reason)
            runOnPool()
        }
        let webhook = request.webhook
        let query = statement.query(for: webhook, journal: journaling ? request.entry : nil)
        let refused = pipeline.submit(query.sql, query.binds) { result in
            if case .failure(let error) = result, case .runOnPool(let reason) = PipelineState.outcome(
                lockTimedOut: error.sqlState == Self.lockNotAvailable, runsAgain: statement.runsAgain(after: error)) {
                onPool(reason)
                return
            }
            done(Result { .written(try statement.answer(result.get(), for: webhook)) })
        }
        if let refused {
            onPool(refused)
        } else {
            metrics.recordWrite(pipelined: true)
        }
    }

    /// Runs `request` here, blocking (on a handler thread): a single statement by itself, else in
    /// one transaction; a keyed request with its key (`Idempotency`); a dry run in a transaction
    /// that is rolled back.
    func run(_ request: IngestRequest) throws -> IngestOutcome {
        let (operation, webhook) = (request.operation, request.webhook)
        let journal = journaling ? request.entry : nil
        metrics.recordWrite(pipelined: false)
        if request.dryRun {
            do {
                try pool.transaction { db in throw DryRun(result: try operation.write(db, for: webhook)) }
            } catch let dryRun as DryRun {
                return .dryRun(dryRun.result)
            }
            preconditionFailure("a dry run's transaction always ends in DryRun")
        }
        if let key = request.idempotencyKey {
            return try pool.withConnection { db in
                try Idempotency.run(operation, for: webhook, entry: request.entry, key: key, journaling: journaling, on: db)
            }
        }
        if operation is any SingleStatementOperation {
            return .written(try pool.withConnection { db in try operation.write(db, for: webhook, journal: journal) })
        }
        return .written(try pool.transaction { db in try operation.write(db, for: webhook, journal: journal) })
    }

    /// Journals a refused request (a 4xx after authentication) on its own, then runs `then` —
    /// on the loop when the row went through the loop's pipeline. A row that cannot be written
    /// (the database is down) is counted, and the refusal is answered all the same.
    func journal(refusal error: WebhookError, _ entry: JournalEntry, responder: HTTPResponder, then: @escaping @Sendable () -> Void) {
        guard journaling else { return then() }
        let binds = entry.binds(refusedWith: error)
        let recorded: @Sendable (Bool) -> Void = { [metrics, journalNotifier] written in
            metrics.recordJournal(written ? "refused" : "failed")
            if written { journalNotifier.poke() }
            then()
        }
        let onPool: @Sendable () -> Void = { [pool] in
            responder.offload({ (try? pool.withConnection { db in try db.query(JournalEntry.insertSQL, binds) }) != nil }, then: recorded)
        }
        guard let pipeline = pipeline(for: responder.eventLoop) else { return onPool() }
        let refused = pipeline.submit(JournalEntry.insertSQL, binds) { result in
            if case .failure = result { return onPool() }
            recorded(true)
        }
        if refused != nil { onPool() }
    }

    /// Carries a dry run's result out of the transaction it rolls back.
    private struct DryRun: Error { var result: WriteResult }

    /// The loop's pipeline, made on first use; nil when pipelining is off.
    private func pipeline(for loop: EventLoop) -> LoopPipeline? {
        pipelines?.value(on: loop)
    }
}

/// One authenticated, decoded ingest request, ready to run.
struct IngestRequest: Sendable {
    var operation: any IngestOperation
    var webhook: DevLakeConnection
    /// What the journal keeps of it (written only when the journal is on).
    var entry: JournalEntry
    /// `Idempotency-Key` or `webhook-id` (see `Idempotency`).
    var idempotencyKey: String?
    /// `?dryRun=true`: run, answer what would be written, roll back, journal nothing.
    var dryRun = false
}

/// How an ingest request that was not refused ended.
enum IngestOutcome: Sendable {
    /// Written (or, stale, left as it was), with its journal row and its key.
    case written(WriteResult)
    /// Its idempotency key was seen with the same request: the first answer's `data`.
    case replayed(JSONValue)
    /// A dry run: what it would have written; nothing was.
    case dryRun(WriteResult)
}
