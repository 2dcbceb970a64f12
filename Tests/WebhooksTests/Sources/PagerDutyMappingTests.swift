import Foundation
import HTTP
import Postgres
import Testing
@testable import Webhooks

/// Loading the vendors' payloads of Fixtures/Sources, and what every mapping test needs.
enum EventSourceFixture {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/Sources")

    static func object(_ path: String) throws -> JSONObject {
        let data = try Data(contentsOf: folder.appendingPathComponent(path))
        guard case .object(let object) = try JSONParser.parse(Array(data)) else {
            throw WebhookError.badRequest("\(path) is not a JSON object")
        }
        return object
    }

    static let connection = WebhookConnection(id: 41, name: "sources", apiKeyHash: "", apiKeyHint: "")
    static let arrival = Timestamp.native("2026-12-04T12:00:00Z")!

    static func event(_ body: JSONObject, headers: HTTPHeaders = HTTPHeaders()) -> SourceEvent {
        SourceEvent(headers: headers, body: body, arrival: arrival)
    }

    /// `object` with the value at `path` replaced (nil: removed).
    static func replacing(_ object: JSONObject, _ path: [String], with value: JSONValue?) -> JSONObject {
        var copy = object
        guard let first = path.first else { return copy }
        if path.count == 1 {
            copy.members.removeAll { $0.key == first }
            if let value { copy.members.append((key: first, value: value)) }
            return copy
        }
        guard case .object(let inner)? = copy[first] else { return copy }
        let replaced = replacing(inner, Array(path.dropFirst()), with: value)
        copy.members = copy.members.map { $0.key == first ? (key: first, value: .object(replaced)) : $0 }
        return copy
    }
}

extension SourceOutcome {
    var operations: [any IngestOperation] {
        if case .write(let operations) = self { return operations }
        return []
    }

    var ignoredReason: String? {
        if case .ignored(let reason) = self { return reason }
        return nil
    }
}

@Suite("PagerDuty v3 webhooks become DevLake incidents")
struct PagerDutyMappingTests {
    func issue(_ file: String, options: SourceOptions = SourceOptions()) throws -> IssueUpsert {
        let outcome = try PagerDutyMapping.map(
            EventSourceFixture.event(EventSourceFixture.object("pagerduty/\(file)")), for: EventSourceFixture.connection, options: options)
        let operations = outcome.operations
        try #require(operations.count == 1)
        return try #require(operations[0] as? IssueUpsert)
    }

    @Test func aTriggeredIncidentIsAnOpenIncidentCreatedWhenTheEventOccurred() throws {
        let issue = try issue("triggered_v3.json")
        #expect(issue.issueKey == "PFQZPSY")
        #expect(issue.title == "Test Incident 3")
        #expect(issue.type == "INCIDENT")
        #expect(issue.isIncident)
        #expect(issue.status == "TODO")
        #expect(issue.originalStatus == "triggered")
        // A 2021 payload has no `created_at`: the event's time is the creation.
        #expect(issue.createdDate == Timestamp.native("2021-06-04T13:35:29.781Z"))
        #expect(issue.updatedDate == Timestamp.native("2021-06-04T13:35:29.781Z"))
        #expect(issue.resolutionDate == nil)
        #expect(issue.url == "https://pig208.pagerduty.com/incidents/PFQZPSY")
        #expect(issue.severity == "high")
        #expect(issue.priority == "")
        #expect(issue.component == "pig208")
        #expect(issue.assigneeId == "PJ0LVEB")
        #expect(issue.assigneeName == "PIG 208")
        #expect(issue.arrival == EventSourceFixture.arrival)
    }

    @Test func anAcknowledgedIncidentIsInProgress() throws {
        let issue = try issue("acknowledged_v3.json")
        #expect(issue.issueKey == "PQ1K5C8")
        #expect(issue.status == "IN_PROGRESS")
        #expect(issue.originalStatus == "acknowledged")
        #expect(issue.updatedDate == Timestamp.native("2021-06-04T13:55:30.394Z"))
        #expect(issue.resolutionDate == nil)
    }

    @Test func aResolvedIncidentIsDoneAndResolvedWhenTheEventOccurred() throws {
        let issue = try issue("resolved_v3.json")
        #expect(issue.issueKey == "PCPZE64")
        #expect(issue.status == "DONE")
        #expect(issue.originalStatus == "resolved")
        #expect(issue.resolutionDate == Timestamp.native("2021-06-04T13:16:53.816Z"))
        #expect(issue.updatedDate == Timestamp.native("2021-06-04T13:16:53.816Z"))
        #expect(issue.assigneeId == "")
    }

