/// Small SQL fragments shared by statements.
enum SQLText {
    /// A `timestamptz` column rendered as RFC 3339 in UTC, named after the column, whatever the session's TimeZone.
    static func iso8601(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS \(column)"
    }
}
