#if canImport(Glibc)
import Glibc
#endif

/// The addresses allowed to say who the client is (`LAKEHOOK_TRUSTED_PROXIES`: comma-separated
/// IPs or CIDR blocks, IPv4 or IPv6). `X-Forwarded-For` is believed only from them.
public struct TrustedProxies: Sendable, Equatable {
    struct Block: Sendable, Equatable {
        var address: [UInt8]
        var prefixLength: Int

        func contains(_ bytes: [UInt8]) -> Bool {
            guard bytes.count == address.count else { return false }
            var remaining = prefixLength
            for i in 0..<bytes.count where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if bytes[i] & mask != address[i] & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    var blocks: [Block]

    public static let none = TrustedProxies(blocks: [])

    public struct ParseProblem: Error, Equatable { public var message: String }

    /// Parses the variable's value; the failure names what is wrong.
    public static func parse(_ text: String) -> Result<TrustedProxies, ParseProblem> {
        var blocks: [Block] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "/", maxSplits: 1).map(String.init)
            guard let bytes = bytes(of: parts[0]) else { return .failure(ParseProblem(message: "\(item) is not an IP address or CIDR block")) }
            let maxLength = bytes.count * 8
            var length = maxLength
            if parts.count == 2 {
                guard let parsed = Int(parts[1]), (0...maxLength).contains(parsed) else {
                    return .failure(ParseProblem(message: "\(item) has a bad prefix length"))
                }
                length = parsed
            }
            blocks.append(Block(address: bytes, prefixLength: length))
        }
        return .success(TrustedProxies(blocks: blocks))
    }

    public func isTrusted(_ address: String) -> Bool {
        guard !blocks.isEmpty, let bytes = Self.bytes(of: address) else { return false }
        return blocks.contains { $0.contains(bytes) }
    }

    /// The client a request came from: the peer, or — when the peer is a trusted proxy — the
    /// rightmost address in `X-Forwarded-For` that is not itself a trusted proxy.
    public func clientAddress(peer: String, forwardedFor: [String]) -> String {
        let peerHost = Self.host(of: peer)
        guard isTrusted(peerHost) else { return peerHost }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map(\.trimmingBlanks)
        for hop in hops.reversed() {
            guard Self.bytes(of: hop) != nil else { return peerHost }  // garbage: trust nothing further
            if !isTrusted(hop) { return hop }
        }
        return hops.first ?? peerHost
    }

    /// "127.0.0.1:5000" → "127.0.0.1"; "[::1]:5000" → "::1"; "[::ffff:1.2.3.4]:5" → "1.2.3.4".
    static func host(of peer: String) -> String {
        var host = peer
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            host = String(host[..<colon])
        }
        if host.utf8.first == UInt8(ascii: ":"), host.lowercased().hasPrefix("::ffff:"), host.contains(".") {
            host = String(host.dropFirst(7))
        }
        return host
    }

    static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            // An IPv4-mapped IPv6 address is its IPv4 address.
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
            return bytes
        }
        return nil
    }
}
