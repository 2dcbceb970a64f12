import HTTP

/// Issue 17: tools that emit their own signed webhooks post straight to Lakehook, under
/// `{prefix}/sources/<kind>/:connectionId`; each event is mapped into the same operations the
/// DevLake webhook API runs (`IssueUpsert`, `IssueClose`, `TaskUpsert`, `PipelineFinish`,
/// `DeploymentUpsert`, `PullRequestUpsert`), so DORA, the journal and every view work unchanged.
///
/// This file is the contract between the route (signature check, journal, execution) and the
/// mappings (one per sender, pure functions of the event).

/// The senders Lakehook understands natively. `devlake` is today's connection: DevLake's JSON
/// under an API key.
public enum SourceKind: String, Sendable, CaseIterable {
    case devlake, github, gitlab, pagerduty, cdevents
}

/// A signed event whose signature has been checked, as its mapping sees it.
struct SourceEvent: Sendable {
    /// The request's headers (`X-GitHub-Event`, `X-Gitlab-Event`, `ce-type`, …).
    var headers: HTTPHeaders
    /// The body, parsed (every sender here posts a JSON object).
    var body: JSONObject
    /// When the request came in: "now" for whatever the write dates itself.
    var arrival: Timestamp
}

/// A connection's settings for its source's mappings.
struct SourceOptions: Sendable, Equatable {
    /// Environment names this connection maps itself, lower-cased name → PRODUCTION, STAGING,
    /// TESTING or DEVELOPMENT; consulted before the built-in names (`production`, `prod`, …).
    var environments: [String: String] = [:]
    /// GitHub: the label that makes an issue an incident.
    var incidentLabel = "incident"
}

/// What one native event becomes.
enum SourceOutcome: Sendable {
    /// These writes, in this order, in one transaction (one alone may go through the pipeline).
    case write([any IngestOperation])
    /// An event type (or action) Lakehook does not map: 202, journaled `ignored` with this
    /// reason, nothing written — never a 4xx, which would make the sender retry.
    case ignored(String)
    /// A sender's check that the URL works (GitHub's `ping`): 200, nothing written.
    case ping
}

/// One sender's mapping: a pure function of the event (no database, no clock but `arrival`).
/// Throws a 400 `WebhookError` (every problem in its causes) for an event it maps but whose
/// fields are missing or invalid.
protocol SourceMapping: Sendable {
    static var kind: SourceKind { get }
    static func map(_ event: SourceEvent, for webhook: DevLakeConnection, options: SourceOptions) throws(WebhookError) -> SourceOutcome
}