    @Test func aResolvedIncidentWithItsCreationDateGetsItsLeadTime() throws {
        var body = try EventSourceFixture.object("pagerduty/reopened_v3.json")
        body = EventSourceFixture.replacing(body, ["event", "event_type"], with: "incident.resolved")
        let issue = try #require(try PagerDutyMapping.map(EventSourceFixture.event(body), for: EventSourceFixture.connection, options: SourceOptions())
            .operations.first as? IssueUpsert)
        #expect(issue.createdDate == Timestamp.native("2026-03-30T13:37:07Z"))
        #expect(issue.resolutionDate == Timestamp.native("2026-04-01T02:15:02.274Z"))
        #expect(issue.leadTimeMinutes == Timestamp.native("2026-04-01T02:15:02.274Z")!.minutes(since: Timestamp.native("2026-03-30T13:37:07Z")!))
    }

    @Test func aReopenedIncidentIsOpenAgainWithItsCreationPriorityAndNoResolution() throws {
        let issue = try issue("reopened_v3.json")
        #expect(issue.issueKey == "Q05XJA8GDXGOB3")
        #expect(issue.status == "TODO")
        #expect(issue.originalStatus == "triggered")
        #expect(issue.createdDate == Timestamp.native("2026-03-30T13:37:07Z"))
        #expect(issue.updatedDate == Timestamp.native("2026-04-01T02:15:02.274Z"))
        #expect(issue.resolutionDate == nil)
        #expect(issue.priority == "P3")
        #expect(issue.severity == "low")
        #expect(issue.component == "Default Service")
        #expect(issue.assigneeName == "Harsh Santwani")
    }

    @Test func theDocumentedPriorityUpdateAndOtherEventTypesAreIgnored() throws {
        for file in ["annotated_v3.json", "service_updated_v3.json", "priority_updated_v3_docs.json"] {
            let outcome = try PagerDutyMapping.map(
                EventSourceFixture.event(EventSourceFixture.object("pagerduty/\(file)")), for: EventSourceFixture.connection, options: SourceOptions())
            let reason = try #require(outcome.ignoredReason, "\(file)")
            #expect(reason.contains("is not mapped"))
        }
    }

    @Test func theDocumentedPayloadMapsOnceItsTypeIsAMappedOne() throws {
        var body = try EventSourceFixture.object("pagerduty/priority_updated_v3_docs.json")
        body = EventSourceFixture.replacing(body, ["event", "event_type"], with: "incident.acknowledged")
        let issue = try #require(try PagerDutyMapping.map(EventSourceFixture.event(body), for: EventSourceFixture.connection, options: SourceOptions())
            .operations.first as? IssueUpsert)
        #expect(issue.issueKey == "PGR0VU2")
        #expect(issue.priority == "P1")
        #expect(issue.severity == "high")
        #expect(issue.component == "API Service")
        #expect(issue.createdDate == Timestamp.native("2020-04-09T15:16:27Z"))
    }

    @Test func missingFieldsAreA400WhoseCausesNameThePagerDutyFields() throws {
        var body = try EventSourceFixture.object("pagerduty/triggered_v3.json")
        body = EventSourceFixture.replacing(body, ["event", "data", "title"], with: nil)
        body = EventSourceFixture.replacing(body, ["event", "data", "id"], with: nil)
        body = EventSourceFixture.replacing(body, ["event", "occurred_at"], with: "yesterday")
        let error = #expect(throws: WebhookError.self) {
            try PagerDutyMapping.map(EventSourceFixture.event(body), for: EventSourceFixture.connection, options: SourceOptions())
        }
        #expect(error?.status == 400)
        let causes = error?.causes ?? []
        #expect(causes.contains("event.data.id: is required"))
        #expect(causes.contains("event.data.title: is required"))
        #expect(causes.contains { $0.hasPrefix("event.occurred_at: ") })
        #expect(!causes.contains { $0.hasPrefix("issue_key") || $0.hasPrefix("title") || $0.hasPrefix("created_date") })
    }

    @Test func anEventWithoutAnEventTypeIsA400() throws {
        let error = #expect(throws: WebhookError.self) {
            try PagerDutyMapping.map(EventSourceFixture.event(["event": ["id": "x"]]), for: EventSourceFixture.connection, options: SourceOptions())
        }
        #expect(error?.causes == ["event.event_type: is required"])
    }

    @Test func theOperationsWriteAnIncidentRowThatReadsBack() throws {
        let (connection, _) = try ConnectionStore(pool: TestDatabase.pool).create(name: "pagerduty-\(UUID().uuidString.prefix(8))")
        let options = SourceOptions()
        let triggered = try PagerDutyMapping.map(
            EventSourceFixture.event(EventSourceFixture.object("pagerduty/reopened_v3.json")), for: connection, options: options)
        var resolvedBody = try EventSourceFixture.object("pagerduty/reopened_v3.json")
        resolvedBody = EventSourceFixture.replacing(resolvedBody, ["event", "event_type"], with: "incident.resolved")
        resolvedBody = EventSourceFixture.replacing(resolvedBody, ["event", "occurred_at"], with: "2026-04-01T03:00:00Z")
        let resolved = try PagerDutyMapping.map(EventSourceFixture.event(resolvedBody), for: connection, options: options)
        try TestDatabase.pool.transaction { db in
            for operation in triggered.operations + resolved.operations { _ = try operation.write(db, for: connection) }
        }
        let rows = try TestDatabase.rows(
            "SELECT incident_key, title, status, original_status, url, priority, severity, component, assignee_name,"
                + " to_char(created_date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
                + " to_char(resolution_date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), lead_time_minutes"
                + " FROM incidents WHERE id = $1", [connection.rowId("Q05XJA8GDXGOB3")])
        let row = try #require(rows.first)
        #expect(row[0] == "Q05XJA8GDXGOB3")
        #expect(row[1] == "Test Incident 2")
        #expect(row[2] == "DONE")
        #expect(row[3] == "triggered")
        #expect(row[4] == "https://harsh0303.pagerduty.com/incidents/Q05XJA8GDXGOB3")
        #expect(row[5] == "P3")
        #expect(row[6] == "low")
        #expect(row[7] == "Default Service")
        #expect(row[8] == "Harsh Santwani")
        #expect(row[9] == "2026-03-30 13:37:07")
        #expect(row[10] == "2026-04-01 03:00:00")
        #expect(row[11] == "2242")
    }
}
