#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Socket reads and writes, timers and closing; always on the connection's queue.
extension Connection {
    static let readChunkSize = 32 * 1024

    func readable() {
        guard let fd = state.socket?.fd else { return }
        // An event queued before reading was suspended: leave the bytes in the socket.
        switch state.phase {
        case .reading, .lingering: break
        default: return
        }
        let outcome: Syscall.Outcome
        do {
            outcome = try withUnsafeTemporaryAllocation(byteCount: Self.readChunkSize, alignment: 1) {
                buffer throws(SocketError) in
                let outcome = try Syscall.run("recv") { recv(fd, buffer.baseAddress, buffer.count, 0) }
                if case .completed(let count) = outcome, count > 0, case .reading = state.phase {
                    // Into the parser; input that arrives while lingering is dropped.
                    state.parser.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                }
                return outcome
            }
        } catch {
            close()  // reset by the peer: nothing to answer
            return
        }
        switch outcome {
        case .wouldBlock:
            return
        case .completed(0):
            // EOF. Mid-request: the request is dropped, the handler never sees it.
            close()
        case .completed:
            if case .reading = state.phase { processInput() }
        }
    }

    /// Writes queued output; waits for writability when the socket buffer is full.
    func flush() {
        guard let fd = state.socket?.fd else { return }
        do {
            switch try state.output.write(to: fd) {
            case .blocked:
                if !state.writeSourceResumed {
                    state.writeSourceResumed = true
                    writeSource.resume()
                }
                if case .writing = state.phase { arm(.writeStall, context.limits.idleTimeout) }
            case .drained:
                if state.writeSourceResumed {
                    state.writeSourceResumed = false
                    writeSource.suspend()
                }
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
        resumeReading()
    }

    func timerFired() {
        guard let timer = state.timer, DispatchTime.now() >= timer.deadline else { return }
        state.timer = nil
        switch timer.purpose {
        case .header, .body:
            refuse(HTTPParseError(status: 408, message: "the request was not received in time"))
        case .idle, .writeStall, .linger:
            close()
        }
    }

    func arm(_ purpose: ConnectionState.TimerPurpose, _ duration: Duration) {
        let deadline = DispatchTime.now() + Self.interval(duration)
        state.timer = (purpose, deadline)
        timerSource.schedule(deadline: deadline, leeway: .milliseconds(10))
    }

    func disarmTimer() {
        state.timer = nil
        timerSource.schedule(deadline: .distantFuture)
    }

    func suspendReading() {
        guard !state.readSuspended, !state.isClosed else { return }
        state.readSuspended = true
        readSource.suspend()
    }

    func resumeReading() {
        guard state.readSuspended, !state.isClosed else { return }
        state.readSuspended = false
        readSource.resume()
    }

    /// Cancels the sources (the fd closes once both cancel handlers ran) and unregisters.
    func close() {
        guard !state.isClosed else { return }
        state.phase = .closed
        state.timer = nil
        state.output.removeAll()
        state.parser = RequestParser(limits: context.limits)
        state.socket = nil
        // A suspended or inactive source never runs its cancel handler (and must not be
        // released suspended): resume before cancelling.
        if !state.timerSourceResumed { timerSource.resume() }
        timerSource.cancel()
        if state.readSuspended { readSource.resume() }
        readSource.cancel()
        if !state.writeSourceResumed { writeSource.resume() }
        writeSource.cancel()
        context.onClose(self)
    }

    static func interval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow, seconds >= 0 else { return seconds < 0 ? .nanoseconds(0) : .never }
        return .nanoseconds(Int(nanoseconds.partialValue + attoseconds / 1_000_000_000))
    }
}
