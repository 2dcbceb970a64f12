import Testing
import Postgres
import TestSupport

@Suite("PostgresConnection.transaction")
struct PostgresTransactionTests {
    /// A real (not temp) table, so another connection can check what was committed.
    private func withTable(_ body: (String, PostgresConnection) throws -> Void) throws {
        let table = TestDatabase.uniqueName("tx")
        let connection = try TestDatabase.connect()
        try connection.execute(script: "CREATE TABLE \(table) (id int PRIMARY KEY)")
        defer { try? connection.execute(script: "DROP TABLE IF EXISTS \(table)") }
        try body(table, connection)
    }

    private func committedCount(_ table: String) throws -> String? {
        try TestDatabase.connect().query("SELECT count(*) AS n FROM \(table)").rows.first?["n"]
    }

    @Test("the body's writes are committed and its value returned")
    func commits() throws {
        try withTable { table, connection throws in
            let value = try connection.transaction { connection in
                try connection.query("INSERT INTO \(table) VALUES ($1::int), ($2::int)", ["1", "2"]).affectedRows
            }
            #expect(value == 2)
            #expect(try committedCount(table) == "2")
            #expect(connection.isHealthy)
        }
    }

    @Test("an error thrown by the body rolls back and is rethrown as is")
    func bodyThrows() throws {
        try withTable { table, connection throws in
            #expect(throws: BodyError()) {
                try connection.transaction { connection in
                    try connection.query("INSERT INTO \(table) VALUES (1)")
                    throw BodyError()
                }
            }
            #expect(try committedCount(table) == "0")
            #expect(connection.isHealthy)
        }
    }

    @Test("a failed statement swallowed by the body still rolls everything back and throws")
    func swallowedFailure() throws {
        try withTable { table, connection throws in
            let error = try #require(#expect(throws: PostgresError.self) {
                try connection.transaction { connection in
                    try connection.query("INSERT INTO \(table) VALUES (1)")
                    _ = try? connection.query("INSERT INTO \(table) VALUES (1)")  // 23505, ignored
                    _ = try? connection.query("INSERT INTO \(table) VALUES (2)")  // 25P02, ignored
                }
            })
            #expect(error.kind == .transactionCommit)
            #expect(error.sqlState == "25P02")
            #expect(try committedCount(table) == "0")
            #expect(connection.isHealthy)
        }
    }

    @Test("a deferred constraint that fails at COMMIT is a transactionCommit error with its SQLSTATE")
    func commitFails() throws {
        let connection = try TestDatabase.connect()
        try connection.execute(script: "CREATE TEMP TABLE deferred (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
        let error = try #require(#expect(throws: PostgresError.self) {
            try connection.transaction { connection in
                try connection.query("INSERT INTO deferred VALUES (1), (1)")
            }
        })
        #expect(error.kind == .transactionCommit)
        #expect(error.sqlState == "23505")
        #expect(try connection.query("SELECT count(*) AS n FROM deferred").rows.first?["n"] == "0")
        #expect(connection.isHealthy)
    }

    @Test("a body that ends the transaction itself gets an error, not a silent success")
    func bodyEndsTransaction() throws {
        let connection = try TestDatabase.connect()
        let error = #expect(throws: PostgresError.self) {
            try connection.transaction { connection in try connection.execute(script: "ROLLBACK") }
        }
        #expect(error?.kind == .transactionCommit)
        #expect(connection.isHealthy)
    }

    @Test("BEGIN on a dead connection is a transactionBegin error that is isUnavailable")
    func beginFails() throws {
        let connection = try TestDatabase.connect()
        try TestDatabase.terminate(pid: connection.backendPID)
        let error = #expect(throws: PostgresError.self) {
            try connection.transaction { _ in Issue.record("the body must not run") }
        }
        #expect(error?.kind == .transactionBegin)
        #expect(error?.isUnavailable == true)
    }

    @Test("nesting transaction() is a programmer error and traps")
    func nestedTraps() async {
        await #expect(processExitsWith: .failure) {
            let connection = try! TestDatabase.connect()
            _ = try? connection.transaction { connection in
                try connection.transaction { _ in }
            }
        }
    }
}
