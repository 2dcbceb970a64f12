import Postgres

/// What the DORA gauges of `/metrics` read (`DoraMetricsRefresher`): the projects, capped, and
/// each one's `dora_report` with the time of its last successful production deployment.
extension DoraStore {
    /// The first `$1` projects in name order, each with the number of all projects (counted
    /// before the limit), so that the refresher can say how many it left out.
    static let gaugeProjectsSQL = """
        SELECT project_name, count(*) OVER () AS total
        FROM (SELECT DISTINCT project_name FROM dora_project_connections) AS p
        ORDER BY project_name COLLATE "C"
        LIMIT $1
        """

    /// One project's `dora_report` over [$2, $3), without the ids, and the end of its last
    /// successful production deployment before $3 (any time before: not only in the window), in
    /// seconds since the epoch; NULL when it never deployed. `dora_deployments` is the view
    /// `dora_report` counts deployments from.
    static let gaugeReportSQL = """
        SELECT r.metric, r.value, r.unit, r.level, r.numerator, r.denominator, '[]' AS ids,
               (SELECT extract(epoch FROM max(d.finished_date))::float8 FROM dora_deployments d
                WHERE d.project_name = $1 AND d.result = 'SUCCESS' AND d.finished_date < $3::timestamptz) AS last_deployment
        FROM dora_report($1, $2::timestamptz, $3::timestamptz) AS r
        """

    /// The first `limit` projects in name order, and how many projects there are in all.
    func gaugeProjects(limit: Int) throws -> (projects: [String], total: Int) {
        let rows = try pool.withConnection { db in try db.query(Self.gaugeProjectsSQL, [String(limit)]).rows }
        let projects = rows.compactMap { $0["project_name"] }
        return (projects, rows.first?["total"].flatMap(Int.init) ?? 0)
    }

    /// One project's report (ids left out) and its last successful production deployment.
    func gaugeReport(project: String, window: DoraWindow) throws -> (report: DoraReport, lastDeployment: Double?) {
        let rows = try pool.withConnection { db in
            try db.query(Self.gaugeReportSQL, [project, window.from.postgresText, window.to.postgresText]).rows
        }
        let report = DoraReport(project: project, window: window, metrics: try rows.map(Self.decodeMetric))
        return (report, rows.first?["last_deployment"].flatMap(Double.init))
    }
}
