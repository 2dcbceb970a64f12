import Postgres

/// Reads DORA reports and settings from the views and `dora_report` of sql/migrations/0003_dora.sql.
/// Every figure comes from the database; this type only carries it.
public struct DoraStore: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    /// One project's report: `dora_report($1, $2, $3)`.
    static let reportSQL = """
        SELECT metric, value, unit, level, numerator, denominator, to_json(ids)::text AS ids
        FROM dora_report($1, $2::timestamptz, $3::timestamptz)
        """

    /// Every project: the connections' projects, and the connections without one.
    static let projectsSQL = """
        SELECT project_name FROM (SELECT DISTINCT project_name FROM dora_project_connections) AS p
        ORDER BY project_name COLLATE "C"
        """

    /// Every project's report in one statement, so that one `statement_timeout` bounds them all
    /// (one statement per project, each under the timeout, could hold a connection that many times
    /// as long). Projects in name order, each project's metrics in `dora_report`'s order.
    static let allReportsSQL = """
        SELECT p.project_name, r.metric, r.value, r.unit, r.level, r.numerator, r.denominator, to_json(r.ids)::text AS ids
        FROM (SELECT DISTINCT project_name FROM dora_project_connections) AS p
        CROSS JOIN LATERAL dora_report(p.project_name, $1::timestamptz, $2::timestamptz)
            WITH ORDINALITY AS r(metric, value, unit, level, numerator, denominator, ids, position)
        ORDER BY p.project_name COLLATE "C", r.position
        """

    /// One `dora_report` per window, without the ids (the page's weekly points).
    static let seriesSQL = """
        SELECT w.position, r.metric, r.value, r.unit, r.level, r.numerator, r.denominator, '[]' AS ids
        FROM unnest($2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS w(from_time, to_time, position)
        CROSS JOIN LATERAL dora_report($1, w.from_time, w.to_time) AS r
        ORDER BY w.position
        """

    static let settingsSQL = """
        SELECT names.project_name, extract(epoch FROM dora_incident_window(names.project_name))::float8,
               EXISTS (SELECT 1 FROM dora_settings s WHERE s.project_name = names.project_name)
        FROM (SELECT project_name FROM dora_project_connections UNION SELECT project_name FROM dora_settings) AS names
        ORDER BY names.project_name COLLATE "C"
        """

    static let setWindowSQL = """
        INSERT INTO dora_settings (project_name, incident_window) VALUES ($1, make_interval(secs => $2::float8))
        ON CONFLICT (project_name) DO UPDATE SET incident_window = EXCLUDED.incident_window, updated_at = now()
        """

    public func projects() throws -> [String] {
        try pool.withConnection { db in try db.query(Self.projectsSQL).rows.compactMap { $0[0] } }
    }

    public func report(project: String, window: DoraWindow) throws -> DoraReport {
        try pool.withConnection { db in try Self.report(project: project, window: window, db) }
    }

    /// A report for every project, in name order.
    public func reports(window: DoraWindow) throws -> [DoraReport] {
        let rows = try pool.withConnection { db in
            try db.query(Self.allReportsSQL, [window.from.postgresText, window.to.postgresText]).rows
        }
        var reports: [DoraReport] = []
        for row in rows {
            guard let project = row["project_name"] else {
                throw PostgresDecodingError(message: "dora_report row without a project")
            }
            if reports.last?.project != project {
                reports.append(DoraReport(project: project, window: window, metrics: []))
            }
            reports[reports.count - 1].metrics.append(try Self.decodeMetric(row))
        }
        return reports
    }

    static func report(project: String, window: DoraWindow, _ db: PostgresConnection) throws -> DoraReport {
        let rows = try db.query(reportSQL, [project, window.from.postgresText, window.to.postgresText]).rows
        return DoraReport(project: project, window: window, metrics: try rows.map(decodeMetric))
    }

    /// The report of each window, in order (ids left out).
    public func series(project: String, windows: [DoraWindow]) throws -> [DoraReport] {
        let froms = Self.arrayLiteral(windows.map(\.from.postgresText))
        let tos = Self.arrayLiteral(windows.map(\.to.postgresText))
        let rows = try pool.withConnection { db in try db.query(Self.seriesSQL, [project, froms, tos]).rows }
        var reports = windows.map { DoraReport(project: project, window: $0, metrics: []) }
        for row in rows {
            guard let position = row["position"].flatMap(Int.init), reports.indices.contains(position - 1) else {
                throw PostgresDecodingError(message: "dora_report series row without a position")
            }
            reports[position - 1].metrics.append(try Self.decodeMetric(row))
        }
        return reports
    }

    /// A project's incident window, in seconds (the default when it has no setting).
    public func incidentWindowSeconds(project: String) throws -> Double {
        let text = try pool.withConnection { db in
            try db.query("SELECT extract(epoch FROM dora_incident_window($1))::float8", [project]).rows.first?[0]
        }
        guard let text, let seconds = Double(text) else {
            throw PostgresDecodingError(message: "dora_incident_window returned no number")
        }
        return seconds
    }

    public struct Setting: Sendable, Equatable {
        public var project: String
        public var incidentWindowSeconds: Double
        /// False when the project uses the default.
        public var isSet: Bool
    }

    /// Every project's settings, and settings of projects that have no connection (yet).
    public func settings() throws -> [Setting] {
        try pool.withConnection { db in
            try db.query(Self.settingsSQL).rows.map { row in
                guard let project = row[0], let seconds = row[1].flatMap(Double.init) else {
                    throw PostgresDecodingError(message: "dora settings row has an unexpected shape")
                }
                return Setting(project: project, incidentWindowSeconds: seconds, isSet: row[2] == "t")
            }
        }
    }

    /// Sets a project's incident window; nil goes back to the default (7 days).
    public func setIncidentWindow(project: String, seconds: Double?) throws {
        _ = try pool.withConnection { db in
            if let seconds {
                try db.query(Self.setWindowSQL, [project, seconds.bind])
            } else {
                try db.query("DELETE FROM dora_settings WHERE project_name = $1", [project])
            }
        }
    }

    static func decodeMetric(_ row: PostgresRow) throws -> DoraMetric {
        guard let metric = row["metric"], let unit = row["unit"],
              let numerator = row["numerator"].flatMap(Int64.init), let denominator = row["denominator"].flatMap(Int64.init)
        else { throw PostgresDecodingError(message: "dora_report row has an unexpected shape") }
        var ids: [String] = []
        if let text = row["ids"], case .array(let items) = try JSONParser.parse(Array(text.utf8)) {
            ids = items.compactMap { if case .string(let id) = $0 { id } else { nil } }
        }
        return DoraMetric(
            metric: metric, value: row["value"].flatMap(Double.init), unit: unit,
            level: row["level"].flatMap(DoraMetric.Level.init(rawValue:)), numerator: numerator,
            denominator: denominator, ids: ids)
    }

    /// A PostgreSQL array literal of quoted elements (timestamps only: no quote or backslash inside).
    static func arrayLiteral(_ items: [String]) -> String {
        "{" + items.map { "\"\($0)\"" }.joined(separator: ",") + "}"
    }
}
