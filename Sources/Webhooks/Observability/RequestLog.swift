import Foundation
import Synchronization

/// Structured logs: one JSON object per line, to stderr. Payloads and keys never reach it.
public struct RequestLog: Sendable {
    public let level: Configuration.LogLevel
    private static let lock = Mutex(())

    public init(level: Configuration.LogLevel) { self.level = level }

    public func log(_ level: Configuration.LogLevel, _ message: String, _ fields: [(String, JSONValue)] = []) {
        guard level >= self.level else { return }
        var members: [(key: String, value: JSONValue)] = [
            (key: "time", value: .string(Timestamp.now().iso8601)),
            (key: "level", value: .string(level.rawValue)),
            (key: "msg", value: .string(message)),
        ]
        members += fields.map { (key: $0.0, value: $0.1) }
        let line = JSONValue.object(JSONObject(members: members)).serialized() + "\n"
        Self.lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }
}
