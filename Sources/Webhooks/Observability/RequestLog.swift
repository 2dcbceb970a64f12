#if canImport(Glibc)
import Glibc
#endif
import HTTP

/// Structured logs: one JSON object per line, to stderr. Payloads and keys never reach it.
///
/// Lines go out without a lock, whole lines per `write(2)`: the kernel keeps a single write to a
/// pipe (up to PIPE_BUF) or a file whole, so lines from concurrent requests do not interleave.
/// (A lock held across the syscall was the main cost of a request in `make bench`.) On an
/// event loop, the lines of one loop turn are gathered and written after it, up to PIPE_BUF
/// bytes per write; elsewhere each line is written at once.
public struct RequestLog: Sendable {
    public let level: Configuration.LogLevel

    public init(level: Configuration.LogLevel) { self.level = level }

    /// Whether a line at `level` is written; callers check it before building costly fields.
    public func isEnabled(_ level: Configuration.LogLevel) -> Bool { level >= self.level }

    public func log(_ level: Configuration.LogLevel, _ message: String, _ fields: [(String, JSONValue)] = []) {
        guard isEnabled(level) else { return }
        var members: [(key: String, value: JSONValue)] = [
            (key: "time", value: .string(Timestamp.now().iso8601)),
            (key: "level", value: .string(level.rawValue)),
            (key: "msg", value: .string(message)),
        ]
        members.reserveCapacity(3 + fields.count)
        for (key, value) in fields { members.append((key: key, value: value)) }
        var line = Array(JSONValue.object(JSONObject(members: members)).serialized().utf8)
        line.append(UInt8(ascii: "\n"))
        if let loop = EventLoop.current {
            loop.attachment { LogBuffer(loop: loop) }.append(line)
        } else {
            Self.writeAll(line)
        }
    }

    /// Writes to stderr, retrying on EINTR and short writes; a broken stderr is ignored.
    static func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// Milliseconds with three decimals, without printf (`String(format:)` showed in profiles).
    static func milliseconds(_ seconds: Double) -> String {
        let micros = Int64((seconds * 1_000_000).rounded())
        let fraction = String(micros % 1000)
        return "\(micros / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

/// One event loop's log lines of the current turn, written once the turn's events are handled.
final class LogBuffer {
    /// PIPE_BUF: a pipe keeps a write of at most this many bytes whole.
    static let atomicWrite = 4096

    unowned let loop: EventLoop
    private var pending: [UInt8] = []
    private var scheduled = false

    init(loop: EventLoop) {
        self.loop = loop
    }

    func append(_ line: [UInt8]) {
        if !pending.isEmpty, pending.count + line.count > Self.atomicWrite { flush() }
        pending.append(contentsOf: line)
        if !scheduled {
            scheduled = true
            loop.afterEvents { [self] in
                scheduled = false
                flush()
            }
        }
    }

    private func flush() {
        guard !pending.isEmpty else { return }
        RequestLog.writeAll(pending)
        pending.removeAll(keepingCapacity: true)
    }
}
