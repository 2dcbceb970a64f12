import HTTP
import Postgres

/// `Idempotency-Key` (IETF draft "The Idempotency-Key HTTP Header Field") or Standard Webhooks'
/// `webhook-id`: a request carrying the same key on the same connection within 24 hours gets the
/// first answer again, and writes nothing.
///
/// The key is claimed in the transaction that writes the rows (`webhook_idempotency_keys`,
/// migration 0009), so it is stored exactly when they are committed, and it holds across
/// instances: the transaction first takes a transaction-scoped advisory lock on the key, so a
/// second request while the first is in flight — here or on another instance — is a 409; after
/// the first commits, the second finds its answer. Only a `200` is kept: a refused request
/// stores no key, so a client may correct the body and send it again under the same key.
enum Idempotency {
    static let lockSQL = "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))"
    static let findSQL = """
        SELECT request_sha256, answer FROM webhook_idempotency_keys
        WHERE connection_id = $1 AND idempotency_key = $2 AND created_at > now() - interval '24 hours'
        """
    static let storeSQL = """
        INSERT INTO webhook_idempotency_keys (connection_id, idempotency_key, request_sha256, status, answer, created_at)
        VALUES ($1, $2, $3, 200, $4, now())
        ON CONFLICT (connection_id, idempotency_key) DO UPDATE SET
            request_sha256 = EXCLUDED.request_sha256, status = EXCLUDED.status, answer = EXCLUDED.answer,
            created_at = EXCLUDED.created_at
        """

    /// The key a request carries: `Idempotency-Key`, else `webhook-id`; nil when neither. A key
    /// must be 1–255 visible ASCII characters (the draft's sf-string), else the request is a 400.
    static func key(in headers: HTTPHeaders) throws(WebhookError) -> String? {
        guard var key = headers[first: "Idempotency-Key"] ?? headers[first: "webhook-id"] else { return nil }
        // The draft sends it as a structured-field string: `"8e03978e-40d5-43e8-bc93-6894a57f9324"`.
        if key.utf8.count >= 2, key.hasPrefix("\""), key.hasSuffix("\"") { key = String(key.dropFirst().dropLast()) }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw WebhookError.badRequest("the Idempotency-Key header must be 1 to 255 visible ASCII characters")
        }
        return key
    }

    /// What makes two requests "the same" under one key: route, path parameters and body.
    static func fingerprint(_ entry: JournalEntry) -> String {
        var bytes = Array(entry.route.utf8)
        for (name, value) in entry.params.sorted(by: { $0.key < $1.key }) {
            bytes += [0] + Array(name.utf8) + [0] + Array(value.utf8)
        }
        bytes += [0, 0] + entry.body
        return SHA256.hex(bytes)
    }

    /// Runs `operation` for `entry` (which carries the key) in one transaction on `db`: the
    /// write, its journal row and the key; or the first answer and a `duplicate` journal row.
    static func run(
        _ operation: any IngestOperation, for webhook: DevLakeConnection, entry: JournalEntry, key: String,
        journaling: Bool, on db: PostgresConnection
    ) throws -> IngestOutcome {
        let fingerprint = fingerprint(entry)
        return try db.transaction { db in
            let lockName = "lakehook-idempotency:\(webhook.id):\(key)"
            guard try db.query(lockSQL, [lockName]).rows.first?[0] == "t" else {
                throw WebhookError(
                    status: 409, message: "a request with this Idempotency-Key is still being processed; retry when it has its answer",
                    headers: ["Retry-After": "1"])
            }
            let id = String(webhook.id)
            if let seen = try db.query(findSQL, [id, key]).rows.first {
                guard seen["request_sha256"] == fingerprint else {
                    throw WebhookError(
                        status: 422,
                        message: "this Idempotency-Key was used in the last 24 hours for a different request (route, parameters or body)")
                }
                if journaling { _ = try db.query(JournalEntry.insertSQL, entry.binds(answered: "duplicate")) }
                let data = (try? JSONParser.parse(Array((seen["answer"] ?? "null").utf8))) ?? .null
                return .replayed(data)
            }
            let result = try operation.write(db, for: webhook, journal: journaling ? entry : nil)
            _ = try db.query(storeSQL, [id, key, fingerprint, result.data.serialized()])
            return .written(result)
        }
    }
}
