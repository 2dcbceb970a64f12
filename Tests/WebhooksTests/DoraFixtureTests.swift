import Foundation
import Testing
@testable import Webhooks

/// Four weeks of a project's life, built only through the HTTP API: classic pipelines on one
/// connection, v1.0 deployments, pull requests and incidents on another, and a third connection
/// without a project (a project of its own) whose rows must not leak into the first.
///
/// The window is [2024-03-04, 2024-04-01): four ISO weeks (Mar 4, 11, 18, 25), one month.
struct DoraFixture {
    let project: String
    let a: DoraConnection // project, classic pipelines
    let b: DoraConnection // project, deployments, pull requests, incidents
    let c: DoraConnection // no project: its own project, named after it
    static let from = "2024-03-04"
    static let to = "2024-04-01"

    static let shared: Result<DoraFixture, any Error> = Result { try DoraFixture.build() }

    static func build() throws -> DoraFixture {
        let server = TestServer.shared
        let project = DoraCheck.unique("dora-shop")
        let a = try server.createConnection(DoraCheck.unique("dora-ci"), project: project)
        let b = try server.createConnection(DoraCheck.unique("dora-deploy"), project: project)
        let c = try server.createConnection(DoraCheck.unique("dora-alone"), project: nil)
        let sha = DoraCheck.sha
        typealias T = DoraConnection.Task

        // A: classic pipelines. P1 and P4 deploy to PRODUCTION; P3 only tests c5; PS deploys to
        // STAGING; P5 never finishes.
        try a.pipeline("P1", commit: sha("1"), tasks: [
            T(name: "build", type: "BUILD", environment: "TESTING", started: "2024-03-04T08:00:00Z", finished: "2024-03-04T08:30:00Z"),
            T(name: "deploy", type: "DEPLOYMENT", environment: "PRODUCTION", started: "2024-03-04T09:00:00Z", finished: "2024-03-04T10:00:00Z"),
        ])
        try a.pipeline("P3", commit: sha("5"), tasks: [
            T(name: "test", type: "TEST", environment: "TESTING", started: "2024-03-17T12:00:00Z", finished: "2024-03-17T12:30:00Z"),
        ])
        try a.pipeline("P4", commit: sha("6"), tasks: [
            T(name: "build", type: "BUILD", environment: "TESTING", started: "2024-03-19T10:00:00Z", finished: "2024-03-19T10:20:00Z"),
            T(name: "deploy", type: "DEPLOYMENT", environment: "PRODUCTION", started: "2024-03-19T10:30:00Z", finished: "2024-03-19T11:00:00Z"),
        ])
        try a.pipeline("PS", commit: sha("8"), tasks: [
            T(name: "deploy", type: "DEPLOYMENT", environment: "STAGING", started: "2024-03-20T10:00:00Z", finished: "2024-03-20T10:30:00Z"),
        ])
        try a.pipeline("P5", commit: sha("8"), tasks: [
            T(name: "deploy", type: "DEPLOYMENT", environment: "PRODUCTION", started: "2024-03-27T09:00:00Z", finished: nil, result: "IN_PROGRESS"),
        ], finish: false)

        // B: deployments (D0 in the single-commit form, before the window), pull requests, incidents.
        try b.singleCommitDeployment("D0", commit: sha("9"), started: "2024-03-01T11:00:00Z", finished: "2024-03-01T12:00:00Z")
        try b.pullRequest(1, mergeCommit: sha("1"), created: "2024-03-03T10:00:00Z")
        try b.pullRequest(2, mergeCommit: sha("2"), created: "2024-03-05T06:00:00Z")
        try b.pullRequest(4, mergeCommit: sha("4"), created: "2024-03-06T00:00:00Z")
        try b.pullRequest(7, mergeCommit: sha("7"), created: "2024-03-25T12:00:00Z")
        try b.pullRequest(9, mergeCommit: sha("9"), created: "2024-02-29T12:00:00Z")
        try b.deployment("D1", commits: [sha("2"), sha("3")], started: "2024-03-05T11:00:00Z", finished: "2024-03-05T12:00:00Z")
        try b.deployment("D2", commits: [sha("4")], started: "2024-03-06T11:00:00Z", finished: "2024-03-06T12:00:00Z", result: "FAILURE")
        try b.deployment("D3", commits: [sha("4"), sha("5")], started: "2024-03-18T11:00:00Z", finished: "2024-03-18T12:00:00Z")
        try b.deployment("D7", commits: [sha("8")], started: "2024-03-20T11:00:00Z", finished: "2024-03-20T12:00:00Z", environment: "STAGING")
        try b.deployment("D5", commits: [sha("1"), sha("7"), sha("9")], started: "2024-03-26T11:00:00Z", finished: "2024-03-26T12:00:00Z")
        try b.deployment("D6", commits: [sha("8")], started: "2024-03-27T11:00:00Z", finished: "2024-03-27T12:00:00Z", result: "ABORT")
        try b.incident("INC-4", created: "2024-03-02T00:00:00Z", resolved: "2024-03-02T02:00:00Z")
        try b.incident("INC-1", created: "2024-03-19T15:00:00Z", resolved: "2024-03-19T18:00:00Z")
        try b.incident("INC-3", created: "2024-03-28T00:00:00Z", resolved: "2024-03-28T01:00:00Z")
        try b.incident("INC-2", created: "2024-03-30T12:00:00Z")

        // C: the same sha c2 deployed earlier, a pull request merged as c3, an incident.
        try c.deployment("DC1", commits: [sha("2")], started: "2024-03-03T23:00:00Z", finished: "2024-03-04T00:00:00Z")
        try c.pullRequest(3, mergeCommit: sha("3"), created: "2024-03-01T00:00:00Z")
        try c.incident("IC-1", created: "2024-03-05T00:00:00Z", resolved: "2024-03-05T00:30:00Z")
        return DoraFixture(project: project, a: a, b: b, c: c)
    }

