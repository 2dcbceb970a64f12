import Foundation
import HTTP
import Testing
@testable import Webhooks

/// The vendors' payloads of Fixtures/Sources (each folder's README cites where they come from),
/// and what every mapping test needs to map one.
enum SourceFixture {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/Sources")

    static func load(_ path: String) throws -> JSONObject {
        let data = try Data(contentsOf: folder.appendingPathComponent(path))
        return try #require(try JSONParser.parse(Array(data)).objectValue, "\(path) is not a JSON object")
    }

    static let arrival = Timestamp.native("2026-12-04T12:00:00Z")!
    static let connection = DevLakeConnection(id: 7, name: "sources", apiKeyHash: "", apiKeyHint: "")

    static func event(_ body: JSONObject, _ headers: [(String, String)] = []) -> SourceEvent {
        event(body, headers: HTTPHeaders(headers))
    }

    static func event(_ body: JSONObject, headers: HTTPHeaders) -> SourceEvent {
        SourceEvent(headers: headers, body: body, arrival: arrival)
    }

    static func writes(_ outcome: SourceOutcome) throws -> [any IngestOperation] {
        guard case .write(let operations) = outcome else {
            Issue.record("expected writes, got \(outcome)")
            throw CancellationError()
        }
        return operations
    }

    static func ignored(_ outcome: SourceOutcome) -> String? { outcome.ignoredReason }

    /// The one operation of `outcome`, as `T`.
    static func only<T>(_ outcome: SourceOutcome, as type: T.Type) throws -> T {
        let operations = try writes(outcome)
        #expect(operations.count == 1)
        return try #require(operations.first as? T)
    }
}

extension SourceOutcome {
    var operations: [any IngestOperation] {
        if case .write(let operations) = self { return operations }
        return []
    }

    var ignoredReason: String? {
        if case .ignored(let reason) = self { return reason }
        return nil
    }
}

extension JSONObject {
    /// The object with the value at a dotted path replaced or added (nil: removed); a test's
    /// variant of a vendor payload says in its name which fields it changes.
    func setting(_ path: String, _ value: JSONValue?) -> JSONObject {
        let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
        var copy = self
        let inner: JSONValue?
        if parts.count == 2 {
            inner = .object((self[parts[0]]?.objectValue ?? JSONObject()).setting(parts[1], value))
        } else {
            inner = value
        }
        if let index = copy.members.lastIndex(where: { $0.key == parts[0] }) {
            if let inner { copy.members[index].value = inner } else { copy.members.remove(at: index) }
        } else if let inner {
            copy.members.append((key: parts[0], value: inner))
        }
        return copy
    }
}

extension Timestamp {
    static func at(_ text: String) -> Timestamp { TimestampParser.parse(text)! }
}
