/// Small SQL fragments shared by statements.
enum SQLText {
    /// A `timestamptz` column rendered as RFC 3339 in UTC, named after the column, whatever the session's TimeZone.
    static func iso8601(_ column: String) -> String {
        "\(utc(column)) AS \(column)"
    }

    /// A `timestamptz` expression rendered as RFC 3339 in UTC with microseconds (`storedDate` reads it back).
    static func utc(_ expression: String) -> String {
        "to_char(\(expression) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    }

    /// A date `utc` rendered, spelled as answers spell a posted date (`Timestamp.iso8601`: no
    /// fraction when it is zero), so that a reason names a stored and a posted date alike.
    static func storedDate(_ text: String?) -> String {
        guard let text else { return "none" }
        return TimestampParser.parse(text)?.iso8601 ?? text
    }
}