    /// The project's four metrics, computed by hand from the rows above.
    var expected: [ExpectedMetric] {
        let sha = DoraCheck.sha
        return [
            // Successful production deployments in the window: P1 (Mar 4), D1 (Mar 5), D3 (Mar 18),
            // P4 (Mar 19), D5 (Mar 26). D2 failed, D6 aborted, PS and D7 went to STAGING, P5 never
            // finished, D0 is before the window. Days per week: 2, 0, 2, 1 → sorted 0, 1, 2, 2 →
            // median 1.5 → high (≥ 1, < 5).
            ExpectedMetric(
                metric: "deployment_frequency", value: 1.5, unit: "days/week", level: "high", numerator: 5, denominator: 4,
                ids: [a.rowId("P1"), b.rowId("D1"), b.rowId("D3"), a.rowId("P4"), b.rowId("D5")].sorted()),
            // Changes first deployed in the window: c1 (P1; D5 ships it again), c2 c3 (D1), c4 c5
            // (D3), c6 (P4), c7 (D5). c9 is shipped by D5 too, but was first deployed by D0 before
            // the window: it is not counted again. Lead times to each one's first successful deployment:
            // c1 Mar 3 10:00 (PR) → P1 Mar 4 10:00 = 24 h; c2 Mar 5 06:00 (PR) → D1 12:00 = 6 h
            // (C's earlier deployment of c2 is another project's); c3 no start (C's PR does not
            // count); c4 Mar 6 00:00 (PR) → D3 Mar 18 12:00 = 300 h (D2 failed); c5 Mar 17 12:00
            // (P3's task) → D3 = 24 h; c6 Mar 19 10:00 (P4's build) → P4 11:00 = 1 h; c7 Mar 25
            // 12:00 → D5 Mar 26 12:00 = 24 h. Sorted 1, 6, 24, 24, 24, 300 → median 24 → high
            // (not < 24).
            ExpectedMetric(
                metric: "lead_time_for_changes", value: 24, unit: "hours", level: "high", numerator: 6, denominator: 7,
                ids: [sha("1"), sha("2"), sha("4"), sha("5"), sha("6"), sha("7")]),
            // SUCCESS or FAILURE in the window: P1 D1 D2 D3 P4 D5 (6; D6 aborted). Failed: D2; P4
            // caused INC-1 (Mar 19 15:00, 4 h later); D5 caused INC-3 (Mar 28) and INC-2 (Mar 30:
            // D6 between them aborted). 3 / 6 = 0.5 → low.
            ExpectedMetric(
                metric: "change_failure_rate", value: 0.5, unit: "ratio", level: "low", numerator: 3, denominator: 6,
                ids: [b.rowId("D2"), a.rowId("P4"), b.rowId("D5")].sorted()),
            // The failures the failure rate counts: the incidents created in the window with a
            // cause, INC-1 (3 h), INC-3 (1 h) and INC-2 (open; INC-4 is before the window), and the
            // failed deployment D2 (Mar 6 12:00), recovered by the next successful production
            // deployment, D3 (Mar 18 12:00): 288 h. Median of 1, 3, 288 = 3 h → high.
            ExpectedMetric(
                metric: "failed_deployment_recovery_time", value: 3, unit: "hours", level: "high", numerator: 3, denominator: 4,
                ids: [b.rowId("INC-1"), b.rowId("INC-3"), b.rowId("D2")].sorted()),
        ]
    }

