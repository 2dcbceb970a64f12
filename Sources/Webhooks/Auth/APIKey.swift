import Foundation

/// A connection's API key: 256 random bits, shown once, stored only as its SHA-256.
///
/// A plain (fast) hash is right here: the key is random and long, so there is nothing for a
/// slow password hash to protect against, and every request verifies one.
public struct APIKey: Sendable {
    public static let prefix = "lhk_"
    public let plaintext: String

    public init(plaintext: String) { self.plaintext = plaintext }

    /// A fresh key from the system's cryptographic generator (getrandom on Linux).
    public static func generate() -> APIKey {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return APIKey(plaintext: prefix + base64URL(bytes))
    }

    /// Hex SHA-256 of the key: the only form the database holds.
    public var hash: String { APIKey.hash(of: plaintext) }

    /// The first characters, to tell keys apart in listings; never enough to guess the rest.
    public var hint: String { String(plaintext.prefix(APIKey.prefix.count + 4)) }

    public static func hash(of key: String) -> String { SHA256.hex(Array(key.utf8)) }

    /// Compares two hashes in time that does not depend on where they differ.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// The credentials a request carries (API.md §2): `Authorization: Bearer <key>`, or HTTP Basic
/// with the key as the password and any user name.
public enum Credentials {
    /// nil when the request has no usable credentials (→ 401).
    public static func key(fromAuthorization header: String?) -> String? {
        guard let header = header?.trimmingBlanks, !header.isEmpty else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        let scheme = parts[0].lowercased()
        let value = parts[1].trimmingBlanks
        switch scheme {
        case "bearer":
            return value.isEmpty ? nil : value
        case "basic":
            guard let data = Data(base64Encoded: value), let decoded = String(data: data, encoding: .utf8),
                let colon = decoded.firstIndex(of: ":")
            else { return nil }
            let password = String(decoded[decoded.index(after: colon)...])
            return password.isEmpty ? nil : password
        default:
            return nil
        }
    }

}
