import Foundation
import Testing
@testable import Postgres
import TestSupport

/// Tier 4: a real PostgreSQL. Each test has its own batch connection and only temp tables.
@Suite("PostgresBatchConnection")
struct PostgresBatchConnectionTests {
    static func values(_ outcome: PostgresBatchConnection.Outcome) -> [[String?]]? {
        if case .success(let result) = outcome { return result.rows.map(\.values) }
        return nil
    }

    @Test("a batch's results come back in order, built as PostgresConnection.query builds them; statements are prepared once")
    func inOrder() throws {
        let batch = try PostgresBatchConnection(config: TestDatabase.config())
        let sql = "SELECT $1::int * 2 AS doubled, $2::text AS label"
        let outcomes = try batch.run((0..<500).map { (sql, [String($0), $0 % 3 == 0 ? nil : "row \($0)"]) })
        #expect(outcomes.count == 500)
        #expect(Self.values(outcomes[7]) == [["14", "row 7"]] && Self.values(outcomes[9]) == [["18", nil]])
        let expected = try TestDatabase.connect().query(sql, ["7", "row 7"])
        if case .success(let result) = outcomes[7] {
            #expect(result.columns == expected.columns && result.commandTag == expected.commandTag)
        }
        let again = try batch.run([(sql, ["1", "x"]), ("SELECT count(*) FROM pg_prepared_statements", [])])
        #expect(Self.values(again[0]) == [["2", "x"]])
        #expect(Self.values(again[1]) == [["2"]], "each text prepared once, however often it ran")
        #expect(try batch.run([]).isEmpty)
    }

    @Test("a failing statement fails alone, the rest of its batch is skipped, and inside BEGIN the caller rolls back")
    func failureSkipsTheRest() throws {
        let batch = try PostgresBatchConnection(config: TestDatabase.config())
        let table = TestDatabase.uniqueName("batch")
        _ = try batch.run([("CREATE TEMP TABLE \(table) (n int PRIMARY KEY)", [])])
        let insert = "INSERT INTO \(table) VALUES ($1::int)"
        let outcomes = try batch.run([("BEGIN", []), (insert, ["1"]), (insert, ["1"]), (insert, ["2"]), ("COMMIT", [])])
        guard case .failure(let error) = outcomes[2] else { Issue.record("\(outcomes[2])"); return }
        #expect(error.sqlState == "23505")
        if case .skipped = outcomes[3], case .skipped = outcomes[4] {} else { Issue.record("not skipped: \(outcomes)") }
        _ = try batch.run([("ROLLBACK", [])])
        #expect(Self.values(try batch.run([("SELECT count(*) FROM \(table)", [])])[0]) == [["0"]])

        // A statement the server cannot prepare fails the same way, and is prepared again next time.
        let bad = try batch.run([("SELECT 1", []), ("SELEC nothing", []), ("SELECT 2", [])])
        guard case .failure(let syntax) = bad[1] else { Issue.record("\(bad[1])"); return }
        #expect(syntax.sqlState == "42601")
        if case .skipped = bad[2] {} else { Issue.record("\(bad[2])") }
        let retried = try batch.run([("SELEC nothing", [])])
        if case .failure = retried[0] {} else { Issue.record("\(retried[0])") }
        #expect(Self.values(try batch.run([(insert, ["3"]), ("SELECT n FROM \(table)", [])])[1]) == [["3"]])
    }

    @Test("a NUL byte is refused before anything is sent; a batch larger than the socket buffers completes")
    func nulAndLargeBatches() throws {
        let batch = try PostgresBatchConnection(config: TestDatabase.config())
        #expect(throws: PostgresError.self) { try batch.run([("SELECT $1::text", ["a\u{0}b"])]) }
        let large = String(repeating: "x", count: 4096)
        let outcomes = try batch.run((0..<3000).map { _ in ("SELECT length($1::text) AS n", [large]) })
        #expect(outcomes.allSatisfy { Self.values($0) == [["4096"]] })
    }
}
