#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Concurrency

/// Why `HTTPServer.start()` failed.
public enum HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// The host is not an IP literal (or "localhost"), or the port is outside 0...65535.
    case invalidAddress(host: String, port: Int)
    /// `start()` was called twice, or after `shutdown`.
    case notStartable
    /// A socket call failed, e.g. "bind 127.0.0.1:8080: Address already in use (errno 98)".
    case socket(SocketError)

    public var description: String {
        switch self {
        case .invalidAddress(let host, let port):
            "cannot listen on \(host):\(port): the host must be an IP address such as 127.0.0.1 or ::"
        case .notStartable: "the server was already started"
        case .socket(let error): error.description
        }
    }
}

/// An HTTP/1.1 server on POSIX sockets: `EventLoop` threads (one per core unless told
/// otherwise) each run the connections they were given (non-blocking sockets, epoll) and call
/// the handler there. A handler that must block offloads to handler threads (see
/// `HandlerPool`). A slow client costs a socket, never a thread.
public final class HTTPServer: Sendable {
    private enum Phase {
        case created
        case running(Listener, [EventLoop])
        case shuttingDown
        case stopped
    }

    private struct State {
        var phase = Phase.created
        var port = 0
        var nextLoop = 0
    }

    private let host: String
    private let requestedPort: Int
    private let context: ConnectionContext
    private let state = Locked(State())
    private let registry: ConnectionRegistry
    private let loopCount: Int

    /// - Parameters:
    ///   - host: "127.0.0.1", "0.0.0.0", "::1", "::" (an IP literal; "localhost" is 127.0.0.1).
    ///   - port: 0 for an ephemeral port; `port` tells which after `start()`.
    ///   - asyncHandler: called once per request on the connection's event loop; must not block.
    ///   - eventLoops: threads serving connections; default one per core.
    ///   - headHandler: decides, from the head of a request with a body, whether the body is
    ///     read at all (see `HeadVerdict`); nil reads every body within the limits.
    ///   - errorResponse: builds the answers the server gives itself (400, 408, 413, 431, 503,
    ///     505); the server adds `Content-Length` and `Connection: close`.
    ///   - onRefusal: told of each request or connection the server refuses by itself (timeouts,
    ///     limits, bad framing, evictions), on the thread that refused it; it must not block.
    public init(
        host: String, port: Int, limits: ServerLimits, eventLoops: Int? = nil,
        asyncHandler handler: @escaping HTTPAsyncHandler,
        headHandler: HTTPHeadHandler? = nil,
        errorResponse: @escaping @Sendable (_ status: Int, _ message: String) -> HTTPResponse,
        onRefusal: HTTPRefusalObserver? = nil
    ) {
        self.host = host
        requestedPort = port
        loopCount = max(1, eventLoops ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let registry = ConnectionRegistry(
            maxConnections: limits.maxConnections, maxPerClient: limits.maxConnectionsPerClient)
        self.registry = registry
        context = ConnectionContext(
            limits: limits, handler: handler, errorResponse: errorResponse,
            handlerPool: HandlerPool(limit: limits.maxConcurrentHandlers),
            headHandler: headHandler, onRefusal: onRefusal,
            bodyBudget: BodyBudget(limit: limits.maxBufferedBodyBytes),
            onFirstHead: { registry.spoke($0) },
            onClose: { registry.remove($0) })
    }

    /// A server dropped without `shutdown` still stops accepting and closes its connections.
    deinit {
        registry.stopAccepting()
        for connection in registry.all { connection.forceClose() }
        if case .running(let listener, let loops) = state.withLock({ $0.phase }) {
            listener.stopWithoutWaiting()
            for loop in loops { loop.stopWithoutWaiting() }
        }
    }

    /// Binds, listens (backlog 1024) and begins accepting.
    public func start() throws {
        _ = Syscall.ignoreSIGPIPE
        _ = Syscall.raiseDescriptorLimit
        let label = host.contains(":") ? "[\(host)]:\(requestedPort)" : "\(host):\(requestedPort)"
        guard let address = SocketAddress(host: host, port: requestedPort) else {
            throw HTTPServerError.invalidAddress(host: host, port: requestedPort)
        }
        try state.withLock { state in
            guard case .created = state.phase else { throw HTTPServerError.notStartable }
            let listener: Listener
            var loops: [EventLoop] = []
            do throws(SocketError) {
                listener = try Listener(address: address, label: label)
                for index in 0..<loopCount { loops.append(try EventLoop(index: index)) }
            } catch {
                throw HTTPServerError.socket(error)
            }
            for loop in loops { loop.start() }
            state.phase = .running(listener, loops)
            state.port = listener.port
            listener.start { [weak self] socket, peer in self?.accepted(socket, peer: peer) }
        }
    }

    /// The bound port after `start()` (0 before).
    public var port: Int { state.withLock { $0.port } }

    /// Connections currently served (counted against `maxConnections`).
    public var openConnectionCount: Int { registry.admittedCount }

    /// Stops accepting at once (new connection attempts are refused), closes idle keep-alive
    /// connections, lets requests in progress finish and their answers be written with
    /// `Connection: close` until `deadline`, then closes everything. Blocks until done.
    public func shutdown(deadline: Duration) {
        let end = DispatchTime(uptimeNanoseconds: Connection.deadline(after: deadline))
        let (listener, loops): (Listener?, [EventLoop]) = state.withLock { state in
            defer { state.phase = .shuttingDown }
            if case .running(let listener, let loops) = state.phase { return (listener, loops) }
            return (nil, [])
        }
        // After these no connection is accepted, so the snapshot below is complete.
        listener?.stop()
        registry.stopAccepting()
        for connection in registry.all {
            connection.beginShutdown()
        }
        if !registry.waitUntilEmpty(deadline: end) {
            for connection in registry.all {
                connection.forceClose()
            }
            _ = registry.waitUntilEmpty(deadline: .distantFuture)
        }
        for loop in loops { loop.stop() }
        state.withLock { $0.phase = .stopped }
    }

    private func accepted(_ socket: SocketDescriptor, peer: SocketAddress) {
        // Small answers go out at once rather than waiting for Nagle's algorithm.
        try? socket.setOption(Int32(IPPROTO_TCP), Int32(TCP_NODELAY), 1, "TCP_NODELAY")
        let loop: EventLoop? = state.withLock { state in
            guard case .running(_, let loops) = state.phase else { return nil }
            state.nextLoop = (state.nextLoop + 1) % loops.count
            return loops[state.nextLoop]
        }
        guard let loop else { return }  // shutting down: the socket closes here
        guard let (connection, evicted) = registry.register(client: peer.host, { admission in
            Connection(
                socket: socket, remoteAddress: peer.description, admission: admission, context: context,
                loop: loop)
        }) else { return }
        // Each evicted connection is closed on its own loop (it may be another one).
        for victim in evicted { victim.evict() }
        loop.execute { connection.start() }
    }
}
