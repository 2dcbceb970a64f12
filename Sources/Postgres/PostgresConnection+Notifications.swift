import CLibPQ
#if canImport(Glibc)
import Glibc
#endif

/// A notification (`NOTIFY channel, 'payload'`) on a channel the connection listens to.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The server process of the session that sent it.
    public var senderPID: Int32

    public init(channel: String, payload: String, senderPID: Int32) {
        self.channel = channel
        self.payload = payload
        self.senderPID = senderPID
    }
}

/// LISTEN, and waiting for what arrives. A connection that listens should be one of its own (not
/// lent by a pool, whose checkout throws unread notifications away); it may run queries between
/// waits, and a notification that arrives meanwhile waits in libpq for the next call here.
extension PostgresConnection {
    /// `LISTEN "channel"`: from now on, `notifications(waitingUpTo:)` returns the channel's
    /// notifications (those committed after this call).
    public func listen(_ channel: String, file: String = #fileID, line: Int = #line) throws {
        _ = try runSimple("LISTEN \(try quotedIdentifier(channel, file: file, line: line))", file: file, line: line)
    }

    /// The notifications received, waiting up to `timeout` for one when none is there yet: an
    /// empty array when the time passed, or when `wake` (a descriptor of the caller's, say the
    /// read end of a pipe written on Ctrl-C) became readable first. The caller drains `wake`.
    /// Throws `.connectionLost` when the connection broke.
    public func notifications(
        waitingUpTo timeout: Duration, wake: Int32? = nil, file: String = #fileID, line: Int = #line
    ) throws -> [PostgresNotification] {
        var received = try readNotifications(file: file, line: line)
        guard received.isEmpty, timeout > .zero else { return received }
        let socket = PQsocket(handle.pointer)
        guard socket >= 0 else { throw handle.callError("the connection has no socket", file: file, line: line) }
        var descriptors = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0)]
        if let wake { descriptors.append(pollfd(fd: wake, events: Int16(POLLIN), revents: 0)) }
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = max(.zero, deadline - ContinuousClock.now)
            let milliseconds = Int32(clamping: remaining.roundedUpMilliseconds)
            let ready = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
            if ready < 0 {
                guard errno == EINTR else {
                    throw PostgresError(
                        kind: .protocolViolation, message: "poll on the connection's socket failed (errno \(errno))",
                        file: file, line: line)
                }
                continue
            }
            if ready == 0 { return [] }
            if descriptors[0].revents != 0 {
                received = try readNotifications(file: file, line: line)
                // Readable without a notification (a notice, a parameter change): wait on.
                if !received.isEmpty { return received }
                descriptors[0].revents = 0
            }
            if descriptors.count > 1, descriptors[1].revents != 0 { return [] }
        }
    }

    /// Reads what the socket holds (without blocking) and takes every notification libpq parsed.
    private func readNotifications(file: String, line: Int) throws -> [PostgresNotification] {
        guard PQconsumeInput(handle.pointer) == 1, !handle.isBroken else {
            throw PostgresError(
                kind: .connectionLost, message: handle.errorMessage.isEmpty ? "the connection was lost" : handle.errorMessage,
                connectionBroken: true, file: file, line: line)
        }
        var received: [PostgresNotification] = []
        while let notification = PQnotifies(handle.pointer) {
            let value = notification.pointee
            received.append(PostgresNotification(
                channel: value.relname.map { String(cString: $0) } ?? "",
                payload: value.extra.map { String(cString: $0) } ?? "",
                senderPID: value.be_pid))
            PQfreemem(notification)
        }
        return received
    }

    /// `identifier` quoted for SQL text by libpq (`"lakehook_events"`).
    private func quotedIdentifier(_ identifier: String, file: String, line: Int) throws -> String {
        guard !identifier.utf8.contains(0), let quoted = PQescapeIdentifier(handle.pointer, identifier, identifier.utf8.count) else {
            throw PostgresError(
                kind: .invalidParameter, message: "cannot quote the identifier \(identifier.debugDescription)", file: file, line: line)
        }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }
}
