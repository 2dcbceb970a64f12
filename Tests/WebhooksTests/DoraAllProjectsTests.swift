import Foundation
import Postgres
import Testing
@testable import Webhooks

/// Reports of every project at once, in a database of its own (the shared test database holds a
/// project per test connection).
@Suite("DORA metrics of every project")
struct DoraAllProjectsTests {
    @Test("without a project: the CLI, /api/dora and the page cover every project, in name order")
    func everyProject() throws {
        try MigrationTests.withFreshDatabase { config in
            let db = try PostgresConnection(config: config)
            try Migrator.migrate(db)
            let server = try TestServer(config: config)
            defer { server.stop() }
            #expect(try DoraCheck.cli(["--json"], database: config) == "[]")
            #expect(try server.admin("GET", "/dora").text.contains("No projects yet"))

            let web = try server.createConnection("web", project: "zeta shop")
            let api = try server.createConnection("api", project: nil)
            try web.deployment("D1", commits: [DoraCheck.sha("1")], started: "2024-03-04T10:00:00Z", finished: "2024-03-04T11:00:00Z")
            try api.deployment("D1", commits: [DoraCheck.sha("1")], started: "2024-03-05T10:00:00Z", finished: "2024-03-05T11:00:00Z")

            let output = try DoraCheck.cli(["--from", "2024-03-04", "--to", "2024-04-01", "--json"], database: config)
            guard case .array(let reports)? = try? JSONParser.parse(Array(output.utf8)) else {
                Issue.record("not a JSON array: \(output)"); return
            }
            let names = reports.compactMap { if case .object(let o) = $0, case .string(let n)? = o["project"] { n } else { nil } }
            #expect(names == ["api", "zeta shop"])
            let table = try DoraCheck.cli(["--from", "2024-03-04", "--to", "2024-04-01"], database: config)
            #expect(table.contains("Project api:") && table.contains("Project zeta shop:"))

            let http = try server.admin("GET", "/api/dora?from=2024-03-04&to=2024-04-01")
            guard case .array(let items)? = http.json?["data"] else { Issue.record("\(http.text)"); return }
            #expect(items.count == 2)
            let named = try server.admin("GET", "/api/dora?project=zeta+shop&from=2024-03-04&to=2024-04-01")
            #expect(named.status == 200 && named.data?["project"] == .string("zeta shop"))

            let index = try server.admin("GET", "/dora?from=2024-03-04&to=2024-04-01")
            #expect(index.status == 200)
            #expect(index.text.contains(#"href="/dora?project=zeta%20shop""#) && index.text.contains(#"href="/dora?project=api""#))

            let settings = try DoraCheck.cli(["settings"], database: config)
            #expect(settings.contains("api\t7 days (default)") && settings.contains("zeta shop\t7 days (default)"), "\(settings)")
        }
    }
}
