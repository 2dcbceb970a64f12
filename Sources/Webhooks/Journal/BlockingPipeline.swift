import Foundation
import Postgres

/// A `PipelinedConnection` driven from one thread that waits (`poll`) until the statements it
/// was given all have their results: a batch goes to the server without a round trip per
/// statement, so the server never idles between two of them (replay, import).
///
/// Each statement is its own sync segment (`PipelinedConnection`), so inside an explicit
/// `BEGIN` a failing statement does not stop the server from reading the next: those fail at
/// once with 25P02 (the transaction is aborted), and the caller sees the first failure.
///
/// Thread safety: used by one thread at a time (the connection's rule).
final class BlockingPipeline {
    private let connection: PipelinedConnection

    init(config: PostgresConfig) throws {
        connection = try PipelinedConnection(config: config)
    }

    deinit { connection.close() }

    /// Sends every statement, then waits until each has its result, in order. A lost connection
    /// gives every statement still waiting `.connectionLost`.
    func run(_ statements: [(sql: String, binds: [String?])]) throws -> [Result<PostgresResult, PostgresError>] {
        let results = Results(count: statements.count)
        for (index, statement) in statements.enumerated() {
            connection.enqueue(statement.sql, statement.binds) { results.set(index, $0) }
        }
        var wantsWrite = connection.flush()
        while results.remaining > 0 && !connection.isBroken {
            var watched = pollfd(fd: connection.socket, events: Int16(POLLIN) | (wantsWrite ? Int16(POLLOUT) : 0), revents: 0)
            let ready = poll(&watched, 1, 1000)
            if ready < 0 {
                if errno == EINTR { continue }
                throw PostgresError(kind: .connectionLost, message: "poll on the database socket failed: \(String(cString: strerror(errno)))")
            }
            if watched.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 { connection.readable() }
            if connection.needsFlush || (wantsWrite && watched.revents & Int16(POLLOUT) != 0) { wantsWrite = connection.flush() }
        }
        // A broken connection completed every statement (with `.connectionLost`) before it said so.
        return try results.all()
    }

    /// The results as they complete (completions run on this thread, inside `readable()`).
    private final class Results {
        private var values: [Result<PostgresResult, PostgresError>?]
        private(set) var remaining: Int

        init(count: Int) {
            values = Array(repeating: nil, count: count)
            remaining = count
        }

        func set(_ index: Int, _ result: Result<PostgresResult, PostgresError>) {
            values[index] = result
            remaining -= 1
        }

        func all() throws -> [Result<PostgresResult, PostgresError>] {
            try values.map { value in
                guard let value else { throw PostgresError(kind: .connectionLost, message: "a statement never got its result") }
                return value
            }
        }
    }
}
