import Foundation
import Postgres

/// One journaled request as `lakehook events` and `GET …/connections/:id/events` show it: every
/// column of `webhook_events`, and the connection's name.
struct JournalEvent: Sendable {
    var id: Int64
    var receivedAt: Timestamp
    var connectionId: Int64
    /// Nil when the connection was deleted since.
    var connectionName: String?
    /// As the journal names it: `deployments`, `issue/:issueKey/close`.
    var route: String
    var params: [(name: String, value: String)]
    var requestId: String
    var clientAddress: String
    var userAgent: String
    var contentType: String
    /// The body when it was JSON that jsonb takes; else `bodyText`; both nil for none (or when
    /// the listing left bodies out).
    var body: JSONValue?
    var bodyText: String?
    var status: Int
    var message: String
    var causes: [String]?
    var durationMicroseconds: Int64
    var idempotencyKey: String?
    /// applied, stale, duplicate, refused.
    var outcome: String

    /// A row of `EventQuery.events`.
    init(row: PostgresRow) throws {
        func required(_ column: String) throws -> String {
            guard let value = row[column] else { throw PostgresDecodingError(message: "webhook_events row without \(column)") }
            return value
        }
        func integer(_ column: String) throws -> Int64 {
            guard let value = Int64(try required(column)) else { throw PostgresDecodingError(message: "webhook_events.\(column) is not a number") }
            return value
        }
        guard let receivedAt = TimestampParser.parse(try required("received_at")) else {
            throw PostgresDecodingError(message: "webhook_events.received_at is not a timestamp")
        }
        id = try integer("id")
        self.receivedAt = receivedAt
        connectionId = try integer("connection_id")
        connectionName = row["connection_name"]
        route = try required("route")
        if case .object(let object)? = try? JSONParser.parse(Array(try required("params").utf8)) {
            params = object.members.map { member in
                if case .string(let text) = member.value { return (member.key, text) }
                return (member.key, member.value.serialized())
            }
        } else {
            params = []
        }
        requestId = row["request_id"] ?? ""
        clientAddress = row["client_address"] ?? ""
        userAgent = row["user_agent"] ?? ""
        contentType = row["content_type"] ?? ""
        bodyText = row["body_text"]
        if let json = row["body"] {
            // jsonb's text is JSON; were it not, it is still shown, as text.
            if let value = try? JSONParser.parse(Array(json.utf8)) { body = value } else { bodyText = json }
        }
        status = Int(try integer("status"))
        message = row["message"] ?? ""
        if let text = row["causes"], case .array(let items)? = try? JSONParser.parse(Array(text.utf8)) {
            causes = items.map { if case .string(let cause) = $0 { cause } else { $0.serialized() } }
        }
        durationMicroseconds = try integer("duration_us")
        idempotencyKey = row["idempotency_key"]
        outcome = try required("outcome")
    }

    /// What `--json` prints (one line each) and the events route answers: every column.
    var json: JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return [
            "id": .integer(id),
            "receivedAt": .string(receivedAt.iso8601),
            "connectionId": .integer(connectionId),
            "connectionName": text(connectionName),
            "route": .string(route),
            "params": .object(JSONObject(members: params.map { (key: $0.name, value: .string($0.value)) })),
            "requestId": .string(requestId),
            "clientAddress": .string(clientAddress),
            "userAgent": .string(userAgent),
            "contentType": .string(contentType),
            "body": body ?? .null,
            "bodyText": text(bodyText),
            "status": .integer(Int64(status)),
            "message": .string(message),
            "causes": causes.map { .array($0.map(JSONValue.string)) } ?? .null,
            "durationUs": .integer(durationMicroseconds),
            "idempotencyKey": text(idempotencyKey),
            "outcome": .string(outcome),
        ]
    }

    /// The route with its parameters in place: `issue/I-7/close`.
    var path: String {
        route.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            guard segment.hasPrefix(":"), let value = params.first(where: { $0.name == segment.dropFirst() })?.value else {
                return String(segment)
            }
            return value
        }.joined(separator: "/")
    }

    /// One line for a person: when (UTC, to the millisecond), which connection, route, status and
    /// outcome, how long, the request id and client, and a refusal's message and causes.
    ///
    ///     2026-05-04T09:12:01.250Z  conn 3 jenkins  deployments  400 refused  0.4 ms  req 4f1c…  client 10.1.2.3  the request body has invalid fields: startedDate: is required; finishedDate: is required
    var line: String {
        var fields = [
            Self.millisecondText(receivedAt),
            "conn \(connectionId)" + (connectionName.map { " " + $0 } ?? " (deleted)"),
            path,
            "\(status) \(outcome)",
            String(format: "%.1f ms", Double(durationMicroseconds) / 1_000),
            "req " + (requestId.isEmpty ? "-" : requestId),
            "client " + (clientAddress.isEmpty ? "-" : clientAddress),
        ]
        if outcome == "refused" || !message.isEmpty {
            let listed = causes ?? []
            fields.append(message + (listed.isEmpty ? "" : ": " + listed.joined(separator: "; ")))
        }
        return fields.map(Self.printable).joined(separator: "  ")
    }

    /// `2026-05-04T09:12:01.250Z`: always three fraction digits (truncated), so the lines align.
    static func millisecondText(_ instant: Timestamp) -> String {
        let text = instant.iso8601  // the fraction only when not zero, trailing zeros dropped
        guard let dot = text.firstIndex(of: ".") else { return String(text.dropLast()) + ".000Z" }
        let fraction = text[text.index(after: dot)...].dropLast()
        return String(text[..<dot]) + "." + String(fraction.prefix(3)).padding(toLength: 3, withPad: "0", startingAt: 0) + "Z"
    }

    /// `text` safe for a terminal: what a client sent may hold line breaks or escape sequences,
    /// which would forge lines or drive the terminal; control characters are shown as `\u{…}`.
    static func printable(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
