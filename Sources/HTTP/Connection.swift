#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// What a connection needs from the server that accepted it.
struct ConnectionContext: Sendable {
    var limits: ServerLimits
    var handler: HTTPAsyncHandler
    var errorResponse: @Sendable (_ status: Int, _ message: String) -> HTTPResponse
    var handlerPool: HandlerPool
    /// Decides from a head whether its body is read (nil: always read).
    var headHandler: HTTPHeadHandler?
    /// Told of every refusal the server makes by itself.
    var onRefusal: HTTPRefusalObserver?
    var bodyBudget: BodyBudget
    /// Called once, on the connection's loop, when its first complete request head arrived.
    var onFirstHead: @Sendable (Connection) -> Void
    /// Called once, on the connection's loop, when it has closed.
    var onClose: @Sendable (Connection) -> Void
}

/// One accepted socket: reads requests, hands them to the handler one at a time, writes the
/// answers in order. All mutable state is the one `state` value, confined to the connection's
/// event loop; that confinement is why the class can be `@unchecked Sendable`.
final class Connection: EventLoopTarget, EventLoopTimed, @unchecked Sendable {
    let remoteAddress: String
    /// Served, or only told 503 (and why).
    let admission: Admission
    let loop: EventLoop
    let context: ConnectionContext
    /// Offloaded handlers for this connection's requests run here (see `HandlerPool`); made
    /// on first use, since most requests never offload.
    lazy var handlerQueue = DispatchQueue(label: "lakehook.http.handler")
    var state: ConnectionState

    init(socket: SocketDescriptor, remoteAddress: String, admission: Admission, context: ConnectionContext,
         loop: EventLoop) {
        self.remoteAddress = remoteAddress
        self.admission = admission
        self.context = context
        self.loop = loop
        state = ConnectionState(parser: RequestParser(limits: context.limits), socket: socket)
    }

    /// Begins serving, on the loop; a connection over the cap is answered 503 and closed instead.
    func start() {
        guard !state.isClosed, let fd = state.socket?.fd else { return }  // the server shut down first
        do {
            try loop.register(fd, self)
        } catch {
            close()
            return
        }
        loop.track(self)
        switch admission {
        case .admitted:
            // The header timeout, not the idle one: a connection that never speaks holds its
            // slot no longer than one that dribbles a head.
            arm(.header, context.limits.headerTimeout)
            drive()
        case .refused(let reason):
            let message = reason == .clientLimit
                ? "the server is at its connection limit for this client address"
                : "the server is at its connection limit"
            refuse(HTTPParseError(status: 503, message: message), reason: reason)
        }
    }

    /// Closes a connection whose slot was given to a newer one (see `ConnectionRegistry`); from
    /// any thread. One whose head completed meanwhile is closed all the same: its slot is gone.
    func evict() {
        loop.execute { [self] in
            guard !state.isClosed else { return }
            report(.evictedSilent, status: nil)
            close()
        }
    }

    /// The server stops: close if idle, else finish the request in progress and close.
    func beginShutdown() {
        loop.execute { [self] in
            state.shuttingDown = true
            switch state.phase {
            case .reading where !state.parser.hasPartialRequest:
                close()
            case .writing:
                // Already on the wire without `Connection: close`; closing after a complete
                // response is still allowed (RFC 9112 §9.6).
                state.phase = .writing(thenClose: true)
            default:
                break
            }
        }
    }

    /// Closes at once, whatever is in progress.
    func forceClose() {
        loop.execute { [self] in close() }
    }

    // MARK: - Loop events

    func readable() {
        state.mayHaveInput = true
        switch state.phase {
        case .reading: drive()
        case .lingering: discardInput()
        default: break  // read when the phase comes back to reading (edge-triggered: see drive)
        }
    }

    func hungUp() {
        state.peerHungUp = true
    }

    func writable() {
        if state.waitingWritable { flush() }
    }

    var deadline: UInt64 { state.timer?.deadline ?? .max }

