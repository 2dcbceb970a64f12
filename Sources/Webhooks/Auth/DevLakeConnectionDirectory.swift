import Foundation
import Postgres
import Concurrency

/// Finds the connection a request names and checks its key, remembering connections for a few
/// seconds so that most requests cost no extra round trip.
///
/// A rotated or revoked key stops working on every instance within `ttl` (API.md §2 asks for at
/// most 5 s); on the instance that rotated it, at once (`forget`).
public final class DevLakeConnectionDirectory: Sendable {
    private struct Entry {
        var webhook: DevLakeConnection?
        var expires: ContinuousClock.Instant
    }

    private let store: DevLakeConnectionStore
    private let ttl: Duration
    private let entries = Locked<[DevLakeConnectionReference: Entry]>([:])
    private let clock = ContinuousClock()
    private static let maxEntries = 10_000

    public init(store: DevLakeConnectionStore, ttl: Duration = .seconds(4)) {
        self.store = store
        self.ttl = ttl
    }

    /// The connection the reference names, or nil when there is none.
    public func lookup(_ reference: DevLakeConnectionReference) throws -> DevLakeConnection? {
        let now = clock.now
        if let entry = cached(reference, at: now) {
            return entry.webhook
        }
        let webhook = try store.find(reference)
        entries.withLock { entries in
            if entries.count >= Self.maxEntries { entries.removeAll(keepingCapacity: true) }
            entries[reference] = Entry(webhook: webhook, expires: now + ttl)
        }
        return webhook
    }

    /// Authenticates a request to the connection it names (API.md §2): no credentials → 401;
    /// an unknown connection and a key that is not this connection's get the same 403, so a
    /// client without a key learns nothing about which connections exist (docs/API-DECISIONS.md,
    /// "Where Lakehook decides").
    public func authenticate(_ reference: DevLakeConnectionReference, authorization: String?) throws -> DevLakeConnection {
        let key = try Self.key(from: authorization)
        return try Self.check(key, against: lookup(reference), reference)
    }

    /// `authenticate` without the database: nil when the connection is not in the cache (the
    /// caller then authenticates blocking). Never blocks.
    func authenticateFromCache(_ reference: DevLakeConnectionReference, authorization: String?) throws -> DevLakeConnection? {
        let key = try Self.key(from: authorization)
        guard let entry = cached(reference, at: clock.now) else { return nil }
        return try Self.check(key, against: entry.webhook, reference)
    }

    /// The entry for `reference` if it has not expired at `now`.
    private func cached(_ reference: DevLakeConnectionReference, at now: ContinuousClock.Instant) -> Entry? {
        guard let entry = entries.withLock({ $0[reference] }), entry.expires > now else { return nil }
        return entry
    }

    private static func key(from authorization: String?) throws -> String {
        guard let key = Credentials.key(fromAuthorization: authorization) else {
            throw WebhookError(
                status: 401, message: "missing API key: send Authorization: Bearer <key>",
                headers: ["WWW-Authenticate": "Bearer realm=\"lakehook\""])
        }
        return key
    }

    private static func check(
        _ key: String, against webhook: DevLakeConnection?, _ reference: DevLakeConnectionReference
    ) throws -> DevLakeConnection {
        // The key is hashed and compared in both cases, so the time taken tells nothing either.
        let matches = APIKey.constantTimeEquals(APIKey.hash(of: key), webhook?.apiKeyHash ?? Self.noConnectionHash)
        guard let webhook, matches else { throw Self.keyRefused }
        return webhook
    }

    /// The one answer to a wrong key and to a connection that does not exist.
    static let keyRefused = WebhookError(status: 403, message: "the API key does not open this connection")

    /// Compared against when the connection does not exist; no key hashes to it.
    private static let noConnectionHash = String(repeating: "-", count: 64)

    /// Drops what this instance remembers, so a change made here applies at once.
    public func forget() {
        entries.withLock { $0.removeAll() }
    }
}
