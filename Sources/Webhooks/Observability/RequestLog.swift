#if canImport(Glibc)
import Glibc
#endif

/// Structured logs: one JSON object per line, to stderr (a `LogSink`). Payloads and keys never
/// reach it.
///
/// A thread that gathers its lines (`batching`: on an event loop, the lines of one loop turn,
/// written after it, up to PIPE_BUF bytes per write) takes them; elsewhere each line is written
/// at once. The sink keeps lines whole and in order, and never makes a writer wait for a reader
/// that is behind.
public struct RequestLog: Sendable {
    public let level: Configuration.LogLevel
    public let sink: LogSink
    /// Where lines are gathered before they are written; nil writes each at once.
    let batching: (any LogBatching)?

    public init(level: Configuration.LogLevel, sink: LogSink = .standardError) {
        self.init(level: level, sink: sink, batching: LoopLogBatching())
    }

    init(level: Configuration.LogLevel, sink: LogSink, batching: (any LogBatching)?) {
        self.level = level
        self.sink = sink
        self.batching = batching
    }

    /// Whether a line at `level` is written; callers check it before building costly fields.
    public func isEnabled(_ level: Configuration.LogLevel) -> Bool { level >= self.level }

    public func log(_ level: Configuration.LogLevel, _ message: String, _ fields: [(String, JSONValue)] = []) {
        guard isEnabled(level) else { return }
        let line = Self.line(level, message, fields)
        if batching?.gather(line, for: sink) != true {
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

/// A way to gather log lines on the thread that writes them and write them together later.
protocol LogBatching: Sendable {
    /// Takes `line`, bound for `sink`, when this thread gathers lines (true); false: the caller
    /// writes it now.
    func gather(_ line: [UInt8], for sink: LogSink) -> Bool
}
