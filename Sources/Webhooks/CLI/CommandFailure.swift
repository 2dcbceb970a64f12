import Postgres

/// What the command line prints when a command fails: a sentence a person can act on, not a
/// status code or libpq's socket message alone.
public struct CommandFailure: Error, CustomStringConvertible {
    public var description: String

    /// `error` as the CLI tells it. A database that cannot be reached names DATABASE_URL and the
    /// value `make run` prints; a refusal lists its causes.
    static func from(_ error: any Error, environment: [String: String]) -> any Error {
        switch error {
        case let error as PostgresError where error.kind == .connectionFailed:
            return CommandFailure(description: unreachable(error, environment: environment))
        case let error as WebhookError:
            let causes = error.causes.isEmpty ? "" : ":\n" + error.causes.map { "  \($0)" }.joined(separator: "\n")
            return CommandFailure(description: error.message + causes)
        default:
            return error
        }
    }

    static func unreachable(_ error: PostgresError, environment: [String: String]) -> String {
        // libpq's first line says where it tried ("connection to server on socket ... failed: ...").
        let reason = error.message.split(separator: "\n").first.map(String.init) ?? error.message
        let devURL = "postgres://postgres@127.0.0.1:\(environment["LAKEHOOK_DEV_PGPORT"] ?? "54329")/lakehook"
        let setting = environment["DATABASE_URL"].map { _ in "DATABASE_URL is set, but" } ?? "DATABASE_URL is not set, and"
        return """
            cannot reach PostgreSQL: \(setting) no database answers where it points (\(reason)).
            Set DATABASE_URL to Lakehook's database. For the throwaway one that `make run` starts (its first line \
            prints the value; `make run` must be running, or start the database alone with scripts/dev-postgres.sh start):
              export DATABASE_URL=\(devURL)
            """
    }
}
