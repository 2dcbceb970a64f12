import Testing
import Postgres
import TestSupport

@Suite("Errors from a real server")
struct PostgresErrorReportingTests {
    @Test("a unique violation carries 23505, the constraint and the detail")
    func uniqueViolation() throws {
        let connection = try TestDatabase.connect()
        try connection.execute(script: "CREATE TEMP TABLE uniq (id int CONSTRAINT uniq_id_key UNIQUE)")
        try connection.query("INSERT INTO uniq VALUES ($1::int)", ["7"])
        let error = try #require(#expect(throws: PostgresError.self) {
            try connection.query("INSERT INTO uniq VALUES ($1::int)", ["7"])
        })
        #expect(error.kind == .server)
        #expect(error.sqlState == "23505")
        #expect(error.constraint == "uniq_id_key")
        #expect(error.detail == "Key (id)=(7) already exists.")
        #expect(error.description == "23505 duplicate key value violates unique constraint \"uniq_id_key\"")
        #expect(error.line > 0 && error.file.hasSuffix("PostgresErrorReportingTests.swift"))
        #expect(!error.isUnavailable)
        #expect(connection.isHealthy)
    }

    @Test("a syntax error carries 42601")
    func syntaxError() throws {
        let connection = try TestDatabase.connect()
        let error = #expect(throws: PostgresError.self) { try connection.query("SELEC 1") }
        #expect(error?.sqlState == "42601")
        #expect(error?.message.contains("syntax error") == true)
        #expect(error?.isUnavailable == false)
    }

    @Test("division by zero carries 22012, from query and from execute")
    func divisionByZero() throws {
        let connection = try TestDatabase.connect()
        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT 1 / $1::int", ["0"]) }
        #expect(error?.sqlState == "22012")
        #expect(error?.isUnavailable == false)
        let scripted = #expect(throws: PostgresError.self) { try connection.execute(script: "SELECT 1/0") }
        #expect(scripted?.sqlState == "22012")
    }

    @Test("a hint is carried when the server gives one")
    func hint() throws {
        let connection = try TestDatabase.connect()
        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT no_such_function_xyz(1)") }
        #expect(error?.sqlState == "42883")
        #expect(error?.hint?.isEmpty == false)
    }

    @Test("connecting to a closed port fails with connectionFailed, which is isUnavailable")
    func closedPort() {
        let config = PostgresConfig(conninfo: "host=127.0.0.1 port=1 dbname=postgres user=postgres", connectTimeoutSeconds: 2)
        let error = #expect(throws: PostgresError.self) { try PostgresConnection(config: config) }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.isUnavailable == true)
        #expect(error?.message.contains("port 1") == true)
    }

    @Test("a malformed conninfo fails to connect with libpq's message")
    func malformedConnect() {
        let error = #expect(throws: PostgresError.self) {
            try PostgresConnection(config: PostgresConfig(conninfo: "postgres://localhost/db?no_such_option=1"))
        }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.contains("no_such_option") == true)
    }
}
