import Foundation
import Testing
import Postgres
import TestSupport

/// Tier 4: a real PostgreSQL from the PG* variables. Each test has its own connection and
/// only temp tables, so tests can run in parallel with each other and with other users.
@Suite("PostgresConnection")
struct PostgresConnectionTests {
    @Test("connects and selects a row, by position and by name")
    func select() throws {
        let connection = try TestDatabase.connect()
        let result = try connection.query("SELECT 1 AS one, 'x' AS letter, NULL::text AS nothing")
        #expect(result.columns == ["one", "letter", "nothing"])
        #expect(result.rows.count == 1)
        let row = try #require(result.rows.first)
        #expect(row.count == 3)
        #expect(row[0] == "1" && row["letter"] == "x")
        #expect(row["nothing"] == nil && row.hasColumn("nothing"))
        #expect(row["missing"] == nil && !row.hasColumn("missing"))
        #expect(result.commandTag == "SELECT 1" && result.affectedRows == 1)
        #expect(connection.isHealthy)
        #expect(connection.serverVersion >= 100_000)
        #expect(connection.backendPID > 0)
    }

    @Test("a duplicate column name is found by its first occurrence")
    func duplicateColumns() throws {
        let connection = try TestDatabase.connect()
        let row = try #require(try connection.query("SELECT 1 AS a, 2 AS a").rows.first)
        #expect(row["a"] == "1" && row[1] == "2")
    }

    @Test("parameters travel as text: NULL, unicode, the empty string and 1 MB")
    func parameters() throws {
        let connection = try TestDatabase.connect()
        let unicode = "héllo ✓ 🐘 \u{202E}ﷺ"
        let big = String(repeating: "0123456789abcdef", count: 65_536)  // 1 MiB
        let result = try connection.query(
            "SELECT $1::text IS NULL AS null_ok, $2::text AS unicode, $3::text AS empty, "
                + "$4::text AS big, length($4::text) AS big_length, $3::text IS NULL AS empty_is_null",
            [nil, unicode, "", big]
        )
        let row = try #require(result.rows.first)
        #expect(row["null_ok"] == "t")
        #expect(row["unicode"] == unicode)
        #expect(row["empty"] == "" && row["empty_is_null"] == "f")
        #expect(row["big_length"] == String(big.count))
        #expect(row["big"] == big)
    }

    @Test("a statement is prepared once per connection and reused")
    func preparedOnce() throws {
        let connection = try TestDatabase.connect()
        let sql = "SELECT $1::int + 1 AS next /* \(UUID().uuidString) */"
        for value in 1...3 {
            #expect(try connection.query(sql, [String(value)]).rows.first?["next"] == String(value + 1))
        }
        let count = try connection.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", [sql])
        #expect(count.rows.first?["n"] == "1")
    }

    @Test("a statement whose result type changed (0A000) is prepared again and retried")
    func resultTypeChanged() throws {
        let connection = try TestDatabase.connect()
        try connection.execute(script: "CREATE TEMP TABLE shapes (a int); INSERT INTO shapes VALUES (1)")
        #expect(try connection.query("SELECT * FROM shapes").columns == ["a"])
        try connection.execute(script: "ALTER TABLE shapes ADD COLUMN b text DEFAULT 'x'")
        let result = try connection.query("SELECT * FROM shapes")
        #expect(result.columns == ["a", "b"])
        #expect(result.rows.first?["b"] == "x")
    }

    @Test("a statement deallocated behind the cache (26000) is prepared again and retried")
    func deallocated() throws {
        let connection = try TestDatabase.connect()
        #expect(try connection.query("SELECT 41 + 1 AS answer").rows.first?["answer"] == "42")
        try connection.execute(script: "DEALLOCATE ALL")
        #expect(try connection.query("SELECT 41 + 1 AS answer").rows.first?["answer"] == "42")
    }

    @Test("the statement cache is capped at 256 and keeps working past it")
    func cacheCap() throws {
        let connection = try TestDatabase.connect()
        for value in 0..<300 {
            let result = try connection.query("SELECT \(value) + $1::int AS v", ["1"])
            #expect(result.rows.first?["v"] == String(value + 1))
        }
        let count = try connection.query("SELECT count(*)::int AS n FROM pg_prepared_statements")
        let prepared = try #require(Int(count.rows.first?["n"] ?? ""))
        #expect(prepared <= 257)  // 256 cached + the count query itself, prepared after a clear
        #expect(prepared >= 1)
    }

    @Test("a failed PREPARE is not cached and the same SQL fails the same way again")
    func failedPrepare() throws {
        let connection = try TestDatabase.connect()
        for _ in 0..<2 {
            let error = #expect(throws: PostgresError.self) { try connection.query("SELECT * FROM no_such_table_xyz") }
            #expect(error?.sqlState == "42P01")
        }
        #expect(connection.isHealthy)
    }

