#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Socket reads and writes, timers and closing; always on the connection's loop.
extension Connection {
    static let readChunkSize = 32 * 1024

    /// One `recv` into the parser. False when there is nothing more to read now (EAGAIN, or a
    /// short read drained the socket) or the connection closed (EOF mid-request drops the
    /// request: the handler never sees it).
    func readInput() -> Bool {
        guard state.mayHaveInput, let fd = state.socket?.fd else { return false }
        let outcome: Syscall.Outcome
        do {
            outcome = try receive(fd) { state.parser.feed($0) }
        } catch {
            close()  // reset by the peer: nothing to answer
            return false
        }
        switch outcome {
        case .wouldBlock:
            state.mayHaveInput = state.peerHungUp
            return false
        case .completed(0):
            close()
            return false
        case .completed(let count):
            if count < Self.readChunkSize, !state.peerHungUp { state.mayHaveInput = false }
            return true
        }
    }

    /// While lingering: reads and drops input until EAGAIN; EOF closes.
    func discardInput() {
        guard let fd = state.socket?.fd else { return }
        while case .lingering = state.phase {
            switch try? receive(fd, { _ in }) {
            case .wouldBlock: return
            case .completed(let count) where count > 0: continue
            default:
                close()  // EOF or reset
                return
            }
        }
    }

    /// One `recv` of up to `readChunkSize` bytes into a temporary buffer; `body` sees the bytes
    /// read, if any.
    private func receive(_ fd: Int32, _ body: (UnsafeRawBufferPointer) -> Void) throws(SocketError) -> Syscall.Outcome {
        try withUnsafeTemporaryAllocation(byteCount: Self.readChunkSize, alignment: 1) { buffer throws(SocketError) in
            let outcome = try Syscall.run("recv") { recv(fd, buffer.baseAddress, buffer.count, 0) }
            if case .completed(let count) = outcome, count > 0 {
                body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            }
            return outcome
        }
    }

    /// Writes queued output; when the socket buffer is full the rest waits for the next
    /// writable event.
    func flush() {
        guard let fd = state.socket?.fd else { return }
        do {
            switch try state.output.write(to: fd) {
            case .blocked:
                state.waitingWritable = true
                if case .writing = state.phase { arm(.writeStall, context.limits.idleTimeout) }
            case .drained:
                state.waitingWritable = false
                outputDrained()
            }
        } catch {
            close()  // the client is gone; the answer is dropped quietly
        }
    }

    /// Half-closes after a final answer and discards input until EOF or the linger deadline
    /// (RFC 9112 §9.6: closing with unread input would reset the connection and could destroy
    /// the answer before the client reads it).
    func linger() {
        guard let fd = state.socket?.fd else { return }
        _ = shutdown(fd, Int32(SHUT_WR))
        state.phase = .lingering
        arm(.linger, context.limits.lingerTimeout)
        discardInput()
    }

    func timerFired() {
        guard let timer = state.timer, DispatchTime.now().uptimeNanoseconds >= timer.deadline else { return }
        state.timer = nil
        let late = HTTPParseError(status: 408, message: "the request was not received in time")
        switch timer.purpose {
        case .header where !state.parser.hasPartialRequest:
            // Not a byte read since the accept: silent, unless a late loop has not read it yet.
            if readLateInput() { return }
            report(.headerTimeout, status: nil)
            close()
        case .header:
            refuse(late, reason: .headerTimeout)
        case .body:
            refuse(late, reason: .bodyTimeout)
        case .writeStall:
            report(.writeStall, status: nil)
            close()
        case .idle:
            if readLateInput() { return }
            close()
        case .linger:
            close()
        }
    }

    /// Before a connection waiting for a request is closed on its timer: a loop that fell behind
    /// (a burst of events, a starved thread) may not have read input that did arrive in time,
    /// and closing with unread input would reset the connection under a client that spoke.
    /// Reads what is there; true when the connection moved on (a request began or was handled,
    /// or it closed), with a fresh header deadline if a request began.
    private func readLateInput() -> Bool {
        state.mayHaveInput = true
        drive()
        guard case .reading = state.phase else { return true }
        guard state.parser.hasPartialRequest else { return false }
        if state.timer == nil { arm(.header, context.limits.headerTimeout) }
        return true
    }

    func arm(_ purpose: ConnectionState.TimerPurpose, _ duration: Duration) {
        let deadline = Self.deadline(after: duration)
        state.timer = (purpose, deadline)
        loop.deadlineChanged(deadline)
    }

    func disarmTimer() {
        state.timer = nil
    }

    /// Stops watching the socket, closes it, and unregisters.
    func close() {
        guard !state.isClosed else { return }
        state.phase = .closed
        state.timer = nil
        state.waitingWritable = false
        state.output.removeAll()
        state.parser = RequestParser(limits: context.limits)
        releaseBody()
        if let fd = state.socket?.fd { loop.deregister(fd, self) }
        loop.untrack(self)
        state.socket = nil  // closes the fd
        context.onClose(self)
    }

    /// Now + `duration` in monotonic nanoseconds, saturating (a negative duration is now).
    static func deadline(after duration: Duration) -> UInt64 {
        let now = DispatchTime.now().uptimeNanoseconds
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return now }
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return .max }
        let total = nanoseconds.partialValue.addingReportingOverflow(attoseconds / 1_000_000_000)
        guard !total.overflow else { return .max }
        let sum = now.addingReportingOverflow(UInt64(total.partialValue))
        return sum.overflow ? .max : sum.partialValue
    }
}
