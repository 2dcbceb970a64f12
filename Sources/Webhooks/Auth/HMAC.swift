import Foundation

/// HMAC-SHA256 (RFC 2104, FIPS 198-1) over our own `SHA256`: what GitHub, GitLab, PagerDuty and
/// Standard Webhooks sign their deliveries with. Checked against RFC 4231's test vectors.
enum HMAC {
    private static let blockSize = 64

    static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var block = key.count > blockSize ? SHA256.hash(key) : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        var inner = block.map { $0 ^ 0x36 }
        inner += message
        var outer = block.map { $0 ^ 0x5c }
        outer += SHA256.hash(inner)
        return SHA256.hash(outer)
    }

    /// Compares two byte strings in time that depends only on their lengths, never on where
    /// they differ.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}
