import Foundation
import Postgres
import Testing
@testable import Webhooks

/// DORA.md's edge cases, one test each, each on a connection of its own (without a project, so
/// a project of its own) and over the window [2024-03-04, 2024-04-01): four weeks, one month.
@Suite("DORA metrics: edge cases")
struct DoraEdgeCaseTests {
    let server = TestServer.shared
    let from = "2024-03-04", to = "2024-04-01"
    let sha = DoraCheck.sha

    func report(_ connection: DoraConnection, from: String? = nil, to: String? = nil) throws -> [String: ExpectedMetric] {
        let rows = try DoraCheck.sql(connection.name, from: from ?? self.from, to: to ?? self.to)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.metric, $0) })
    }

    @Test("no deployments: 0 days/week (low), and lead time and failure rate NULL, never 0 or elite")
    func noDeployments() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-empty"), project: nil)
        try c.pullRequest(1, mergeCommit: sha("a"), created: "2024-03-05T00:00:00Z")
        let r = try report(c)
        let frequency = try #require(r["deployment_frequency"])
        #expect(frequency.value == 0 && frequency.level == "low" && frequency.numerator == 0 && frequency.denominator == 4)
        for metric in ["lead_time_for_changes", "change_failure_rate", "failed_deployment_recovery_time"] {
            let m = try #require(r[metric])
            #expect(m.value == nil && m.level == nil && m.numerator == 0 && m.denominator == 0 && m.ids.isEmpty, "\(m)")
        }
    }

    @Test("an incident created before any deployment has no cause, and recovery time leaves it out")
    func incidentBeforeAnyDeployment() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-early"), project: nil)
        try c.incident("INC-1", created: "2024-03-05T00:00:00Z", resolved: "2024-03-05T02:00:00Z")
        try c.deployment("D1", commits: [sha("1")], started: "2024-03-05T11:00:00Z", finished: "2024-03-05T12:00:00Z")
        let cause = try LakehookDatabase.rows(
            "SELECT deployment_id FROM dora_incident_causes WHERE project_name = $1", [c.name])
        #expect(cause.count == 1 && cause[0]["deployment_id"] == nil)
        let rate = try #require(try report(c)["change_failure_rate"])
        #expect(rate.value == 0 && rate.level == "elite" && rate.numerator == 0 && rate.denominator == 1 && rate.ids.isEmpty)
        // No deployment failed: recovery time has no failure to time, although the incident was
        // created in the window and resolved (before issue 18 it counted: 2 hours, 1 of 1).
        let recovery = try #require(try report(c)["failed_deployment_recovery_time"])
        #expect(recovery.value == nil && recovery.level == nil && recovery.numerator == 0 && recovery.denominator == 0
            && recovery.ids.isEmpty, "\(recovery)")
    }

    @Test("an incident more than incident_window after the last deployment has no cause, until the window grows")
    func incidentOutsideTheIncidentWindow() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-late"), project: nil)
        try c.deployment("D1", commits: [sha("1")], started: "2024-03-04T11:00:00Z", finished: "2024-03-04T12:00:00Z")
        // 8 days later: outside the default 7-day window.
        try c.incident("INC-1", created: "2024-03-12T12:00:00Z")
        #expect(try report(c)["change_failure_rate"]?.numerator == 0)

        let set = try DoraCheck.cli(["settings", "--project", c.name, "--incident-window", "10d"])
        #expect(set.contains("10 days"), "\(set)")
        let rate = try #require(try report(c)["change_failure_rate"])
        #expect(rate.value == 1 && rate.numerator == 1 && rate.ids == [c.rowId("D1")])
        let shown = try DoraCheck.cli(["settings", "--project", c.name, "--json"])
        #expect(shown.contains(#""incidentWindowSeconds":864000"#) && shown.contains(#""default":false"#), "\(shown)")

        // Exactly at the window's edge still counts (at most incident_window before it).
        _ = try DoraCheck.cli(["settings", "--project", c.name, "--incident-window", "8d"])
        #expect(try report(c)["change_failure_rate"]?.numerator == 1)
        _ = try DoraCheck.cli(["settings", "--project", c.name, "--incident-window", "default"])
        #expect(try report(c)["change_failure_rate"]?.numerator == 0)
        #expect(try LakehookDatabase.count("SELECT count(*) FROM dora_settings WHERE project_name = $1", [c.name]) == 0)
    }

    @Test("an incident created outside the report window counts neither for recovery time nor against a deployment in it")
    func incidentOutsideTheReportWindow() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-outside"), project: nil)
        try c.incident("INC-0", created: "2024-02-20T00:00:00Z", resolved: "2024-02-20T01:00:00Z")
        try c.deployment("D1", commits: [sha("1")], started: "2024-03-30T11:00:00Z", finished: "2024-03-31T12:00:00Z")
        // Created after the window, but caused by D1 (finished in it): D1 counts as failed.
        try c.incident("INC-9", created: "2024-04-02T00:00:00Z", resolved: "2024-04-02T05:00:00Z")
        let r = try report(c)
        let recovery = try #require(r["failed_deployment_recovery_time"])
        #expect(recovery.value == nil && recovery.level == nil && recovery.denominator == 0)
        #expect(r["change_failure_rate"]?.numerator == 1 && r["change_failure_rate"]?.denominator == 1)
    }

    @Test("a FAILURE deployment counts in the failure rate but not in the frequency")
    func failureCountsInRateNotFrequency() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-failure"), project: nil)
        try c.deployment("D1", commits: [sha("1")], started: "2024-03-04T11:00:00Z", finished: "2024-03-04T12:00:00Z")
        try c.deployment("D2", commits: [sha("2")], started: "2024-03-05T11:00:00Z", finished: "2024-03-05T12:00:00Z", result: "FAILURE")
        try c.deployment("D3", commits: [sha("3")], started: "2024-03-06T11:00:00Z", finished: "2024-03-06T12:00:00Z", result: "ABORT")
        let r = try report(c)
        let frequency = try #require(r["deployment_frequency"])
        #expect(frequency.numerator == 1 && frequency.ids == [c.rowId("D1")])
        let rate = try #require(r["change_failure_rate"])
        #expect(rate.value == 0.5 && rate.numerator == 1 && rate.denominator == 2 && rate.ids == [c.rowId("D2")])
        // The failed and aborted deployments shipped nothing: only c1 is a change.
        #expect(r["lead_time_for_changes"]?.denominator == 1)
        // D2 is a failure for recovery time too, not recovered (D3 aborted): 0 of 1, no value.
        let recovery = try #require(r["failed_deployment_recovery_time"])
        #expect(recovery.value == nil && recovery.numerator == 0 && recovery.denominator == 1 && recovery.ids.isEmpty, "\(recovery)")
    }

    @Test("a commit deployed twice counts once, with its lead time to its first deployment, in that deployment's window only")
    func commitDeployedTwice() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-twice"), project: nil)
        try c.pullRequest(1, mergeCommit: sha("1"), created: "2024-03-04T00:00:00Z")
        try c.pullRequest(2, mergeCommit: sha("2"), created: "2024-03-10T06:00:00Z")
        try c.deployment("D1", commits: [sha("1")], started: "2024-03-04T05:00:00Z", finished: "2024-03-04T06:00:00Z")
        try c.deployment("D2", commits: [sha("1"), sha("2")], started: "2024-03-11T05:00:00Z", finished: "2024-03-11T06:00:00Z")
        // c1: 6 h (to D1, not 174 h to D2); c2: 24 h. Median 15 h.
        let lead = try #require(try report(c)["lead_time_for_changes"])
        #expect(lead.value == 15 && lead.level == "elite" && lead.numerator == 2 && lead.denominator == 2 && lead.ids == [sha("1"), sha("2")])
        // A window holding only D2: c1 was first deployed before it, so only c2 counts (before
        // issue 18, c1 counted again here with its 6 h: 15 h, 2 changes).
        let later = try #require(try report(c, from: "2024-03-11")["lead_time_for_changes"])
        #expect(later.value == 24 && later.numerator == 1 && later.denominator == 1 && later.ids == [sha("2")], "\(later)")
        let first = try LakehookDatabase.value(
            "SELECT deployment_id FROM dora_changes WHERE project_name = $1 AND commit_sha = $2", [c.name, sha("1")])
        #expect(first == c.rowId("D1"))
    }

    @Test("a rollback that ships an old commit again in a later window does not count it again")
    func rollbackOfAnOldCommit() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-rollback"), project: nil)
        try c.pullRequest(1, mergeCommit: sha("1"), created: "2024-03-04T00:00:00Z")
        try c.pullRequest(2, mergeCommit: sha("2"), created: "2024-03-11T00:00:00Z")
        try c.deployment("D1", commits: [sha("1")], started: "2024-03-04T05:00:00Z", finished: "2024-03-04T06:00:00Z")
        try c.deployment("D2", commits: [sha("2")], started: "2024-03-11T11:00:00Z", finished: "2024-03-11T12:00:00Z")
        // The rollback to c1, two weeks later, as a classic pipeline.
        try c.pipeline("ROLLBACK", commit: sha("1"), tasks: [
            DoraConnection.Task(name: "deploy", type: "DEPLOYMENT", environment: "PRODUCTION",
                                started: "2024-03-20T09:00:00Z", finished: "2024-03-20T10:00:00Z"),
        ])
        // A window holding only the rollback has no change (it was 1 change of 6 h before issue 18).
        let rollbackWeek = try report(c, from: "2024-03-18", to: "2024-03-25")
        let lead = try #require(rollbackWeek["lead_time_for_changes"])
        #expect(lead.value == nil && lead.level == nil && lead.numerator == 0 && lead.denominator == 0 && lead.ids.isEmpty, "\(lead)")
        // The rollback is still a successful deployment.
        #expect(rollbackWeek["deployment_frequency"]?.ids == [c.rowId("ROLLBACK")])
        // Over the whole window each commit counts once: c1 6 h, c2 12 h.
        let whole = try #require(try report(c)["lead_time_for_changes"])
        #expect(whole.value == 9 && whole.numerator == 2 && whole.denominator == 2 && whole.ids == [sha("1"), sha("2")], "\(whole)")
        let changes = try LakehookDatabase.rows(
            "SELECT commit_sha FROM dora_project_changes($1, '2024-03-18', '2024-03-25')", [c.name])
        #expect(changes.isEmpty, "\(changes)")
    }

    @Test("a week with no deployments and an incident without a cause has no recovery time")
    func uncausedIncidentInAWeekWithoutDeployments() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-uncaused"), project: nil)
        // D1 is 11 days before the incident: outside the 7-day incident window, so no cause.
        try c.deployment("D1", commits: [sha("1")], started: "2024-03-01T11:00:00Z", finished: "2024-03-01T12:00:00Z")
        try c.incident("INC-1", created: "2024-03-12T12:00:00Z", resolved: "2024-03-12T14:00:00Z")
        let r = try report(c, from: "2024-03-11", to: "2024-03-18")
        // Before issue 18: 2 hours, 1 of 1.
        let recovery = try #require(r["failed_deployment_recovery_time"])
        #expect(recovery.value == nil && recovery.level == nil && recovery.numerator == 0 && recovery.denominator == 0
            && recovery.ids.isEmpty, "\(recovery)")
        #expect(r["deployment_frequency"]?.numerator == 0)
        // The view still lists the incident, without a cause.
        let causes = try LakehookDatabase.rows(
            "SELECT incident_id, deployment_id FROM dora_incident_causes WHERE project_name = $1", [c.name])
        #expect(causes.count == 1 && causes.first?["incident_id"] == c.rowId("INC-1") && causes.first?["deployment_id"] == nil)
    }

    @Test("a FAILURE deployment is timed to the next successful production deployment of the same project")
    func failedDeploymentTimedToTheNextSuccess() throws {
        let project = DoraCheck.unique("edge-recover")
        let x = try server.createConnection(DoraCheck.unique("edge-recover-x"), project: project)
        let y = try server.createConnection(DoraCheck.unique("edge-recover-y"), project: project)
        let other = try server.createConnection(DoraCheck.unique("edge-recover-other"), project: nil)
        try x.deployment("D1", commits: [sha("1")], started: "2024-03-04T11:00:00Z", finished: "2024-03-04T12:00:00Z")
        try x.deployment("F1", commits: [sha("2")], started: "2024-03-05T11:00:00Z", finished: "2024-03-05T12:00:00Z", result: "FAILURE")
        // None of these recovers it: another project's success, a success in STAGING, an abort.
        try other.deployment("O1", commits: [sha("2")], started: "2024-03-05T12:30:00Z", finished: "2024-03-05T13:00:00Z")
        try x.deployment("S1", commits: [sha("2")], started: "2024-03-05T13:30:00Z", finished: "2024-03-05T14:00:00Z", environment: "STAGING")
        try x.deployment("A1", commits: [sha("2")], started: "2024-03-05T14:30:00Z", finished: "2024-03-05T15:00:00Z", result: "ABORT")
        // The project's next successful production deployment: a classic pipeline of its other connection.
        try y.pipeline("P1", commit: sha("2"), tasks: [
            DoraConnection.Task(name: "deploy", type: "DEPLOYMENT", environment: "PRODUCTION",
                                started: "2024-03-05T17:00:00Z", finished: "2024-03-05T18:00:00Z"),
        ])
        try x.deployment("D2", commits: [sha("3")], started: "2024-03-06T11:00:00Z", finished: "2024-03-06T12:00:00Z")
        let r = try DoraCheck.sql(project, from: from, to: to)
        let recovery = try #require(r.first { $0.metric == "failed_deployment_recovery_time" })
        // 12:00 → 18:00: 6 hours (before issue 18: no data, failed deployments were not timed).
        #expect(recovery.value == 6 && recovery.level == "high" && recovery.numerator == 1 && recovery.denominator == 1
            && recovery.ids == [x.rowId("F1")], "\(recovery)")
        let view = try LakehookDatabase.rows(
            "SELECT recovery_deployment_id, recovery_deployment_source, recovery_hours FROM dora_failed_deployments WHERE project_name = $1",
            [project])
        #expect(view.count == 1 && view.first?["recovery_deployment_id"] == y.rowId("P1")
            && view.first?["recovery_deployment_source"] == "pipelines" && view.first?["recovery_hours"] == "6", "\(view)")
    }

    @Test("an unrecovered failure counts in the denominator, not the numerator, until a later success recovers it")
    func unrecoveredFailure() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-unrecovered"), project: nil)
        try c.deployment("D1", commits: [sha("1")], started: "2024-03-04T11:00:00Z", finished: "2024-03-04T12:00:00Z")
        // D1 caused INC-1, resolved in an hour.
        try c.incident("INC-1", created: "2024-03-04T13:00:00Z", resolved: "2024-03-04T14:00:00Z")
        try c.deployment("F1", commits: [sha("2")], started: "2024-03-20T11:00:00Z", finished: "2024-03-20T12:00:00Z", result: "FAILURE")
        let recovery = try #require(try report(c)["failed_deployment_recovery_time"])
        // Before issue 18: 1 of 1 (F1 was not a failure for recovery time).
        #expect(recovery.value == 1 && recovery.level == "high" && recovery.numerator == 1 && recovery.denominator == 2
            && recovery.ids == [c.rowId("INC-1")], "\(recovery)")
        // A success after the window recovers it, as a resolution after the window does an incident:
        // Mar 20 12:00 → Apr 2 12:00 = 312 h. Median of 1 and 312.
        try c.deployment("D2", commits: [sha("3")], started: "2024-04-02T11:00:00Z", finished: "2024-04-02T12:00:00Z")
        let recovered = try #require(try report(c)["failed_deployment_recovery_time"])
        #expect(recovered.value == 156.5 && recovered.level == "medium" && recovered.numerator == 2 && recovered.denominator == 2
            && recovered.ids == [c.rowId("F1"), c.rowId("INC-1")].sorted(), "\(recovered)")
    }

    @Test("weeks without deployments count as zero in the median")
    func emptyWeeksCountAsZero() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-weeks"), project: nil)
        // Three deployment days in the first week, none in the next three: 3, 0, 0, 0 → median 0.
        for (day, id) in [("04", "D1"), ("05", "D2"), ("06", "D3"), ("06", "D4")] {
            try c.deployment(id, commits: [sha("1")], started: "2024-03-\(day)T10:00:00Z", finished: "2024-03-\(day)T11:00:00Z")
        }
        let frequency = try #require(try report(c)["deployment_frequency"])
        // Not "high" (it would be, with a median of 3, if empty weeks were skipped); March has 3
        // deployment days, so the month rule gives medium.
        #expect(frequency.value == 0 && frequency.level == "medium" && frequency.numerator == 3 && frequency.denominator == 4)
        #expect(frequency.ids.count == 4)
        // A window from Wednesday to Wednesday overlaps two weeks: one deployment day (Mar 6), then none → 0.5.
        let short = try #require(try report(c, from: "2024-03-06", to: "2024-03-13")["deployment_frequency"])
        #expect(short.denominator == 2 && short.numerator == 1 && short.value == 0.5)
    }

    @Test("a deployment day is a UTC day: two deployments either side of midnight UTC are two days")
    func deploymentDaysAreUTC() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-utc"), project: nil)
        try c.deployment("D1", commits: [sha("1")], started: "2024-03-05T23:00:00+02:00", finished: "2024-03-05T23:30:00+02:00")
        try c.deployment("D2", commits: [sha("2")], started: "2024-03-05T23:40:00Z", finished: "2024-03-06T00:10:00Z")
        let frequency = try #require(try report(c)["deployment_frequency"])
        #expect(frequency.numerator == 2)
    }

    /// The deployment ids of `dora_report` in a session whose TimeZone is `zone`: `call` is the
    /// FROM item, with `$1` the project.
    func deploymentIds(_ connection: DoraConnection, inTimeZone zone: String, _ call: String) throws -> String? {
        try LakehookDatabase.pool.withConnection { db in
            _ = try db.query("SET TimeZone = '\(zone)'", [])
            defer { _ = try? db.query("RESET TimeZone", []) }
            return try db.query(
                "SELECT to_json(ids)::text AS ids FROM \(call) WHERE metric = 'deployment_frequency'", [connection.name]
            ).rows.first?["ids"]
        }
    }

    @Test("SQL reads a window given as text in UTC whatever the session's TimeZone: a date alone is midnight UTC")
    func sqlTextWindowInUTC() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-tz"), project: nil)
        // Tokyo's midnights are 15:00 UTC the day before: read in Tokyo, the window would take
        // EARLY and leave LATE out.
        try c.deployment("EARLY", commits: [sha("e")], started: "2024-03-03T20:00:00Z", finished: "2024-03-03T20:00:00Z")
        try c.deployment("LATE", commits: [sha("l")], started: "2024-03-31T20:00:00Z", finished: "2024-03-31T20:00:00Z")
        let expected = #"["\#(c.rowId("LATE"))"]"#
        #expect(try deploymentIds(c, inTimeZone: "Asia/Tokyo", "dora_report($1, '2024-03-04', '2024-04-01')") == expected)
        #expect(try deploymentIds(c, inTimeZone: "Asia/Tokyo", "dora_report($1, '2024-03-04T00:00:00', '2024-04-01 00:00')") == expected)
        // A bound with its own offset means that instant: 2024-04-01T05:00+09:00 is 20:00 UTC, LATE's time, excluded.
        #expect(try deploymentIds(c, inTimeZone: "Asia/Tokyo", "dora_report($1, '2024-03-04', '2024-04-01T05:00:00+09:00')") == "[]")
        let changes = try LakehookDatabase.pool.withConnection { db in
            _ = try db.query("SET TimeZone = 'Asia/Tokyo'", [])
            defer { _ = try? db.query("RESET TimeZone", []) }
            return try db.query("SELECT deployment_id FROM dora_project_changes($1, '2024-03-04', '2024-04-01')", [c.name]).rows
        }
        #expect(changes.map { $0["deployment_id"] } == [c.rowId("LATE")])
    }

    @Test("SQL's default window is the 30 × 24 hours before its end, counted in UTC, also across a daylight-saving change")
    func sqlDefaultWindowInUTC() throws {
        let c = try server.createConnection(DoraCheck.unique("edge-dst"), project: nil)
        // New York left daylight-saving time on 2026-11-01: 30 calendar days there before
        // 2026-11-15T00:00Z are 721 hours, and would take OUT too.
        try c.deployment("OUT", commits: [sha("o")], started: "2026-10-15T23:30:00Z", finished: "2026-10-15T23:30:00Z")
        try c.deployment("IN", commits: [sha("i")], started: "2026-10-16T00:30:00Z", finished: "2026-10-16T00:30:00Z")
        #expect(try deploymentIds(c, inTimeZone: "America/New_York", "dora_report($1, to_time => '2026-11-15T00:00:00Z'::timestamptz)")
            == #"["\#(c.rowId("IN"))"]"#)
        // No window at all: the last 30 days up to now, which holds neither.
        #expect(try deploymentIds(c, inTimeZone: "America/New_York", "dora_report($1)") == "[]")
    }
}
