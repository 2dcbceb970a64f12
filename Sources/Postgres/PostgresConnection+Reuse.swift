import CLibPQ

/// What the pool asks a connection before lending it and after getting it back.
extension PostgresConnection {
    /// Before lending an idle connection: reads (without blocking) anything the server sent in
    /// the meantime. A backend terminated by `pg_terminate_backend` or a restart has closed the
    /// socket, which makes this false, so the pool opens a fresh connection instead of failing
    /// the caller's first query.
    func isUsableAfterIdling() -> Bool {
        handle.pollIdle() && isHealthy
    }

    /// After the caller's body: may this connection be lent again? Not when the connection
    /// broke, or when the body's error says it did. A transaction left open (a BEGIN of the
    /// caller's own) is rolled back; if that fails, the connection is not reused.
    func isReusable(after error: (any Error)?) -> Bool {
        if let error = error as? PostgresError, error.kind == .connectionLost || error.connectionBroken {
            return false
        }
        if handle.isBroken { return false }
        if isTransactionOpen {
            do {
                try rollback(file: #fileID, line: #line)
            } catch {
                return false
            }
        }
        return isHealthy
    }
}
