/// PagerDuty v3 webhooks (`{"event": {"event_type": …, "occurred_at": …, "data": {incident}}}`,
/// https://developer.pagerduty.com/docs/webhooks-overview): an incident's life becomes the DevLake
/// issue of type INCIDENT that `POST {conn}/issues` writes (docs/SOURCES.md, "PagerDuty").
///
/// Every mapped event posts the whole incident again (PagerDuty sends it whole), so each one is
/// an `IssueUpsert` of key `data.id`; its `updated_date` is the event's `occurred_at`, so a late
/// delivery (PagerDuty retries for hours) finds the stored row newer and changes nothing.
enum PagerDutyMapping: SourceMapping {
    static let kind = SourceKind.pagerduty

    /// The event types mapped, and the DevLake status each one means.
    static let statuses: [String: String] = [
        "incident.triggered": "TODO",
        "incident.acknowledged": "IN_PROGRESS",
        "incident.resolved": "DONE",
        "incident.reopened": "TODO",
    ]

    static let eventType = NativePath("event.event_type")
    static let occurredAt = NativePath("event.occurred_at")
    static let data = NativePath("event.data")

    static func map(_ event: SourceEvent, for webhook: DevLakeConnection, options: SourceOptions) throws(WebhookError) -> SourceOutcome {
        let body = event.body
        guard let type = eventType.text(in: body) else {
            throw nativeFieldError(["\(eventType): is required"])
        }
        guard let status = statuses[type] else {
            return .ignored("PagerDuty event \(type) is not mapped (only \(statuses.keys.sorted().joined(separator: ", ")))")
        }
        let issue = try issueBody(body, type: type, status: status)
        return .write([try issue.decode("PagerDuty \(type)") { IssueUpsert.decode($0, for: webhook, arrival: event.arrival) }])
    }

    /// The DevLake issue body of an incident event (API.md §3).
    static func issueBody(_ body: JSONObject, type: String, status: String) throws(WebhookError) -> DevLakeBody {
        guard data.object(in: body) != nil else { throw nativeFieldError(["\(data): is required (an incident object)"]) }
        var issue = DevLakeBody(body)
        issue.copy("issue_key", from: data.appending("id"))
        issue.copy("title", from: data.appending("title"))
        issue.derive("status", status, from: eventType.description)
        // PagerDuty's own word (`triggered`, `acknowledged`, `resolved`), else the event's.
        let nativeStatus = data.appending("status")
        issue.derive("original_status", nativeStatus.text(in: body) ?? String(type.dropFirst("incident.".count)),
            from: nativeStatus.description)
        // `created_at` is in PagerDuty's payloads since 2022; before, a triggered incident was
        // created when the event occurred, and so are the others as the best date there is.
        let createdAt = data.appending("created_at")
        if createdAt.text(in: body) != nil {
            issue.copy("created_date", from: createdAt)
        } else {
            issue.copy("created_date", from: occurredAt)
        }
        issue.copy("updated_date", from: occurredAt)
        if status == "DONE" { issue.copy("resolution_date", from: occurredAt) }
        issue.derive("type", "INCIDENT", from: eventType.description)
        issue.copy("url", from: data.appending("html_url"))
        issue.copy("priority", from: data.appending("priority.summary"))
        issue.copy("severity", from: data.appending("urgency"))
        issue.copy("component", from: data.appending("service.summary"))
        if case .array(let assignees) = data.appending("assignees").value(in: body),
            case .object(let first) = assignees.first
        {
            let path = data.appending("assignees")
            issue.set("assignee_id", first["id"], from: "\(path)[0].id")
            issue.set("assignee_name", first["summary"], from: "\(path)[0].summary")
        }
        return issue
    }
}
