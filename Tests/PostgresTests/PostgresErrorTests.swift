import Testing
@testable import Postgres

@Suite("PostgresError")
struct PostgresErrorTests {
    @Test("description is one short line; debugDescription has everything and the call site")
    func descriptions() {
        let error = PostgresError(
            kind: .server,
            sqlState: "23505",
            message: "duplicate key value violates unique constraint \"issues_pkey\"",
            detail: "Key (id)=(42) already exists.",
            constraint: "issues_pkey",
            file: "Webhooks/IssueUpsert.swift",
            line: 12
        )
        #expect(error.description == "23505 duplicate key value violates unique constraint \"issues_pkey\"")
        #expect(!error.description.contains("42"))
        #expect(error.debugDescription.contains("Key (id)=(42) already exists."))
        #expect(error.debugDescription.contains("Webhooks/IssueUpsert.swift:12"))
        #expect(error.debugDescription.contains("issues_pkey"))
    }

    @Test("a libpq error without SQLSTATE is described by kind and its first line")
    func libpqDescription() {
        let error = PostgresError(kind: .connectionFailed, message: "connection refused\n\tIs the server running?")
        #expect(error.description == "connectionFailed: connection refused")
    }

    @Test("isUnavailable holds for classes 08 and 53, shutdowns and the pool's own failures")
    func unavailable() {
        for state in ["08006", "08001", "53300", "53100", "57P01", "57P02", "57P03"] {
            #expect(PostgresError(kind: .server, sqlState: state, message: "x").isUnavailable, "\(state)")
        }
        for kind: PostgresError.Kind in [.connectionFailed, .connectionLost, .poolTimeout, .poolClosed] {
            #expect(PostgresError(kind: kind, message: "x").isUnavailable, "\(kind)")
        }
        #expect(PostgresError(kind: .transactionCommit, message: "x", connectionBroken: true).isUnavailable)
    }

    @Test("isUnavailable is false for errors of the statement or the data")
    func available() {
        for state in ["23505", "42601", "22012", "57014", "40001", "25P02"] {
            #expect(!PostgresError(kind: .server, sqlState: state, message: "x").isUnavailable, "\(state)")
        }
        #expect(!PostgresError(kind: .invalidParameter, message: "x").isUnavailable)
        #expect(!PostgresError(kind: .transactionCommit, sqlState: "25P02", message: "x").isUnavailable)
    }

    @Test("only 26000 and the changed-result-type 0A000 count as a stale prepared statement")
    func stale() {
        #expect(PostgresError(kind: .server, sqlState: "26000", message: "prepared statement \"x\" does not exist")
            .isStalePreparedStatement)
        #expect(PostgresError(kind: .server, sqlState: "0A000", message: "cached plan must not change result type")
            .isStalePreparedStatement)
        #expect(!PostgresError(kind: .server, sqlState: "0A000", message: "something else unsupported")
            .isStalePreparedStatement)
        #expect(!PostgresError(kind: .connectionLost, sqlState: "26000", message: "x", connectionBroken: true)
            .isStalePreparedStatement)
    }
}