    @Test("a NUL byte in a parameter is refused rather than truncated")
    func nulParameter() throws {
        let connection = try TestDatabase.connect()
        let error = #expect(throws: PostgresError.self) {
            try connection.query("SELECT $1::text, $2::text", ["fine", "bad\u{0}tail"])
        }
        #expect(error?.kind == .invalidParameter)
        #expect(error?.message.contains("$2") == true)
        #expect(connection.isHealthy)
    }

    @Test("affectedRows and commandTag report what a write did")
    func writes() throws {
        let connection = try TestDatabase.connect()
        try connection.execute(script: "CREATE TEMP TABLE counted (n int)")
        let insert = try connection.query("INSERT INTO counted SELECT generate_series(1, 3)")
        #expect(insert.affectedRows == 3 && insert.commandTag == "INSERT 0 3")
        let update = try connection.query("UPDATE counted SET n = n + 1 WHERE n > $1::int", ["1"])
        #expect(update.affectedRows == 2 && update.commandTag == "UPDATE 2")
        let create = try connection.query("CREATE TEMP TABLE other (n int)")
        #expect(create.affectedRows == 0 && create.rows.isEmpty)
    }

    @Test("execute runs every statement of a script and reports the first error")
    func script() throws {
        let connection = try TestDatabase.connect()
        try connection.execute(script: """
            CREATE TEMP TABLE scripted (n int);
            INSERT INTO scripted VALUES (1);
            INSERT INTO scripted VALUES (2);
            """)
        #expect(try connection.query("SELECT count(*) AS n FROM scripted").rows.first?["n"] == "2")
        let error = #expect(throws: PostgresError.self) {
            try connection.execute(script: "INSERT INTO scripted VALUES (3); SELECT 1/0; INSERT INTO scripted VALUES (4)")
        }
        #expect(error?.sqlState == "22012")
        // A multi-statement simple query is one implicit transaction: nothing of it stays.
        #expect(try connection.query("SELECT count(*) AS n FROM scripted").rows.first?["n"] == "2")
        #expect(connection.isHealthy)
    }

    @Test("COPY is refused and the connection stays usable")
    func copyRefused() throws {
        let connection = try TestDatabase.connect()
        try connection.execute(script: "CREATE TEMP TABLE copied (n int)")
        let out = #expect(throws: PostgresError.self) { try connection.query("COPY (SELECT 1) TO STDOUT") }
        #expect(out?.kind == .protocolViolation)
        #expect(connection.isHealthy)
        #expect(throws: PostgresError.self) { try connection.execute(script: "COPY copied FROM STDIN") }
        #expect(connection.isHealthy)
        #expect(try connection.query("SELECT 1 AS one").rows.first?["one"] == "1")
    }

    @Test("a query on a connection whose backend was terminated raises connectionLost")
    func terminated() throws {
        let connection = try TestDatabase.connect()
        try TestDatabase.terminate(pid: connection.backendPID)
        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
        #expect(error?.kind == .connectionLost)
        #expect(error?.isUnavailable == true)
        #expect(!connection.isHealthy)
    }

    @Test("the statement timeout is applied to the session")
    func statementTimeoutSetting() throws {
        let connection = try PostgresConnection(config: TestDatabase.config(statementTimeout: .milliseconds(1500)))
        #expect(try connection.query("SHOW statement_timeout").rows.first?[0] == "1500ms")
        let none = try PostgresConnection(config: TestDatabase.config(statementTimeout: nil))
        #expect(try none.query("SHOW application_name").rows.first?[0] == "lakehook-tests")
    }

    @Test("forcesGenericPlans: a prepared statement runs on one generic plan from its first execution")
    func genericPlans() throws {
        var config = TestDatabase.config(statementTimeout: nil)
        #expect(try PostgresConnection(config: config).query("SHOW plan_cache_mode").rows.first?[0] == "auto")
        config.forcesGenericPlans = true
        let connection = try PostgresConnection(config: config)
        #expect(try connection.query("SHOW plan_cache_mode").rows.first?[0] == "force_generic_plan")
        // In auto mode the first five executions would get custom plans (planned each time).
        let sql = "SELECT count(*) FROM generate_series(1, 10) AS s(n) WHERE n < $1::int"
        for _ in 0..<8 { try connection.query(sql, ["5"]) }
        let plans = try connection.query(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1", [sql]
        ).rows.first
        #expect(plans?["generic_plans"] == "8")
        #expect(plans?["custom_plans"] == "0")
    }
}