    func deadlinePassed() { timerFired() }

    // MARK: - Requests

    /// RFC 9110 §15.2.1: the interim answer to `Expect: 100-continue`.
    static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Reads and handles requests while the connection is reading: parser events first, the
    /// socket when the parser needs more. Reads until EAGAIN (the registration is
    /// edge-triggered), or until a request is being handled — its answer, once written, brings
    /// the connection back here. Re-entrant calls (an answer written synchronously while
    /// handling) return at once and the outer call goes on.
    func drive() {
        guard !state.driving else { return }
        state.driving = true
        defer { state.driving = false }
        while case .reading = state.phase {
            switch state.parser.next() {
            case .needMoreData:
                if state.parser.hasPartialRequest {
                    if state.timer?.purpose == .idle { arm(.header, context.limits.headerTimeout) }
                } else if state.shuttingDown {
                    close()
                    return
                }
                if !readInput() { return }
            case .headComplete(let sendContinue):
                headArrived()
                decideOnHead(sendContinue: sendContinue)
            case .request(var request):
                headArrived()
                request.remoteAddress = remoteAddress
                request.headDecision = state.headDecision
                state.headDecision = nil
                dispatch(request)
            case .failure(let error):
                refuse(error, reason: HTTPRefusal.reason(forParseStatus: error.status))
            }
        }
    }

    private func dispatch(_ request: HTTPRequest) {
        let connectionTokens = request.headers.lowercasedTokens(for: "Connection")
        // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
        let keepAlive = request.versionMinor == 1
            ? !connectionTokens.contains("close")
            : connectionTokens.contains("keep-alive") && !connectionTokens.contains("close")
        let plan = ConnectionState.ResponsePlan(
            isHead: request.method == "HEAD", versionMinor: request.versionMinor, keepAlive: keepAlive)
        state.phase = .handling(plan)
        disarmTimer()
        context.handler(request, HTTPResponder(connection: self))
    }

    /// The handler's answer, on the connection's loop.
    func respond(_ response: HTTPResponse) {
        // Closed meanwhile (client gone, forced shutdown): the answer is dropped quietly.
        guard case .handling(let plan) = state.phase else { return }
        releaseBody()
        let closeAfter = !plan.keepAlive || state.shuttingDown || ResponseSerializer.requestsClose(response)
        let connectionHeader = closeAfter ? "close" : (plan.versionMinor == 0 ? "keep-alive" : nil)
        for part in ResponseSerializer.serialize(response, isHead: plan.isHead, connectionHeader: connectionHeader) {
            state.output.append(part)
        }
        state.phase = .writing(thenClose: closeAfter)
        flush()
    }

    /// Answers an error of the server's own (400, 408, 413, 431, 503, 505) with the app's
    /// error body and `Connection: close`, then half-closes; the refusal is reported.
    func refuse(_ error: HTTPParseError, reason: HTTPRefusal.Reason) {
        guard !state.isClosed else { return }
        report(reason, status: error.status)
        answerAndClose(context.errorResponse(error.status, error.message), isHead: false)
    }

    /// Writes `response` with `Connection: close` and half-closes after it, whatever was in
    /// progress; input that follows (an unread body) is discarded while lingering.
    func answerAndClose(_ response: HTTPResponse, isHead: Bool) {
        guard !state.isClosed else { return }
        // Bytes already read past the head are dropped with the parser, not kept.
        state.parser = RequestParser(limits: context.limits)
        releaseBody()
        for part in ResponseSerializer.serialize(response, isHead: isHead, connectionHeader: "close") {
            state.output.append(part)
        }
        state.phase = .writing(thenClose: true)
        disarmTimer()
        flush()
    }

    /// All queued output is written.
    func outputDrained() {
        switch state.phase {
        case .writing(thenClose: true):
            linger()
        case .writing(thenClose: false):
            state.phase = .reading
            arm(.idle, context.limits.idleTimeout)
            drive()
        default:
            break  // a 100 Continue went out while reading
        }
    }
}
