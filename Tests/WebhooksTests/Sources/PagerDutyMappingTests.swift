import Foundation
import HTTP
import Postgres
import Testing
@testable import Webhooks

@Suite("PagerDuty v3 webhooks become DevLake incidents")
struct PagerDutyMappingTests {
    func issue(_ file: String, options: SourceOptions = SourceOptions()) throws -> IssueUpsert {
        let outcome = try PagerDutyMapping.map(
            SourceFixture.event(SourceFixture.load("pagerduty/\(file)")), for: SourceFixture.connection, options: options)
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
        #expect(issue.arrival == SourceFixture.arrival)
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
        var body = try SourceFixture.load("pagerduty/reopened_v3.json")
        body = body.setting("event.event_type", "incident.resolved")
        let issue = try #require(try PagerDutyMapping.map(SourceFixture.event(body), for: SourceFixture.connection, options: SourceOptions())
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
                SourceFixture.event(SourceFixture.load("pagerduty/\(file)")), for: SourceFixture.connection, options: SourceOptions())
            let reason = try #require(outcome.ignoredReason, "\(file)")
            #expect(reason.contains("is not mapped"))
        }
    }

    @Test func theDocumentedPayloadMapsOnceItsTypeIsAMappedOne() throws {
        var body = try SourceFixture.load("pagerduty/priority_updated_v3_docs.json")
        body = body.setting("event.event_type", "incident.acknowledged")
        let issue = try #require(try PagerDutyMapping.map(SourceFixture.event(body), for: SourceFixture.connection, options: SourceOptions())
            .operations.first as? IssueUpsert)
        #expect(issue.issueKey == "PGR0VU2")
        #expect(issue.priority == "P1")
        #expect(issue.severity == "high")
        #expect(issue.component == "API Service")
        #expect(issue.createdDate == Timestamp.native("2020-04-09T15:16:27Z"))
    }

    @Test func missingFieldsAreA400WhoseCausesNameThePagerDutyFields() throws {
        var body = try SourceFixture.load("pagerduty/triggered_v3.json")
        body = body.setting("event.data.title", nil)
        body = body.setting("event.data.id", nil)
        body = body.setting("event.occurred_at", "yesterday")
        let error = #expect(throws: WebhookError.self) {
            try PagerDutyMapping.map(SourceFixture.event(body), for: SourceFixture.connection, options: SourceOptions())
        }
        #expect(error?.status == 400)
        let causes = error?.causes ?? []
        #expect(causes.contains("event.data.id (issue_key): is required"))
        #expect(causes.contains("event.data.title (title): is required"))
        #expect(causes.contains { $0.hasPrefix("event.occurred_at (created_date): ") })
        #expect(!causes.contains { $0.hasPrefix("issue_key") || $0.hasPrefix("title") || $0.hasPrefix("created_date") })
    }

    @Test func anEventWithoutAnEventTypeIsA400() throws {
        let error = #expect(throws: WebhookError.self) {
            try PagerDutyMapping.map(SourceFixture.event(["event": ["id": "x"]]), for: SourceFixture.connection, options: SourceOptions())
        }
        #expect(error?.causes == ["event.event_type: is required"])
    }

    @Test func theOperationsWriteAnIncidentRowThatReadsBack() throws {
        let (connection, _) = try DevLakeConnectionStore(pool: LakehookDatabase.pool).create(name: "pagerduty-\(UUID().uuidString.prefix(8))")
        let options = SourceOptions()
        let triggered = try PagerDutyMapping.map(
            SourceFixture.event(SourceFixture.load("pagerduty/reopened_v3.json")), for: connection, options: options)
        var resolvedBody = try SourceFixture.load("pagerduty/reopened_v3.json")
        resolvedBody = resolvedBody.setting("event.event_type", "incident.resolved")
        resolvedBody = resolvedBody.setting("event.occurred_at", "2026-04-01T03:00:00Z")
        let resolved = try PagerDutyMapping.map(SourceFixture.event(resolvedBody), for: connection, options: options)
        try LakehookDatabase.pool.transaction { db in
            for operation in triggered.operations + resolved.operations { _ = try operation.write(db, for: connection) }
        }
        let rows = try LakehookDatabase.rows(
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
