import Foundation

/// What Grafana does to a PostgreSQL panel's SQL before PostgreSQL sees it, so that the tests run
/// the dashboard's queries as Grafana would. Grafana itself cannot run here.
///
/// 1. In the browser, template variables: `templateSrv.replace(rawSql, scopedVars,
///    interpolateVariable)` with the SQL data sources' `interpolateVariable`
///    (grafana/grafana, packages/grafana-sql/src/datasource/SqlDatasource.ts): a single-value
///    variable goes in as it is, its single quotes doubled, without quotes of its own; a multi-value
///    or include-all one is quoted (`'a','b'`). The forms are `$name`, `${name}` and `[[name]]`;
///    a `$word` that names no variable (`$__timeFrom`) is left for the next step.
/// 2. In the server, macros (grafana/grafana, pkg/tsdb/grafana-postgresql-datasource/macros.go,
///    `postgresMacroEngine.Interpolate` and `evaluateMacro`): every match of
///    `\$([_a-zA-Z0-9]+)\(([^\)]*)\)`, arguments split at commas and trimmed of spaces:
///    - `$__timeFrom()`, `$__timeTo()`: `'<time>'`, the range's end in UTC as Go's RFC3339Nano
///      (`2024-03-04T00:00:00Z`, fractional seconds without trailing zeros), a quoted literal;
///    - `$__timeFilter(col)`: `col BETWEEN '<from>' AND '<to>'` (both ends included);
///    - `$__timeGroup(col, '5m')`: `floor(extract(epoch from col)/300)*300` (seconds printed as
///      Go's %v prints a float64: 300, not 300.0), and `AS "time"` added when a comma follows the
///      macro (the pre-5.3 form) or for `$__timeGroupAlias`;
///    - `$__time(col)`: `col AS "time"`; `$__timeEpoch(col)`: `extract(epoch from col) as "time"`;
///    - any other name: an error ("unknown macro"), as Grafana answers.
///    TimescaleDB's `time_bucket` form and the fill modes are not used here.
enum GrafanaMacros {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// A dashboard variable's current value(s) and whether it is multi-value or include-all.
    struct Variable {
        var values: [String]
        var multi = false
    }

    static func expand(_ sql: String, from: Date, to: Date, variables: [String: Variable]) throws -> String {
        try macros(in: templateVariables(in: sql, variables), from: from, to: to)
    }

    // MARK: - Step 1, the browser's template variables

    static func templateVariables(in sql: String, _ variables: [String: Variable]) -> String {
        // templateSrv's regex: $name | [[name(:format)]] | ${name(.path)(:format)}
        let pattern = #"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}"#
        return replacing(pattern, in: sql) { groups in
            guard let name = groups[1] ?? groups[2] ?? groups[4], let variable = variables[name] else { return nil }
            if !variable.multi, variable.values.count == 1 {
                return variable.values[0].replacingOccurrences(of: "'", with: "''")
            }
            return variable.values.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }.joined(separator: ",")
        }
    }

    // MARK: - Step 2, the data source's macros

    static func macros(in sql: String, from: Date, to: Date) throws -> String {
        var failure: Failure?
        let expanded = replacing(#"\$([_a-zA-Z0-9]+)\(([^\)]*)\)"#, in: sql) { groups in
            guard var name = groups[1], let whole = groups[0] else { return nil }
            // macros.go: "$__timeGroup(...)," is the old form that means $__timeGroupAlias. It looks
            // at the first occurrence of the same text, as strings.Index does.
            if name == "__timeGroup", let range = sql.range(of: whole), sql[range.upperBound...].first == "," {
                name = "__timeGroupAlias"
            }
            let arguments = (groups[2] ?? "").split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " ")) }
            do {
                return try evaluate(name, arguments, from: from, to: to)
            } catch let error as Failure {
                if failure == nil { failure = error }
                return "macro_error()"
            } catch {
                return "macro_error()"
            }
        }
        if let failure { throw failure }
        return expanded
    }

    static func evaluate(_ name: String, _ arguments: [String], from: Date, to: Date) throws -> String {
        func column() throws -> String {
            guard let first = arguments.first, !(arguments.count == 1 && first.isEmpty) else {
                throw Failure(description: "missing time column argument for macro \(name)")
            }
            return first
        }
        switch name {
        case "__time": return "\(try column()) AS \"time\""
        case "__timeEpoch": return "extract(epoch from \(try column())) as \"time\""
        case "__timeFilter": return "\(try column()) BETWEEN '\(rfc3339Nano(from))' AND '\(rfc3339Nano(to))'"
        case "__timeFrom": return "'\(rfc3339Nano(from))'"
        case "__timeTo": return "'\(rfc3339Nano(to))'"
        case "__timeGroup":
            guard arguments.count >= 2 else {
                throw Failure(description: "macro \(name) needs time column and interval and optional fill value")
            }
            guard arguments.count == 2 else { throw Failure(description: "fill modes are not modelled here") }
            let seconds = try intervalSeconds(arguments[1].trimmingCharacters(in: CharacterSet(charactersIn: "'")))
            return "floor(extract(epoch from \(arguments[0]))/\(seconds))*\(seconds)"
        case "__timeGroupAlias":
            return try evaluate("__timeGroup", arguments, from: from, to: to) + " AS \"time\""
        default:
            throw Failure(description: "unknown macro \"\(name)\"")
        }
    }

    /// gtime.ParseInterval for the units a dashboard uses (s, m, h, d, w), in seconds as Go's %v
    /// prints a whole float64.
    static func intervalSeconds(_ text: String) throws -> String {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
        guard let unit = text.last, let factor = units[unit], let count = Int(text.dropLast()) else {
            throw Failure(description: "error parsing interval \(text)")
        }
        return String(count * factor)
    }

    /// Go's `t.UTC().Format(time.RFC3339Nano)`: seconds' fraction without trailing zeros, "Z".
    static func rfc3339Nano(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = Int(milliseconds.quotientAndRemainder(dividingBy: 1000).quotient)
        let fraction = Int(milliseconds - Int64(seconds) * 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        var text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        if fraction != 0 {
            var digits = String(format: "%03d", fraction)
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "Z"
    }

    /// Replaces every match of `pattern`; `replacement` gets the groups (0 = the whole match) and
    /// answers nil to leave a match as it is.
    private static func replacing(_ pattern: String, in text: String, _ replacement: ([String?]) -> String?) -> String {
        let expression = try! NSRegularExpression(pattern: pattern)
        let source = text as NSString
        var output = ""
        var position = 0
        for match in expression.matches(in: text, range: NSRange(location: 0, length: source.length)) {
            let groups: [String?] = (0..<match.numberOfRanges).map { index in
                let range = match.range(at: index)
                return range.location == NSNotFound ? nil : source.substring(with: range)
            }
            output += source.substring(with: NSRange(location: position, length: match.range.location - position))
            output += replacement(groups) ?? source.substring(with: match.range)
            position = match.range.location + match.range.length
        }
        output += source.substring(from: position)
        return output
    }
}
