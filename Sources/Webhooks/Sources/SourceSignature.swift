import Foundation
import HTTP

/// Checks a source's signature over the raw body, before the body is parsed (issue 17). Every
/// comparison is constant-time; any of `secrets` (the current one, and the previous one during a
/// rotation's grace) may have signed. A bad or missing signature is a 401 with the reason.
enum SourceSignature {
    /// Standard Webhooks: a timestamp further than this from now, either way, is refused.
    static let tolerance: Int64 = 300

    static func verify(
        _ kind: SourceKind, headers: HTTPHeaders, body: [UInt8], secrets: [String], now: Int64
    ) throws(WebhookError) {
        guard !secrets.isEmpty else {
            throw WebhookError(status: 403, message: "this connection has no signing secret; run lakehook connections rotate-secret")
        }
        switch kind {
        case .devlake:
            throw WebhookError(status: 403, message: "a devlake connection takes DevLake's API, not a source's webhooks")
        case .github:
            try github(headers, body, secrets)
        case .gitlab:
            try gitlab(headers, body, secrets, now: now)
        case .pagerduty:
            try pagerDuty(headers, body, secrets)
        case .cdevents:
            try standardWebhooks(headers, body, secrets, now: now)
        }
    }

    static func refused(_ reason: String) -> WebhookError {
        WebhookError(status: 401, message: reason, headers: ["WWW-Authenticate": "Signature realm=\"lakehook\""])
    }

    /// `X-Hub-Signature-256: sha256=<hex HMAC of the body>`.
    static func github(_ headers: HTTPHeaders, _ body: [UInt8], _ secrets: [String]) throws(WebhookError) {
        guard let header = headers[first: "X-Hub-Signature-256"]?.trimmingBlanks, !header.isEmpty else {
            throw refused("missing X-Hub-Signature-256: set the webhook's Secret in GitHub to this connection's signing secret")
        }
        guard header.hasPrefix("sha256=") else { throw refused("X-Hub-Signature-256 must be sha256=<hex>") }
        let given = Array(header.dropFirst(7).lowercased().utf8)
        var matched = false
        for secret in secrets {
            let expected = Array(HMAC.hex(HMAC.sha256(key: Array(secret.utf8), message: body)).utf8)
            if HMAC.constantTimeEquals(given, expected) { matched = true }
        }
        guard matched else { throw refused("X-Hub-Signature-256 does not match the body signed with this connection's secret") }
    }

    /// `X-Gitlab-Token` equal to the secret; when GitLab's signing token is set, the Standard
    /// Webhooks headers it sends instead (`webhook-signature` present).
    static func gitlab(_ headers: HTTPHeaders, _ body: [UInt8], _ secrets: [String], now: Int64) throws(WebhookError) {
        if headers[first: "webhook-signature"] != nil {
            try standardWebhooks(headers, body, secrets, now: now)
            return
        }
        guard let token = headers[first: "X-Gitlab-Token"], !token.isEmpty else {
            throw refused("missing X-Gitlab-Token (or webhook-signature): set the webhook's Secret token in GitLab to this connection's signing secret")
        }
        var matched = false
        for secret in secrets where HMAC.constantTimeEquals(Array(token.utf8), Array(secret.utf8)) { matched = true }
        guard matched else { throw refused("X-Gitlab-Token is not this connection's signing secret") }
    }

    /// `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`: any listed signature may match.
    static func pagerDuty(_ headers: HTTPHeaders, _ body: [UInt8], _ secrets: [String]) throws(WebhookError) {
        guard let header = headers[first: "X-PagerDuty-Signature"], !header.isEmpty else {
            throw refused("missing X-PagerDuty-Signature")
        }
        let given = header.split(separator: ",").map { $0.trimmingBlanks }.filter { $0.hasPrefix("v1=") }
            .map { Array($0.dropFirst(3).lowercased().utf8) }
        guard !given.isEmpty else { throw refused("X-PagerDuty-Signature has no v1=<hex> signature") }
        var matched = false
        for secret in secrets {
            let expected = Array(HMAC.hex(HMAC.sha256(key: Array(secret.utf8), message: body)).utf8)
            for signature in given where HMAC.constantTimeEquals(signature, expected) { matched = true }
        }
        guard matched else { throw refused("no X-PagerDuty-Signature matches the body signed with this connection's secret") }
    }

    /// Standard Webhooks: `webhook-id`, `webhook-timestamp` (within `tolerance` of now),
    /// `webhook-signature: v1,<base64 HMAC of "{id}.{timestamp}.{body}">` (several space-separated
    /// allowed); the key is the secret after `whsec_`, base64-decoded.
    static func standardWebhooks(_ headers: HTTPHeaders, _ body: [UInt8], _ secrets: [String], now: Int64) throws(WebhookError) {
        guard let id = headers[first: "webhook-id"], !id.isEmpty,
              let timestampText = headers[first: "webhook-timestamp"],
              let signatures = headers[first: "webhook-signature"], !signatures.isEmpty
        else {
            throw refused("missing Standard Webhooks headers: webhook-id, webhook-timestamp and webhook-signature are required")
        }
        guard let timestamp = Int64(timestampText.trimmingBlanks) else { throw refused("webhook-timestamp must be whole seconds since the epoch") }
        if timestamp < now - tolerance { throw refused("webhook-timestamp is more than 5 minutes old") }
        if timestamp > now + tolerance { throw refused("webhook-timestamp is more than 5 minutes in the future") }
        let given = signatures.split(separator: " ").filter { $0.hasPrefix("v1,") }.map { Array($0.dropFirst(3).utf8) }
        guard !given.isEmpty else { throw refused("webhook-signature has no v1,<base64> signature") }
        let signed = Array("\(id).\(timestamp).".utf8) + body
        var matched = false
        for secret in secrets {
            let expected = Array(HMAC.base64(HMAC.sha256(key: standardWebhooksKey(secret), message: signed)).utf8)
            for signature in given where HMAC.constantTimeEquals(signature, expected) { matched = true }
        }
        guard matched else { throw refused("no webhook-signature matches the body signed with this connection's secret") }
    }

    /// The HMAC key of a Standard Webhooks secret: the base64 after `whsec_`; a secret that is not
    /// in that form is used as its bytes.
    static func standardWebhooksKey(_ secret: String) -> [UInt8] {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        if let data = Data(base64Encoded: encoded) { return Array(data) }
        return Array(secret.utf8)
    }

    /// The signature header a Standard Webhooks sender would send (tests, docs).
    static func standardWebhooksSignature(secret: String, id: String, timestamp: Int64, body: [UInt8]) -> String {
        "v1," + HMAC.base64(HMAC.sha256(key: standardWebhooksKey(secret), message: Array("\(id).\(timestamp).".utf8) + body))
    }
}

/// A fresh signing secret for a source, in the form its sender's settings take: Standard
/// Webhooks' `whsec_<base64>` for GitLab and CDEvents, 64 hex digits for GitHub and PagerDuty.
enum SourceSecret {
    static func generate(for kind: SourceKind) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        switch kind {
        case .gitlab, .cdevents: return "whsec_" + HMAC.base64(bytes)
        case .github, .pagerduty, .devlake: return HMAC.hex(bytes)
        }
    }
}
