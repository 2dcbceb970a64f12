import HTTP

/// One ingest request as the journal keeps it (`webhook_events`, migration 0009): who sent what,
/// when, to which route. Its outcome is added where it is written: by the request's own
/// statement when it is accepted (`IngestStatement.journaled`), on its own when it is refused.
struct JournalEntry: Sendable {
    /// When the request came in: also "now" for every write it makes (a replay passes the
    /// original arrival, and so writes the same rows).
    var receivedAt: Timestamp
    var connectionId: Int64
    /// The route below the connection, as its pattern (`deployments`, `issue/:issueKey/close`).
    var route: String
    /// The path parameters below the connection.
    var params: [String: String]
    var requestId: String
    var clientAddress: String
    var userAgent: String
    var contentType: String
    var body: [UInt8]
    var idempotencyKey: String?
    /// When handling started, for `duration_us`.
    var started: ContinuousClock.Instant

    /// The columns every journal row has, in the order of `binds`.
    static let columns = """
        received_at, connection_id, route, params, request_id, client_address, user_agent, content_type,
        body, body_text, idempotency_key, duration_us
        """
    static let columnCount = 12

    /// `$first…$(first+11)` cast to the columns' types, in the order of `columns`.
    static func placeholders(from first: Int) -> String {
        let casts = ["timestamptz", "bigint", "varchar", "jsonb", "varchar", "varchar", "text", "text", "jsonb", "text", "varchar", "bigint"]
        return casts.enumerated().map { "$\(first + $0.offset)::\($0.element)" }.joined(separator: ", ")
    }

    /// The values of `columns`, as text parameters.
    var binds: [String?] {
        let stored = JournalBody(body)
        let micros = (ContinuousClock.now - started) / .microseconds(1)
        return [
            receivedAt.postgresText, String(connectionId), Self.clean(route, 64),
            JSONValue.object(JSONObject(members: params.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })).serialized(),
            Self.clean(requestId, 128), Self.clean(clientAddress, 64), Self.clean(userAgent, 1024), Self.clean(contentType, 256),
            stored.json, stored.text, idempotencyKey.map { Self.clean($0, 255) }, String(Int64(micros.rounded())),
        ]
    }

    /// Text a PostgreSQL column takes: no NUL (which no text value can hold), at most `limit`
    /// characters (headers are bounded by the HTTP layer, but not to these widths).
    static func clean(_ text: String, _ limit: Int) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars.prefix(limit) { scalars.append(scalar == "\0" ? "\u{FFFD}" : scalar) }
        return String(scalars)
    }

    /// A row of its own, after `binds`: its status, message, causes and outcome (`with`).
    static let insertSQL = """
        INSERT INTO webhook_events (\(columns), status, message, causes, outcome)
        VALUES (\(placeholders(from: 1)), $13::smallint, $14::text, $15::jsonb, $16::varchar)
        """

    /// The parameters of `insertSQL`: a refusal, with its status and causes.
    func binds(refusedWith error: WebhookError) -> [String?] {
        let causes = JSONValue.array(error.causes.map { .string(Self.clean($0, 4096)) }).serialized()
        return binds + [String(error.status), Self.clean(error.message, 4096), causes, "refused"]
    }

    /// The parameters of `insertSQL`: a 200 (`applied`, `stale` or `duplicate`).
    func binds(answered outcome: String) -> [String?] {
        binds + ["200", "", nil, outcome]
    }
}

/// How a body is kept: as `jsonb` when it is JSON that PostgreSQL takes, else as text.
///
/// PostgreSQL's jsonb refuses some JSON that Lakehook's parser takes: `\u0000` in a string, a
/// lone surrogate (`\ud800`), a number whose exponent is beyond numeric's range. Those, and
/// anything that is not JSON, are kept as text (invalid UTF-8 and NUL bytes replaced), so that
/// keeping a body never fails the request it belongs to.
struct JournalBody {
    var json: String?
    var text: String?

    init(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let string = String(decoding: bytes, as: UTF8.self)
        if Self.jsonbTakes(bytes), (try? JSONParser.parse(bytes)) != nil {
            json = string
        } else {
            text = JournalEntry.clean(string, Int.max)
        }
    }

    /// False when the bytes hold something jsonb refuses (see the type): scans strings for
    /// `\u0000` and surrogate escapes, and numbers for exponents of five digits or more.
    static func jsonbTakes(_ bytes: [UInt8]) -> Bool {
        var index = 0
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\"") {
                    inString = false
                } else if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                    if bytes[index + 1] == UInt8(ascii: "u"), index + 5 < bytes.count {
                        let hex = bytes[(index + 2)...(index + 5)].map { Character(Unicode.Scalar($0)) }
                        if let value = UInt32(String(hex), radix: 16), value == 0 || (0xD800...0xDFFF).contains(value) { return false }
                    }
                    index += 1
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                var digits = index + 1
                if digits < bytes.count, bytes[digits] == UInt8(ascii: "+") || bytes[digits] == UInt8(ascii: "-") { digits += 1 }
                while digits < bytes.count, bytes[digits] == UInt8(ascii: "0") { digits += 1 }
                var significant = 0
                while digits < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[digits]) {
                    significant += 1
                    digits += 1
                }
                if significant >= 5 { return false }
            }
            index += 1
        }
        return true
    }
}
