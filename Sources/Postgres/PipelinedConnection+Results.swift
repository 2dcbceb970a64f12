import CLibPQ

/// Taking results off the pipeline, in the order the sync segments were sent.
extension PipelinedConnection {
    /// The socket is readable: `PQconsumeInput`, then every finished result is taken
    /// (`PQgetResult` while `PQisBusy` says one is ready; NULL ends each command's results,
    /// `PGRES_PIPELINE_SYNC` ends each segment, `PGRES_PIPELINE_ABORTED` stands for a command
    /// skipped after a failure earlier in its segment) and completions run in enqueue order.
    /// A lost connection completes every statement in flight with `.connectionLost`.
    public func readable() {
        guard let pointer = handle?.pointer else { return }
        guard PQconsumeInput(pointer) == 1 else {
            breakConnection(because: "could not read from the server")
            return
        }
        takeResults()
    }

    /// Takes results until libpq needs more input. A completion may enqueue or close, so the
    /// connection is looked up again on every turn.
    private func takeResults() {
        var nullsInARow = 0
        while !segments.isEmpty, let pointer = handle?.pointer, PQisBusy(pointer) == 0 {
            let result = ResultHandle(taking: PQgetResult(pointer))
            if result.isNull {
                // One NULL ends a command's results; a second in a row means nothing is ready.
                nullsInARow += 1
                if nullsInARow > 1 { break }
                continue
            }
            nullsInARow = 0
            take(result)
            runFinishedCompletions()
        }
        if handle?.isBroken == true {
            breakConnection(because: "the server closed the connection")
        }
    }

    /// Applies one non-NULL result to the segment at the front of the pipeline.
    private func take(_ result: borrowing ResultHandle) {
        guard let front = segments.first else { return }
        let status = result.status
        guard case .statement(var exchange) = front else {
            // DEALLOCATE ALL's own result needs nothing: had it failed, the names it should have
            // dropped are never used again.
            if status == PGRES_PIPELINE_SYNC { segments.removeFirst() }
            return
        }
        if status == PGRES_PIPELINE_SYNC {
            segments.removeFirst()
            finish(exchange)
            return
        }
        let statement = exchange.waiter.statement
        if exchange.awaitsPrepare {
            exchange.awaitsPrepare = false
            if !result.succeeded {
                // The execution that follows comes back PGRES_PIPELINE_ABORTED.
                exchange.outcome = .failure(serverError(result, statement))
                if statements.name(for: statement.sql) == exchange.name { statements.remove(statement.sql) }
            }
        } else if result.succeeded {
            exchange.outcome = .success(result.makeResult())
        } else if status == PGRES_PIPELINE_ABORTED {
            if exchange.outcome == nil {
                let message = "the statement was skipped after an earlier failure in its pipeline segment"
                exchange.outcome = .failure(
                    PostgresError(kind: .protocolViolation, message: message, file: statement.file, line: statement.line)
                )
            }
        } else if status == PGRES_FATAL_ERROR {
            exchange.outcome = .failure(serverError(result, statement))
        } else {
            // COPY (whose data would have to be pumped through this pipeline) or a status libpq
            // should not return here: libpq's state cannot be trusted any more.
            unrecoverable(exchange.waiter, status: status)
            return
        }
        if case .failure(let error) = exchange.outcome, error.connectionBroken {
            // A FATAL error: the server ends the session after sending it.
            exchange.waiter.outcome = exchange.outcome
            failAll(message: error.message)
            return
        }
        segments.replaceFirst(with: .statement(exchange))
    }

    /// The segment's sync arrived: the statement has its outcome, unless the server no longer
    /// had its prepared statement — then it is prepared again and sent once more (it did
    /// nothing, so that is safe), keeping its place among the completions.
    private func finish(_ exchange: PipelineExchange) {
        let waiter = exchange.waiter
        let statement = waiter.statement
        let outcome = exchange.outcome ?? .failure(
            PostgresError(
                kind: .protocolViolation,
                message: "the pipeline reached the statement's sync point without its result",
                file: statement.file,
                line: statement.line
            )
        )
        if case .failure(let error) = outcome, error.isStalePreparedStatement, !waiter.retried {
            if statements.name(for: statement.sql) == exchange.name { statements.remove(statement.sql) }
            waiter.retried = true
            send(waiter)
            needsFlush = true
            return
        }
        waiter.outcome = outcome
    }

    /// A server error as `PostgresConnection.query` reports it. A FATAL or PANIC error means
    /// the server is closing the session, so it counts as a lost connection even before libpq
    /// has seen the socket close.
    private func serverError(_ result: borrowing ResultHandle, _ statement: PipelineStatement) -> PostgresError {
        let severity = result.errorField(Self.severityField)
        let broken = (handle?.isBroken ?? true) || severity == "FATAL" || severity == "PANIC"
        return result.error(
            kind: broken ? .connectionLost : .server,
            connectionBroken: broken,
            file: statement.file,
            line: statement.line
        )
    }

    private func unrecoverable(_ waiter: PipelineWaiter, status: ExecStatusType) {
        let statement = waiter.statement
        let copy = status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH
        let message = copy
            ? "COPY FROM STDIN / TO STDOUT is not supported by this client"
            : "unexpected result status \(String(cString: PQresStatus(status))) in pipeline mode"
        waiter.outcome = .failure(
            PostgresError(
                kind: .protocolViolation,
                message: message,
                connectionBroken: true,
                file: statement.file,
                line: statement.line
            )
        )
        failAll(message: "the connection was given up after: \(message)")
    }

    /// Runs the completions at the front of the order that have their outcome.
    private func runFinishedCompletions() {
        while let waiter = waiters.first, let outcome = waiter.outcome {
            waiters.removeFirst()
            waiter.completion(outcome)
        }
    }

    /// `PG_DIAG_SEVERITY_NONLOCALIZED` ('V'), which is never translated.
    private static let severityField = CChar(UInt8(ascii: "V"))
}