    /// The connection without a project, over the same window.
    var expectedAlone: [ExpectedMetric] {
        [
            // One deployment day (Mar 4) in four weeks: 1, 0, 0, 0 → median 0; March has 1 → medium.
            ExpectedMetric(
                metric: "deployment_frequency", value: 0, unit: "days/week", level: "medium", numerator: 1, denominator: 4,
                ids: [c.rowId("DC1")]),
            // c2 has no pull request and no CI run in this project: no data.
            ExpectedMetric(metric: "lead_time_for_changes", value: nil, unit: "hours", level: nil, numerator: 0, denominator: 1, ids: []),
            // DC1 caused IC-1 a day later: 1 / 1.
            ExpectedMetric(metric: "change_failure_rate", value: 1, unit: "ratio", level: "low", numerator: 1, denominator: 1, ids: [c.rowId("DC1")]),
            // IC-1 resolved in 30 minutes → elite.
            ExpectedMetric(
                metric: "failed_deployment_recovery_time", value: 0.5, unit: "hours", level: "elite", numerator: 1, denominator: 1,
                ids: [c.rowId("IC-1")]),
        ]
    }
}

@Suite("DORA metrics of a fixture built through the HTTP API")
struct DoraFixtureTests {
    var fixture: DoraFixture { get throws { try DoraFixture.shared.get() } }

    @Test("dora_report in SQL equals the figures computed by hand")
    func sqlReport() throws {
        let f = try fixture
        DoraCheck.same(try DoraCheck.sql(f.project, from: DoraFixture.from, to: DoraFixture.to), f.expected, "SQL")
    }

    @Test("a connection without a project is a project of its own, named after it, and nothing leaks between them")
    func connectionWithoutProject() throws {
        let f = try fixture
        DoraCheck.same(try DoraCheck.sql(f.c.name, from: DoraFixture.from, to: DoraFixture.to), f.expectedAlone, "SQL, alone")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM dora_deployments WHERE project_name = $1", [f.c.name]) == 1)
    }

    @Test("lakehook dora --json (in-process) prints the same figures")
    func cliJSON() throws {
        let f = try fixture
        let output = try DoraCheck.cli(["--project", f.project, "--from", DoraFixture.from, "--to", DoraFixture.to, "--json"])
        let object = try #require(DoraCheck.jsonObject(output), "not JSON: \(output)")
        #expect(object["project"] == .string(f.project))
        #expect(object["from"] == .string("2024-03-04T00:00:00Z") && object["to"] == .string("2024-04-01T00:00:00Z"))
        DoraCheck.same(DoraCheck.metrics(ofJSON: object), f.expected, "CLI --json")
    }

    @Test("lakehook dora without --json prints a table of the four metrics with their levels")
    func cliTable() throws {
        let f = try fixture
        let output = try DoraCheck.cli(["--project", f.project, "--from", DoraFixture.from, "--to", DoraFixture.to])
        for text in ["Deployment frequency", "1.5 days/week", "Lead time for changes", "24 hours", "Change failure rate", "50 %",
                     "Failed deployment recovery time", "3 hours", "incident window 7 days", "6 of 7 newly deployed changes with a start (1 without)",
                     "3 of 4 failures recovered (failed deployments, incidents with a cause)"] {
            #expect(output.contains(text), "missing \"\(text)\" in:\n\(output)")
        }
        #expect(output.split(separator: "\n").filter { $0.contains(" high ") }.count == 3)
    }

