import Foundation

/// `GET /dora`: the page a person reads at a glance. The four metrics with their levels and
/// what they are made of, and each metric over the last 12 weeks as an SVG chart drawn here.
/// One self-contained document: inline CSS, no script, no external asset.
enum DoraPage {
    /// The most rows listed under a metric; the rest are counted.
    static let listedIds = 50

    static func project(
        _ report: DoraReport, series: [DoraReport], incidentWindowSeconds: Double, projects: [String], refusals: [ConnectionRefusals] = []
    ) -> String {
        var body: [String] = []
        body.append("<header>")
        body.append("<h1>DORA metrics: \(DoraHTML.escape(report.project))</h1>")
        var context = "\(DoraHTML.escape(windowText(report.window))) · incident window \(DoraFormat.interval(seconds: incidentWindowSeconds))"
        if projects.count > 1 { context += #" · <a href="/dora">all projects</a>"# }
        body.append(#"<p class="context">\#(context)</p>"#)
        body.append("</header>")
        body.append(#"<main class="metrics">"#)
        for metric in report.metrics {
            body.append(section(metric, series: series))
        }
        body.append("</main>")
        if !refusals.isEmpty { body.append(refusalsSection(refusals)) }
        let sql = "SELECT * FROM dora_report('\(sqlLiteral(report.project))', '\(report.window.from.iso8601)', '\(report.window.to.iso8601)');"
        body.append("<footer>")
        body.append("<p>\(DoraHTML.escape(definitions))</p>")
        body.append("<p>Charts: one point per ISO week (Monday, UTC), the last 12 weeks up to \(DoraHTML.escape(String(report.window.to.iso8601.prefix(10)))); a hollow point is a week without data.</p>")
        body.append("<p>The same figures in SQL: <code>\(DoraHTML.escape(sql))</code>, and with <code>lakehook dora --project \(DoraHTML.escape(shellWord(report.project)))</code> or <code>GET /api/dora?project=\(DoraHTML.escape(DoraQueryString.encode(report.project)))</code>.</p>")
        body.append("</footer>")
        return document(title: "DORA metrics: \(report.project)", body: body)
    }

    /// Which rows lead time and recovery time take (docs/DORA.md, "The four metrics").
    static let definitions = "Lead time counts each change once, in the window of its first successful production deployment. "
        + "Recovery time covers the failures the change failure rate counts: a deployment with result FAILURE, "
        + "until the next successful production deployment, and an incident a deployment caused, until it is resolved; "
        + "an incident without a cause is left out."

    /// Without `?project=`: every project with its four levels.
    static func index(_ reports: [DoraReport]) -> String {
        var body: [String] = ["<header>", "<h1>DORA metrics</h1>"]
        if let window = reports.first?.window {
            body.append(#"<p class="context">\#(DoraHTML.escape(windowText(window)))</p>"#)
        }
        body.append("</header>")
        if reports.isEmpty {
            body.append("<p>No projects yet: create a connection with <code>lakehook connections create NAME --project P</code>.</p>")
            return document(title: "DORA metrics", body: body)
        }
        body.append(#"<table class="projects"><thead><tr><th>Project</th>"#
            + DoraMetric.Kind.allCases.map { "<th>\(DoraHTML.escape($0.title))</th>" }.joined() + "</tr></thead><tbody>")
        for report in reports {
            var row = #"<tr><td><a href="/dora?project=\#(DoraHTML.escape(DoraQueryString.encode(report.project)))">\#(DoraHTML.escape(report.project))</a></td>"#
            for kind in DoraMetric.Kind.allCases {
                let metric = report[kind]
                let level = metric?.level
                row += #"<td class="\#(level?.rawValue ?? "none")">\#(DoraHTML.escape(metric?.displayValue ?? "no data"))"#
                    + #" <span class="level">\#(level?.title ?? "No data")</span></td>"#
            }
            body.append(row + "</tr>")
        }
        body.append("</tbody></table>")
        return document(title: "DORA metrics", body: body)
    }

    /// A refusal or failure, as a page (the API answers JSON; a browser gets this).
    /// An error page: the status and message, then each cause (a bad window says what is wrong with it).
    static func error(status: Int, message: String, causes: [String] = []) -> String {
        document(title: "DORA metrics: \(status)", body: [
            "<header>", "<h1>DORA metrics</h1>", "</header>",
            #"<p class="error">\#(status): \#(DoraHTML.escape(message))</p>"#,
        ] + (causes.isEmpty ? [] : ["<ul>"] + causes.map { "<li>\(DoraHTML.escape($0))</li>" } + ["</ul>"]))
    }

    static func section(_ metric: DoraMetric, series: [DoraReport]) -> String {
        let level = metric.level
        var out: [String] = []
        out.append(#"<section class="metric \#(level?.rawValue ?? "none")" id="\#(DoraHTML.escape(metric.metric))">"#)
        out.append("<h2>\(DoraHTML.escape(metric.kind?.title ?? metric.metric))</h2>")
        out.append(#"<p class="value">\#(DoraHTML.escape(metric.displayValue))</p>"#)
        out.append(#"<p><span class="level">\#(level?.title ?? "No data")</span></p>"#)
        out.append(#"<p class="basis">\#(DoraHTML.escape(metric.basis))</p>"#)
        if let kind = metric.kind {
            let chart = DoraChart.of(kind, series: series)
            out.append("<figure>")
            out.append(chart.svg())
            out.append("<figcaption>\(DoraHTML.escape(chart.title)), last 12 weeks</figcaption>")
            out.append("</figure>")
        }
        if !metric.ids.isEmpty {
            out.append("<details><summary>The \(metric.ids.count) \(metric.ids.count == 1 ? "row" : "rows") behind the figure</summary><ul>")
            for id in metric.ids.prefix(listedIds) { out.append("<li><code>\(DoraHTML.escape(id))</code></li>") }
            if metric.ids.count > listedIds { out.append("<li>and \(metric.ids.count - listedIds) more</li>") }
            out.append("</ul></details>")
        }
        out.append("</section>")
        return out.joined(separator: "\n")
    }

    /// `2024-03-04 00:00 – 2024-04-01 00:00 UTC`.
    static func windowText(_ window: DoraWindow) -> String {
        func minute(_ instant: Timestamp) -> String {
            String(instant.iso8601.prefix(16)).replacingOccurrences(of: "T", with: " ")
        }
        return "\(minute(window.from)) – \(minute(window.to)) UTC"
    }

    static func sqlLiteral(_ text: String) -> String { text.replacingOccurrences(of: "'", with: "''") }

    static func shellWord(_ text: String) -> String {
        text.allSatisfy { $0.isLetter || $0.isNumber || "-_.:/".contains($0) }
            ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func document(title: String, body: [String]) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(DoraHTML.escape(title))</title>
        <style>
        \(style)
        </style>
        </head>
        <body>
        \(body.joined(separator: "\n"))
        </body>
        </html>

        """
    }

    static let style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #1f2933; background: #f5f7fa; }
        h1 { margin-bottom: .25rem; }
        .context { color: #52606d; margin-top: 0; }
        .metrics { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 1.25rem; }
        @media (max-width: 860px) { .metrics { grid-template-columns: 1fr; } }
        .metric { background: #fff; border-radius: 10px; padding: 1rem 1.25rem; box-shadow: 0 1px 3px rgba(0, 0, 0, .12); border-top: 6px solid #9aa5b1; }
        .metric h2 { font-size: 1.1rem; margin: 0 0 .25rem; }
        .value { font-size: 2.2rem; font-weight: 650; margin: .2rem 0; }
        .level { display: inline-block; padding: .1rem .65rem; border-radius: 999px; font-weight: 600; font-size: .85rem; color: #fff; background: #9aa5b1; }
        .elite { border-top-color: #2b8a3e; } .elite .level { background: #2b8a3e; }
        .high { border-top-color: #5c940d; } .high .level { background: #5c940d; }
        .medium { border-top-color: #e67700; } .medium .level { background: #e67700; }
        .low { border-top-color: #c92a2a; } .low .level { background: #c92a2a; }
        .basis { color: #52606d; font-size: .9rem; }
        figure { margin: .5rem 0; } figcaption { font-size: .8rem; color: #7b8794; }
        svg.chart { width: 100%; height: auto; }
        details { font-size: .85rem; color: #52606d; } details ul { max-height: 12rem; overflow: auto; }
        table.projects { border-collapse: collapse; background: #fff; } table.projects th, table.projects td { padding: .5rem .75rem; border-bottom: 1px solid #e4e7eb; text-align: left; }
        table.projects td .level { margin-left: .4rem; }
        footer { margin-top: 2rem; font-size: .85rem; color: #52606d; }
        code { background: #e4e7eb; padding: .1rem .3rem; border-radius: 4px; }
        .error { color: #c92a2a; font-weight: 600; }
        """
}
