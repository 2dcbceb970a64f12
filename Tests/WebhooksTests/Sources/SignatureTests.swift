import Foundation
import HTTP
import Testing
@testable import Webhooks

@Suite("HMAC-SHA256 and the sources' signature rules")
struct SignatureTests {
    static func hexBytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static func headers(_ pairs: [(String, String)]) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in pairs { headers.add(name: name, value: value) }
        return headers
    }

    @Test("HMAC-SHA256 gives RFC 4231's test vectors (cases 1-4, 6, 7)")
    func rfc4231() {
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (Array(1...25), [UInt8](repeating: 0xcd, count: 50),
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ([UInt8](repeating: 0xaa, count: 131),
             Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
        for (number, test) in cases.enumerated() {
            #expect(HMAC.hex(HMAC.sha256(key: test.key, message: test.data)) == test.mac, "case \(number)")
        }
    }

    @Test("constant-time comparison tells equal from different and different lengths")
    func constantTime() {
        #expect(HMAC.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!HMAC.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!HMAC.constantTimeEquals([1, 2, 3], [1, 2]))
    }

    // GitHub's documented test values ("Validating webhook deliveries").
    static let githubSecret = "It's a Secret to Everybody"
    static let githubBody = Array("Hello, World!".utf8)
    static let githubSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

    @Test("GitHub: the documented signature passes; another body, another secret or no header is a 401")
    func github() throws {
        let good = Self.headers([("X-Hub-Signature-256", Self.githubSignature)])
        try SourceSignature.verify(.github, headers: good, body: Self.githubBody, secrets: [Self.githubSecret], now: 0)
        // During a rotation's grace, the old secret still opens.
        try SourceSignature.verify(.github, headers: good, body: Self.githubBody, secrets: ["new", Self.githubSecret], now: 0)
        for (headers, body, secret) in [
            (good, Array("Hello, World?".utf8), Self.githubSecret),
            (good, Self.githubBody, "another secret"),
            (Self.headers([]), Self.githubBody, Self.githubSecret),
            (Self.headers([("X-Hub-Signature-256", "sha1=757107ea")]), Self.githubBody, Self.githubSecret),
        ] {
            #expect(throws: WebhookError.self) {
                try SourceSignature.verify(.github, headers: headers, body: body, secrets: [secret], now: 0)
            }
            do { try SourceSignature.verify(.github, headers: headers, body: body, secrets: [secret], now: 0) } catch {
                #expect(error.status == 401)
            }
        }
    }

    // Standard Webhooks' published test vector (standard-webhooks libraries' tests).
    static let swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let swId = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let swTimestamp: Int64 = 1_614_265_330
    static let swBody = Array(#"{"test": 2432232314}"#.utf8)
    static let swSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    static func swHeaders(signature: String = swSignature, timestamp: Int64 = swTimestamp) -> HTTPHeaders {
        headers([("webhook-id", swId), ("webhook-timestamp", String(timestamp)), ("webhook-signature", signature)])
    }

    @Test("Standard Webhooks (CDEvents): the published vector passes, also among several signatures")
    func standardWebhooksVector() throws {
        #expect(SourceSignature.standardWebhooksSignature(secret: Self.swSecret, id: Self.swId, timestamp: Self.swTimestamp, body: Self.swBody) == Self.swSignature)
        try SourceSignature.verify(.cdevents, headers: Self.swHeaders(), body: Self.swBody, secrets: [Self.swSecret], now: Self.swTimestamp)
        try SourceSignature.verify(
            .cdevents, headers: Self.swHeaders(signature: "v1,bm9wZQ== " + Self.swSignature), body: Self.swBody,
            secrets: [Self.swSecret], now: Self.swTimestamp + 299)
    }

    @Test("Standard Webhooks (CDEvents): a bad signature, a stale or future timestamp, missing headers are 401s")
    func standardWebhooksRefusals() {
        let cases: [(HTTPHeaders, [UInt8], Int64, String)] = [
            (Self.swHeaders(), Array(#"{"test": 2432232315}"#.utf8), Self.swTimestamp, "does not match"),
            (Self.swHeaders(signature: "v1,bm9wZQ=="), Self.swBody, Self.swTimestamp, "no webhook-signature matches"),
            (Self.swHeaders(), Self.swBody, Self.swTimestamp + 301, "old"),
            (Self.swHeaders(), Self.swBody, Self.swTimestamp - 301, "future"),
            (Self.headers([("webhook-id", Self.swId)]), Self.swBody, Self.swTimestamp, "missing"),
        ]
        for (headers, body, now, reason) in cases {
            do {
                try SourceSignature.verify(.cdevents, headers: headers, body: body, secrets: [Self.swSecret], now: now)
                Issue.record("accepted: \(reason)")
            } catch {
                #expect(error.status == 401, "\(reason)")
                if reason != "does not match" { #expect(error.message.contains(reason), "\(error.message)") }
            }
        }
    }

    @Test("GitLab: X-Gitlab-Token equal to the secret, or the signing token's Standard Webhooks headers")
    func gitlab() throws {
        try SourceSignature.verify(.gitlab, headers: Self.headers([("X-Gitlab-Token", Self.swSecret)]), body: [], secrets: [Self.swSecret], now: 0)
        try SourceSignature.verify(.gitlab, headers: Self.swHeaders(), body: Self.swBody, secrets: [Self.swSecret], now: Self.swTimestamp)
        for (headers, now) in [
            (Self.headers([("X-Gitlab-Token", "whsec_wrong")]), Self.swTimestamp),
            (Self.headers([]), Self.swTimestamp),
            (Self.swHeaders(), Self.swTimestamp + 600),
            (Self.swHeaders(signature: "v1,bm9wZQ=="), Self.swTimestamp),
        ] {
            do {
                try SourceSignature.verify(.gitlab, headers: headers, body: Self.swBody, secrets: [Self.swSecret], now: now)
                Issue.record("accepted")
            } catch {
                #expect(error.status == 401)
            }
        }
    }

    @Test("PagerDuty: any one of several v1= signatures may match; none matching or none sent is a 401")
    func pagerDuty() throws {
        let secret = "pd-secret"
        let body = Array(#"{"event":{"id":"01ABC","event_type":"incident.triggered"}}"#.utf8)
        let good = "v1=" + HMAC.hex(HMAC.sha256(key: Array(secret.utf8), message: body))
        let bad = "v1=" + String(repeating: "0", count: 64)
        try SourceSignature.verify(.pagerduty, headers: Self.headers([("X-PagerDuty-Signature", good)]), body: body, secrets: [secret], now: 0)
        try SourceSignature.verify(.pagerduty, headers: Self.headers([("X-PagerDuty-Signature", "\(bad),\(good)")]), body: body, secrets: [secret], now: 0)
        for header in [bad, "", "v0=abc"] {
            do {
                try SourceSignature.verify(.pagerduty, headers: Self.headers(header.isEmpty ? [] : [("X-PagerDuty-Signature", header)]), body: body, secrets: [secret], now: 0)
                Issue.record("accepted \(header)")
            } catch {
                #expect(error.status == 401)
            }
        }
    }

    @Test("a rotated secret is accepted until its grace ends, then only the new one")
    func rotationGrace() {
        var connection = DevLakeConnection(id: 1, name: "g", apiKeyHash: "", apiKeyHint: "")
        connection.source = .github
        connection.signingSecret = "new"
        connection.previousSecret = "old"
        connection.previousSecretExpires = 1000
        #expect(connection.acceptedSecrets(now: 999) == ["new", "old"])
        #expect(connection.acceptedSecrets(now: 1000) == ["new"])
    }

    @Test("generated secrets: whsec_ and 32 bytes for GitLab and CDEvents, 64 hex digits for GitHub and PagerDuty")
    func generatedSecrets() {
        for kind in [SourceKind.gitlab, .cdevents] {
            let secret = SourceSecret.generate(for: kind)
            #expect(secret.hasPrefix("whsec_"))
            #expect(SourceSignature.standardWebhooksKey(secret).count == 32)
        }
        for kind in [SourceKind.github, .pagerduty] {
            let secret = SourceSecret.generate(for: kind)
            #expect(secret.count == 64 && secret.allSatisfy(\.isHexDigit))
        }
        #expect(SourceGrace.seconds("24h") == 86_400)
        #expect(SourceGrace.seconds("90") == 90)
        #expect(SourceGrace.seconds("x") == nil)
    }
}
