import Testing
@testable import Postgres

@Suite("PostgresConfig")
struct PostgresConfigTests {
    @Test("fromEnvironment takes DATABASE_URL when it is set and non-empty")
    func databaseURL() {
        let url = "postgres://app:secret@db.internal:5433/hooks"
        #expect(PostgresConfig.fromEnvironment(["DATABASE_URL": url]).conninfo == url)
        #expect(PostgresConfig.fromEnvironment(["DATABASE_URL": ""]).conninfo == "")
        #expect(PostgresConfig.fromEnvironment(["PGHOST": "elsewhere"]).conninfo == "")
    }

    @Test("defaults are lakehook, 5 s to connect and 15 s per statement")
    func defaults() {
        let config = PostgresConfig()
        #expect(config.applicationName == "lakehook")
        #expect(config.connectTimeoutSeconds == 5)
        #expect(config.statementTimeout == .seconds(15))
        #expect(config.statementTimeoutMilliseconds == 15_000)
    }

    @Test("statement timeouts round up to whole milliseconds")
    func millisecondRounding() {
        #expect(PostgresConfig(statementTimeout: .milliseconds(100)).statementTimeoutMilliseconds == 100)
        #expect(PostgresConfig(statementTimeout: .microseconds(1)).statementTimeoutMilliseconds == 1)
        #expect(PostgresConfig(statementTimeout: .zero).statementTimeoutMilliseconds == 0)
        #expect(PostgresConfig(statementTimeout: nil).statementTimeoutMilliseconds == nil)
    }

    @Test("validate accepts an empty conninfo, a URL and a key=value string")
    func validAccepted() throws {
        try PostgresConfig(conninfo: "").validate()
        try PostgresConfig(conninfo: "postgres://u:p@localhost:5432/db?sslmode=disable").validate()
        try PostgresConfig(conninfo: "host=a,b port=5432,5433 dbname=x").validate()
        try PostgresConfig(conninfo: "postgresql://h1,h2:5433/db").validate()
    }

    @Test("validate rejects a malformed URL with libpq's message, without connecting")
    func malformedURL() {
        let error = #expect(throws: PostgresError.self) {
            try PostgresConfig(conninfo: "postgres://localhost/db?no_such_option=1").validate()
        }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.message.contains("no_such_option") == true)
        #expect(error?.isUnavailable == false)

        let bracket = #expect(throws: PostgresError.self) {
            try PostgresConfig(conninfo: "postgresql://[::1/db").validate()
        }
        #expect(bracket?.message.contains("]") == true)
    }

    @Test("validate rejects a key=value string libpq cannot parse and a port that is not a number")
    func malformedKeyValue() {
        #expect(throws: PostgresError.self) { try PostgresConfig(conninfo: "host=x bogus").validate() }
        let port = #expect(throws: PostgresError.self) {
            try PostgresConfig(conninfo: "postgres://localhost:54x2/db").validate()
        }
        #expect(port?.message.contains("54x2") == true)
        #expect(throws: PostgresError.self) { try PostgresConfig(connectTimeoutSeconds: -1).validate() }
    }

    @Test("description never shows the password")
    func redactedDescription() {
        let config = PostgresConfig(conninfo: "postgres://app:hunter2@db:5432/hooks")
        #expect(!config.description.contains("hunter2"))
        #expect(config.description.contains("password=***"))
        #expect(config.description.contains("host=db"))
    }
}
