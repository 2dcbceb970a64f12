#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes waiting to be written to one socket, in order, with partial-write progress.
struct OutboundBuffer {
    enum Progress {
        /// Everything queued has been written.
        case drained
        /// The socket buffer is full: wait for writability.
        case blocked
    }

    private var chunks: [[UInt8]] = []
    /// Bytes of `chunks[0]` already written.
    private var offset = 0

    var isEmpty: Bool { chunks.isEmpty }

    mutating func append(_ bytes: [UInt8]) {
        if !bytes.isEmpty { chunks.append(bytes) }
    }

    mutating func removeAll() {
        chunks.removeAll()
        offset = 0
    }

    /// Writes as much as the socket accepts without blocking. Throws on a failed send
    /// (EPIPE, ECONNRESET…): the peer is gone.
    mutating func write(to fd: Int32) throws(SocketError) -> Progress {
        while let first = chunks.first {
            let start = offset
            let outcome = try Syscall.run("send") {
                first.withUnsafeBytes { bytes in
                    send(fd, bytes.baseAddress! + start, bytes.count - start, Int32(MSG_NOSIGNAL))
                }
            }
            switch outcome {
            case .wouldBlock:
                return .blocked
            case .completed(let written):
                offset += written
                if offset == first.count {
                    chunks.removeFirst()
                    offset = 0
                }
            }
        }
        return .drained
    }
}
