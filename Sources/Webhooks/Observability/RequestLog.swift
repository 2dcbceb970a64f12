#if canImport(Glibc)
import Glibc
#endif
import HTTP

/// Structured logs: one JSON object per line, to stderr (a `LogSink`). Payloads and keys never
/// reach it.
///
/// On an event loop, the lines of one loop turn are gathered and written after it, up to
/// PIPE_BUF bytes per write; elsewhere each line is written at once. The sink keeps lines whole
/// and in order, and never makes a writer wait for a reader that is behind.
public struct RequestLog: Sendable {
    public let level: Configuration.LogLevel
    public let sink: LogSink

    public init(level: Configuration.LogLevel, sink: LogSink = .standardError) {
        self.level = level
        self.sink = sink
    }

    /// Whether a line at `level` is written; callers check it before building costly fields.
    public func isEnabled(_ level: Configuration.LogLevel) -> Bool { level >= self.level }

    public func log(_ level: Configuration.LogLevel, _ message: String, _ fields: [(String, JSONValue)] = []) {
        guard isEnabled(level) else { return }
        let line = Self.line(level, message, fields)
        if let loop = EventLoop.current {
            loop.attachment { LogBuffer(loop: loop) }.append(line, to: sink)
        } else {
            sink.write(line)
        }
    }

    /// One line: `time`, `level` and `msg`, then `fields`, and a newline.
    static func line(_ level: Configuration.LogLevel, _ message: String, _ fields: [(String, JSONValue)]) -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = [
            (key: "time", value: .string(Timestamp.now().iso8601)),
            (key: "level", value: .string(level.rawValue)),
            (key: "msg", value: .string(message)),
        ]
        members.reserveCapacity(3 + fields.count)
        for (key, value) in fields { members.append((key: key, value: value)) }
        var line = Array(JSONValue.object(JSONObject(members: members)).serialized().utf8)
        line.append(UInt8(ascii: "\n"))
        return line
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
    unowned let loop: EventLoop
    private var pending: [UInt8] = []
    /// Where `pending` goes (a loop may serve more than one log, in tests).
    private var sink: LogSink?
    private var scheduled = false

    init(loop: EventLoop) {
        self.loop = loop
    }

    func append(_ line: [UInt8], to sink: LogSink) {
        if !pending.isEmpty, sink !== self.sink || pending.count + line.count > LogSink.atomicWrite { flush() }
        self.sink = sink
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
        guard !pending.isEmpty, let sink else { return }
        sink.write(pending)
        pending.removeAll(keepingCapacity: true)
    }
}
