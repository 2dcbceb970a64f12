/// The bookkeeping of `PipelinedConnection`: what was enqueued, and what libpq will answer.

/// One enqueued statement, kept to send it again after a stale prepared statement and to name
/// the call site in its error.
struct PipelineStatement {
    let sql: String
    let binds: [String?]
    let file: String
    let line: Int
}

/// A statement whose completion has not run. A class: the waiter queue (completion order) and
/// the segment queue (server order) share it, and a retry moves it to a later segment while its
/// place in the completion order stays.
final class PipelineWaiter {
    let statement: PipelineStatement
    let completion: (Result<PostgresResult, PostgresError>) -> Void
    /// Set once final; the completion runs when every earlier statement's has run.
    var outcome: Result<PostgresResult, PostgresError>?
    /// Sent a second time after a stale prepared statement; never a third.
    var retried = false

    init(statement: PipelineStatement, completion: @escaping (Result<PostgresResult, PostgresError>) -> Void) {
        self.statement = statement
        self.completion = completion
    }
}

/// One sync segment sent to the server, in pipeline order.
enum PipelineSegment {
    /// `DEALLOCATE ALL` to empty a full statement cache: one result, then the sync.
    case deallocate
    /// One attempt at a statement: the PREPARE's result if `awaitsPrepare`, the execution's
    /// result, then the sync.
    case statement(PipelineExchange)
}

/// One attempt at running a statement, as its results come in.
struct PipelineExchange {
    let waiter: PipelineWaiter
    /// The prepared statement the execution used.
    let name: String
    /// The segment starts with a `PQsendPrepare` whose result has not been taken yet.
    var awaitsPrepare: Bool
    /// This attempt's result or error, final once the sync arrives.
    var outcome: Result<PostgresResult, PostgresError>? = nil
}

/// A first-in first-out queue with O(1) removal at the front (an array and a head index,
/// compacted once the consumed part outweighs the rest).
struct PipelineQueue<Element> {
    private var storage: [Element?] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }
    var first: Element? { isEmpty ? nil : storage[head] }

    mutating func append(_ element: Element) { storage.append(element) }

    /// - Precondition: not empty.
    mutating func replaceFirst(with element: Element) {
        precondition(!isEmpty, "replaceFirst on an empty queue")
        storage[head] = element
    }

    /// - Precondition: not empty.
    mutating func removeFirst() {
        precondition(!isEmpty, "removeFirst on an empty queue")
        storage[head] = nil
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }

    /// Empties the queue and returns what it held, front first.
    @discardableResult
    mutating func removeAll() -> [Element] {
        let elements = storage[head...].compactMap { $0 }
        storage.removeAll()
        head = 0
        return elements
    }
}
