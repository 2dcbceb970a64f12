import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// Issue 16: history moves between instances (`lakehook export` here, `lakehook import` there),
/// and NDJSON is imported as its HTTP requests would be, each line journaled.
@Suite("lakehook import and export")
struct JournalImportExportTests {
    static func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lakehook-\(UUID().uuidString).ndjson").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("export from one database and import into a fresh one writes the same domain rows and journal")
    func exportThenImportGivesTheSameRows() throws {
        let source = try ScratchDatabase("export")
        defer { source.drop() }
        let names = try JournalHistory.record(on: source)
        let exported = try source.lakehook(["export"])
        #expect(exported.status == 0, "\(exported.err)")
        let lines = exported.out.split(separator: "\n")
        #expect(lines.count == 19, "the accepted events, not the refused or duplicate ones")
        #expect(exported.err.contains("export: 19 events"), "\(exported.err)")
        #expect(lines.allSatisfy { $0.contains(#""connectionId":"#) && $0.contains(#""receivedAt":"#) })

        let target = try ScratchDatabase("import")
        defer { target.drop() }
        let migrated = try target.lakehook(["migrate"])
        #expect(migrated.status == 0 && migrated.out.contains("up to date"), "\(migrated.out)\(migrated.err)")
        // The same connections, in the same order: the same ids there.
        let store = DevLakeConnectionStore(pool: target.pool)
        for (index, name) in names.enumerated() {
            #expect(try store.create(name: name).0.id == Int64(index + 1))
        }
        let path = try Self.file(exported.out)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let imported = try target.lakehook(["import", path])
        #expect(imported.status == 0, "\(imported.out)\(imported.err)")
        #expect(imported.out.hasPrefix("import: 19 lines applied, 0 refused"), "\(imported.out)")

        let differences = DomainSnapshot.differences(
            expected: try DomainSnapshot.take(source, excludingConnectionBoards: true),
            actual: try DomainSnapshot.take(target, excludingConnectionBoards: true))
        let sameRows = differences.isEmpty
        #expect(sameRows, """
            the imported rows differ; columns that differ: \(DomainSnapshot.columns(differences).joined(separator: ", "))
            \(differences.prefix(60).joined(separator: "\n"))
            """)
        let journal = """
            SELECT received_at, connection_id, route, params, body, outcome FROM webhook_events
            WHERE outcome IN ('applied', 'stale') ORDER BY received_at, id
            """
        #expect(try source.rows(journal).map(\.values) == target.rows(journal).map(\.values), "the journal moved with the rows")
        // And back out, the same lines.
        #expect(try target.lakehook(["export"]).out == exported.out)
    }

    @Test("import reports every refused line with its number and cause, applies and journals the others, and exits 1")
    func importRefusals() throws {
        let database = try ScratchDatabase("import_refusals")
        defer { database.drop() }
        // A real server error on a line that passes decoding (no valid payload fails in the
        // database by itself): it must cost the lines around it in its batch nothing.
        try database.pool.withConnection { db in
            try db.execute(script: "ALTER TABLE issues ADD CONSTRAINT refuses_poison CHECK (title IS DISTINCT FROM 'poison')")
        }
        let (connection, _) = try DevLakeConnectionStore(pool: database.pool).create(name: "importer")
        let id = connection.id
        let deployment = #"{"id":"D1","startedDate":"2024-01-03T09:00:00Z","finishedDate":"2024-01-03T09:10:00Z","deploymentCommits":[{"repoUrl":"https://github.com/example/shop","commitSha":"abc"}]}"#
        let input = [
            #"{"route":"issues","connectionId":\#(id),"body":\#(RoutesTests.issue("C-1"))}"#,
            "not json",
            #"{"route":"issues","connectionId":\#(id),"body":{"issue_key":"C-2","status":"TODO","original_status":"o","created_date":"2024-01-01"}}"#,
            "",
            #"{"route":"issuez","connectionId":\#(id),"body":{}}"#,
            #"{"route":"issue/:issueKey/close","connectionId":\#(id),"params":{"issueKey":"NOPE"}}"#,
            #"{"route":"issues","connectionId":\#(id),"body":\#(RoutesTests.issue("C-3").replacingOccurrences(of: #""title":"t""#, with: #""title":"poison""#))}"#,
            #"{"route":"deployments","connectionId":\#(id),"body":\#(deployment),"receivedAt":"2024-02-01T00:00:00.5Z"}"#,
            #"{"route":"issues","connectionId":\#(id),"body":\#(RoutesTests.issue("C-4"))}"#,
            #"{"route":"issues","body":\#(RoutesTests.issue("C-5"))}"#,
            #"{"route":"issues","connectionId":999,"body":\#(RoutesTests.issue("C-6"))}"#,
            #"{"route":"issue/:issueKey/close","connectionId":\#(id),"params":{"issueKey":"C-1"}}"#,
        ].joined(separator: "\n") + "\n"
        let path = try Self.file(input)
        defer { try? FileManager.default.removeItem(atPath: path) }

        let result = try database.lakehook(["import", path])
        #expect(result.status == 1, "some lines were refused: exit status 1")
        #expect(result.out.hasPrefix("import: 4 lines applied, 7 refused"), "\(result.out)")
        for expected in [
            "  line 2 (no route): 400 the line is not JSON",
            "  line 3 (issues): 400 the request body has an invalid field: title: is required",
            "  line 5 (issuez): 404 unknown route \"issuez\"",
            "  line 6 (issue/:issueKey/close): 404 unknown issue \"NOPE\"",
            "  line 7 (issues): 422 the database refused it: 23514",
            "  line 10 (issues): 400 connectionId: is required when import is given no --connection",
            "  line 11 (issues): 404 connection 999 does not exist here",
        ] {
            #expect(result.out.contains(expected), "\(expected)\nin:\n\(result.out)")
        }
        #expect(!result.out.contains("line 1 (") && !result.out.contains("line 4 ") && !result.out.contains("line 8 ") && !result.out.contains("line 9 "))
        #expect(result.err.contains("lakehook: 7 of 11 lines refused"), "\(result.err)")
        #expect(!result.err.contains("\r"))

        #expect(try database.rows("SELECT id, status FROM issues ORDER BY id").map(\.values) == [
            ["webhook:\(id):C-1", "DONE"], ["webhook:\(id):C-4", "TODO"],
        ])
        #expect(try database.count("SELECT count(*) FROM cicd_deployments") == 1)
        #expect(try database.rows("SELECT request_id, route, status, outcome FROM webhook_events ORDER BY request_id").map(\.values) == [
            ["import:1", "issues", "200", "applied"],
            ["import:12", "issue/:issueKey/close", "200", "applied"],
            ["import:3", "issues", "400", "refused"],
            ["import:6", "issue/:issueKey/close", "404", "refused"],
            ["import:7", "issues", "422", "refused"],
            ["import:8", "deployments", "200", "applied"],
            ["import:9", "issues", "200", "applied"],
        ], "every line with a known connection and route is journaled, with its outcome")
        #expect(try database.rows("SELECT received_at = '2024-02-01T00:00:00.5Z' FROM webhook_events WHERE request_id = 'import:8'").first?[0] == "t",
                "receivedAt is the line's arrival")
    }

    @Test("import --dry-run checks every line and writes nothing: no rows, no journal")
    func importDryRunWritesNothing() throws {
        let database = try ScratchDatabase("import_dry")
        defer { database.drop() }
        let (connection, _) = try DevLakeConnectionStore(pool: database.pool).create(name: "dry")
        let before = try DomainSnapshot.take(database)
        let input = [
            #"{"route":"issues","body":\#(RoutesTests.issue("X-1"))}"#,
            #"{"route":"issue/:issueKey/close","params":{"issueKey":"X-1"}}"#,
            #"{"route":"pull_requests","body":{"pullRequestKey":"nine"}}"#,
        ].joined(separator: "\n")
        let path = try Self.file(input)
        defer { try? FileManager.default.removeItem(atPath: path) }

        let dry = try database.lakehook(["import", path, "--connection", connection.name, "--dry-run"])
        #expect(dry.status == 1, "a line would be refused")
        #expect(dry.out.hasPrefix("import --dry-run: 2 lines would be applied, 1 refused; nothing was written"), "\(dry.out)")
        #expect(dry.out.contains("  issues: 1\n") && dry.out.contains("  line 3 (pull_requests): 400"), "\(dry.out)")
        #expect(DomainSnapshot.differences(expected: before, actual: try DomainSnapshot.take(database)).isEmpty)
        #expect(try database.count("SELECT count(*) FROM webhook_events") == 0)

        let real = try database.lakehook(["import", path, "--connection", String(connection.id)])
        #expect(real.status == 1 && real.out.hasPrefix("import: 2 lines applied, 1 refused"), "\(real.out)\(real.err)")
        #expect(try database.count("SELECT count(*) FROM issues WHERE status = 'DONE'") == 1)
    }

    @Test("import reads standard input, and tells a missing file and bad options apart")
    func importInputsAndUsage() throws {
        let missing = try CommandLineBinaryTests.lakehook(["import", "/no/such/file.ndjson", "--connection", "1"])
        #expect(missing.status == 1 && missing.err.contains("cannot read /no/such/file.ndjson"), "\(missing.err)")
        let usage = try CommandLineBinaryTests.lakehook(["import"])
        #expect(usage.status == 2 && usage.err.contains("import reads one FILE"), "\(usage.err)")
        let help = try CommandLineBinaryTests.lakehook(["import", "--help"])
        #expect(help.status == 0 && help.out.contains("1 when some were refused"))
        let all = try CommandLineBinaryTests.lakehook(["--help"])
        #expect(all.out.contains("lakehook replay") && all.out.contains("lakehook import") && all.out.contains("lakehook export"))

        let database = try ScratchDatabase("import_stdin")
        defer { database.drop() }
        let (connection, _) = try DevLakeConnectionStore(pool: database.pool).create(name: "stdin")
        let run = try runProgram(
            [CommandLineBinaryTests.binary.path, "import", "-", "--connection", connection.name],
            environment: ProcessInfo.processInfo.environment.merging(["DATABASE_URL": database.conninfo]) { _, new in new },
            input: #"{"route":"issues","body":\#(RoutesTests.issue("S-1"))}"# + "\n")
        let out = run.out
        #expect(run.status == 0 && out.hasPrefix("import: 1 line applied, 0 refused"), "\(out)")
        #expect(try database.count("SELECT count(*) FROM issues") == 1)
    }
}
