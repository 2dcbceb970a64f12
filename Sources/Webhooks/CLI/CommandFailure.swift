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
        let problem = environment["DATABASE_URL"] == nil
            ? "DATABASE_URL is not set, and \(environment["PGHOST"] == nil ? "libpq's default" : "PGHOST") has no database (\(reason))"
            : "DATABASE_URL is set, but no database answers there (\(reason))"
        return """
            cannot reach PostgreSQL: \(problem).
            Set DATABASE_URL to Lakehook's database. The throwaway one of `make run` (its first line prints the \
            value; it keeps running after make run stops, until make db-stop) is:
              export DATABASE_URL=\(devURL)
            """
    }
}
