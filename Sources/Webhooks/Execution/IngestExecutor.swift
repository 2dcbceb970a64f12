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

    init(pool: PostgresPool, metrics: Metrics, pipelineConnectionsPerLoop: Int?) {
        self.pool = pool
        self.metrics = metrics
        self.pipelineConnectionsPerLoop = pipelineConnectionsPerLoop
    }

    /// lock_not_available: `lock_timeout` expired (see `LoopPipeline.lockTimeout`).
    static let lockNotAvailable = "55P03"

    /// Runs `operation` for a request read on `responder`'s loop (call it there), and answers
    /// the request with `answer(outcome)`: on the loop when the statement went through the
    /// loop's pipeline, else on a handler thread.
    func execute(
        _ operation: any IngestOperation, for connection: WebhookConnection, responder: HTTPResponder,
        answer: @escaping @Sendable (Result<WriteResult, any Error>) -> HTTPResponse
    ) {
        let runOnPool: @Sendable () -> Void = { [self] in
            responder.offload { answer(Result { try self.run(operation, for: connection) }) }
        }
        guard let statement = operation as? any SingleStatementOperation, let pipeline = pipeline(for: responder.eventLoop)
        else {
            runOnPool()
            return
        }
        let onPool: @Sendable (PipelineState.PoolReason) -> Void = { [metrics] reason in
            metrics.recordPoolFallback(reason)
            runOnPool()
        }
        let refused = pipeline.submit(statement.sql, statement.binds(for: connection)) { result in
            if case .failure(let error) = result, case .runOnPool(let reason) = PipelineState.outcome(
                lockTimedOut: error.sqlState == Self.lockNotAvailable, runsAgain: statement.runsAgain(after: error)) {
                onPool(reason)
                return
            }
            responder.respond(answer(Result { try statement.answer(result.get(), for: connection) }))
        }
        if let refused {
            onPool(refused)
        } else {
            metrics.recordWrite(pipelined: true)
        }
    }

    /// Runs `operation` here, blocking (on a handler thread): a single statement by itself, else
    /// in one transaction.
    func run(_ operation: any IngestOperation, for connection: WebhookConnection) throws -> WriteResult {
        metrics.recordWrite(pipelined: false)
        if operation is any SingleStatementOperation {
            return try pool.withConnection { db in try operation.write(db, for: connection) }
        }
        return try pool.transaction { db in try operation.write(db, for: connection) }
    }

    /// The loop's pipeline, made on first use; nil when pipelining is off.
    private func pipeline(for loop: EventLoop) -> LoopPipeline? {
        guard let pipelineConnectionsPerLoop else { return nil }
        return loop.attachment { LoopPipeline(loop: loop, config: pool.config, maxConnections: pipelineConnectionsPerLoop) }
    }
}