    @Test("GET /api/dora answers the same figures, behind the admin token")
    func httpJSON() throws {
        let f = try fixture
        let server = TestServer.shared
        let path = "/api/dora?project=\(f.project)&from=\(DoraFixture.from)&to=\(DoraFixture.to)"
        let reply = try server.admin("GET", path)
        #expect(reply.status == 200, "\(reply.text)")
        let data = try #require(reply.data, "\(reply.text)")
        #expect(data["project"] == .string(f.project) && data["from"] == .string("2024-03-04T00:00:00Z"))
        DoraCheck.same(DoraCheck.metrics(ofJSON: data), f.expected, "/api/dora")
        let alone = try server.admin("GET", "/api/dora?project=\(f.c.name)&from=\(DoraFixture.from)&to=\(DoraFixture.to)")
        DoraCheck.same(DoraCheck.metrics(ofJSON: try #require(alone.data)), f.expectedAlone, "/api/dora, alone")

        #expect(try server.request("GET", path).status == 401)
        #expect(try server.request("GET", path, headers: [("Authorization", "Bearer wrong-token-0123456789")]).status == 403)
        #expect(try server.admin("GET", "/api/dora?project=no-such-project-\(UUID().uuidString)").status == 404)
        let bad = try server.admin("GET", "/api/dora?project=\(f.project)&from=2024-13-01&to=yesterday")
        #expect(bad.status == 400 && bad.causes.count == 2, "\(bad.text)")
        #expect(try server.admin("GET", "/api/dora?project=\(f.project)&from=2024-04-01&to=2024-03-04").status == 400)
    }

    @Test("the views explain the figures: which deployment caused which incident, each change's first deployment, and what recovered a failed deployment")
    func views() throws {
        let f = try fixture
        let causes = try LakehookDatabase.rows(
            "SELECT incident_id, deployment_id FROM dora_incident_causes WHERE project_name = $1 ORDER BY incident_id", [f.project])
        let pairs = Dictionary(uniqueKeysWithValues: causes.map { ($0["incident_id"] ?? "", $0["deployment_id"] ?? "none") })
        #expect(pairs == [
            f.b.rowId("INC-1"): f.a.rowId("P4"), f.b.rowId("INC-2"): f.b.rowId("D5"),
            f.b.rowId("INC-3"): f.b.rowId("D5"), f.b.rowId("INC-4"): f.b.rowId("D0"),
        ])
        let changes = try LakehookDatabase.rows(
            "SELECT commit_sha, deployment_id, start_source, lead_time_hours FROM dora_changes WHERE project_name = $1 ORDER BY commit_sha",
            [f.project])
        let sha = DoraCheck.sha
        #expect(changes.map { $0["commit_sha"] ?? "" } == ["1", "2", "3", "4", "5", "6", "7", "9"].map { sha(Character($0)) })
        let c1 = try #require(changes.first)
        #expect(c1["deployment_id"] == f.a.rowId("P1") && c1["start_source"] == "pull_request" && c1["lead_time_hours"] == "24")
        let c3 = try #require(changes.first { $0["commit_sha"] == sha("3") })
        #expect(c3["start_source"] == nil && c3["lead_time_hours"] == nil)
        let c6 = try #require(changes.first { $0["commit_sha"] == sha("6") })
        #expect(c6["start_source"] == "ci_task" && c6["lead_time_hours"] == "1")
        #expect(try LakehookDatabase.count(
            "SELECT count(*) FROM dora_deployments WHERE project_name = $1 AND source = 'pipelines'", [f.project]) == 2)
        #expect(try LakehookDatabase.count(
            "SELECT count(*) FROM dora_incidents WHERE project_name = $1", [f.project]) == 4)
        // dora_changes lists every change ever deployed, c9 with D0 (before the window).
        let c9 = try #require(changes.first { $0["commit_sha"] == sha("9") })
        #expect(c9["deployment_id"] == f.b.rowId("D0"))
        let failed = try LakehookDatabase.rows(
            "SELECT deployment_id, recovery_deployment_id, recovery_hours FROM dora_failed_deployments WHERE project_name = $1",
            [f.project])
        #expect(failed.count == 1)
        #expect(failed.first?["deployment_id"] == f.b.rowId("D2") && failed.first?["recovery_deployment_id"] == f.b.rowId("D3")
            && failed.first?["recovery_hours"] == "288", "\(failed)")
    }

    @Test("the lakehook binary's dora --json prints the same figures")
    func binaryJSON() throws {
        let f = try fixture
        let result = try CommandLineBinaryTests.lakehook(["dora", "--project", f.project, "--from", DoraFixture.from, "--to", DoraFixture.to, "--json"])
        #expect(result.status == 0, "\(result.err)")
        let object = try #require(DoraCheck.jsonObject(result.out), "not JSON: \(result.out)")
        DoraCheck.same(DoraCheck.metrics(ofJSON: object), f.expected, "lakehook dora --json")
        let unknown = try CommandLineBinaryTests.lakehook(["dora", "--project", "no-such-project-\(UUID().uuidString)"])
        #expect(unknown.status == 1 && unknown.err.contains("unknown project"), "\(unknown.err)")
    }
}
