import HTTP
import Postgres

/// The I/O of one pipelined database connection of a loop: its socket watched by the loop,
/// statements queued into libpq, queues sent, answers read. It decides nothing: readiness goes
/// to its `LoopPipeline`, which asks `PipelineState` what to do.
///
/// Confined to its loop's thread, hence `@unchecked Sendable`.
final class PipelineSlot: EventLoopTarget, @unchecked Sendable {
    /// The id `PipelineState.connected` gave this connection.
    let id: Int
    unowned let loop: EventLoop
    let connection: PipelinedConnection
    /// Told when the socket is readable or writable.
    private unowned let owner: LoopPipeline
    /// The fd registered with the loop, for deregistering before the connection closes it.
    private var registeredSocket: Int32 = -1
    private var waitingWritable = false
    private(set) var isClosed = false

    /// Registers `connection`'s socket with `loop`; throws when the loop cannot watch it.
    init(id: Int, loop: EventLoop, connection: PipelinedConnection, owner: LoopPipeline) throws {
        self.id = id
        self.loop = loop
        self.connection = connection
        self.owner = owner
        try loop.register(connection.socket, self, edgeTriggered: false)
        registeredSocket = connection.socket
    }

    var isBroken: Bool { connection.isBroken }

    func readable() {
        guard !isClosed else { return }
        owner.readable(self)
    }

    func writable() {
        guard !isClosed, waitingWritable else { return }
        owner.writable(self)
    }

    /// Sends what libpq holds; watches for writability while some is left.
    func send() {
        let pending = connection.flush()
        guard !connection.isBroken else { return }
        if pending != waitingWritable {
            waitingWritable = pending
            loop.watchWritable(registeredSocket, pending)
        }
    }

    /// Deregisters the socket first — libpq closes it next, and an accept may reuse its number
    /// (see `EventLoop.deregister`) — then completes what is in flight with `connectionLost`.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(registeredSocket, self)
        registeredSocket = -1
        waitingWritable = false
        connection.close()
    }
}
