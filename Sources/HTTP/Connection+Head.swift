/// The head stage of a request with a body: the application's head handler decides before any
/// body byte is read, the body budget is reserved, and only then is `100 Continue` sent and the
/// body read. Always on the connection's loop.
///
/// A decision that needs blocking work (`HeadVerdict.decideBlocking`, e.g. a key not in the
/// cache) runs on a handler thread while the connection is in the `deciding` phase, in which
/// `drive()` does not run and so nothing is read: the body stays in the client's socket
/// buffers and the kernel's, never in ours. The verdict hops back through `loop.execute`; a
/// connection closed meanwhile (client gone, shutdown) ignores it.
extension Connection {
    /// A complete head arrived: the first one takes the connection off the silent list.
    func headArrived() {
        guard !state.hasSpoken else { return }
        state.hasSpoken = true
        context.onFirstHead(self)
    }

    func decideOnHead(sendContinue: Bool) {
        guard let headHandler = context.headHandler else {
            apply(.proceed, sendContinue: sendContinue)
            return
        }
        var head = state.parser.pendingHead
        head.remoteAddress = remoteAddress
        apply(headHandler(head), sendContinue: sendContinue)
    }

    private func apply(_ verdict: HeadVerdict, sendContinue: Bool) {
        switch verdict {
        case .proceed:
            readBody(sendContinue: sendContinue)
        case .proceedCarrying(let decision):
            state.headDecision = decision
            readBody(sendContinue: sendContinue)
        case .refuse(let response):
            // The body was not read: the connection cannot be reused, so it closes after this.
            answerAndClose(response, isHead: state.parser.pendingHead.method == "HEAD")
        case .decideBlocking(let work):
            state.phase = .deciding
            disarmTimer()
            context.handlerPool.submit(on: handlerQueue) { [self] in
                let verdict = work()
                loop.execute { [self] in
                    guard case .deciding = state.phase else { return }  // closed meanwhile
                    state.phase = .reading
                    apply(verdict, sendContinue: sendContinue)
                    drive()
                }
            }
        }
    }

    /// Reserves the body's bytes, then lets `drive()` read it: 503 when the budget is spent.
    private func readBody(sendContinue: Bool) {
        let size = state.parser.declaredBodyLength ?? context.limits.maxBodyBytes
        guard context.bodyBudget.reserve(size) else {
            refuse(HTTPParseError(status: 503, message: "the server holds too many request bodies; retry later"),
                   reason: .bodyBudget)
            return
        }
        state.bodyReservation = size
        arm(.body, context.limits.bodyTimeout)
        // RFC 9110 §10.1.1: only while no body byte has arrived yet.
        if sendContinue, state.parser.bufferedByteCount == 0 {
            state.output.append(Self.continueResponse)
            flush()
        }
    }

    /// Returns the body's reservation (its request was answered, refused or dropped).
    func releaseBody() {
        guard state.bodyReservation > 0 else { return }
        context.bodyBudget.release(state.bodyReservation)
        state.bodyReservation = 0
    }

    /// Tells the application's observer of a refusal.
    func report(_ reason: HTTPRefusal.Reason, status: Int?) {
        context.onRefusal?(HTTPRefusal(reason: reason, status: status, remoteAddress: remoteAddress))
    }
}
