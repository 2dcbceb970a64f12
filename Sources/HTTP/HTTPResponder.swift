/// Answers one request, exactly once, from any thread. Handed to an `HTTPAsyncHandler` with
/// the request, on the connection's event loop.
public final class HTTPResponder: @unchecked Sendable {
    let connection: Connection

    init(connection: Connection) {
        self.connection = connection
    }

    /// The loop the request arrived on: work started there (e.g. a database pipeline the
    /// application keeps per loop) can answer without changing threads.
    public var eventLoop: EventLoop { connection.loop }

    /// Sends the answer: at once on the connection's loop, else by hopping to it.
    public func respond(_ response: HTTPResponse) {
        let connection = connection
        if connection.loop.inLoop {
            connection.respond(response)
        } else {
            connection.loop.execute { connection.respond(response) }
        }
    }

    /// Runs blocking `work` (database calls) on a handler thread, at most
    /// `ServerLimits.maxConcurrentHandlers` at once, and answers with what it returns. Call it
    /// on the connection's loop (in the handler, or in work the handler started there).
    public func offload(_ work: @escaping @Sendable () -> HTTPResponse) {
        let connection = connection
        connection.loop.assertInLoop()
        connection.context.handlerPool.submit(on: connection.handlerQueue) { [self] in respond(work()) }
    }

    /// Runs blocking `work` on a handler thread, as `offload` does, and hands what it returns to
    /// `next` back on the connection's loop, which goes on with the request there and answers it.
    public func offload<Value: Sendable>(_ work: @escaping @Sendable () -> Value, then next: @escaping @Sendable (Value) -> Void) {
        let connection = connection
        connection.loop.assertInLoop()
        connection.context.handlerPool.submit(on: connection.handlerQueue) {
            let value = work()
            connection.loop.execute { next(value) }
        }
    }
}
