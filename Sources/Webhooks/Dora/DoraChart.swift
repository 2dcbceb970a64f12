import Foundation

/// A small weekly chart drawn as SVG on the server: no script, no external asset, well-formed
/// XML (every value escaped), readable without colour (each point carries its value as a title).
struct DoraChart {
    enum Style { case bars, line }

    struct Point {
        /// Monday of the week, `YYYY-MM-DD`.
        var week: String
        var value: Double?
        /// The value as a person reads it, for the point's tooltip.
        var text: String
    }

    /// A dashed reference line (a level boundary) with its label.
    struct Threshold {
        var value: Double
        var label: String
    }

    var title: String
    var style: Style
    var points: [Point]
    var thresholds: [Threshold]
    /// The top of the y axis; at least the largest value.
    var top: Double
    var axisLabel: (Double) -> String

    static let width = 360.0, height = 150.0
    static let left = 44.0, right = 8.0, upper = 10.0, lower = 24.0

    /// The chart of one metric over the weeks of `series` (one report per week).
    static func of(_ kind: DoraMetric.Kind, series: [DoraReport]) -> DoraChart {
        let points = series.map { report -> Point in
            let metric = report[kind]
            let value = metric?.value.map { kind == .changeFailureRate ? $0 * 100 : $0 }
            return Point(week: String(report.window.from.iso8601.prefix(10)), value: value, text: metric?.displayValue ?? "no data")
        }
        let largest = points.compactMap(\.value).max() ?? 0
        switch kind {
        case .deploymentFrequency:
            return DoraChart(
                title: "Days with a successful deployment, per week", style: .bars, points: points,
                thresholds: [Threshold(value: 5, label: "elite ≥ 5"), Threshold(value: 1, label: "high ≥ 1")],
                top: 7, axisLabel: { DoraFormat.number($0) + " d" })
        case .leadTimeForChanges:
            return DoraChart(
                title: "Median lead time for changes, per week", style: .line, points: points,
                thresholds: [Threshold(value: 24, label: "elite < 24 h"), Threshold(value: 168, label: "high < 1 week")],
                top: niceTop(max(largest * 1.1, 24)), axisLabel: { DoraFormat.number($0) + " h" })
        case .changeFailureRate:
            return DoraChart(
                title: "Change failure rate, per week", style: .line, points: points,
                thresholds: [Threshold(value: 5, label: "elite ≤ 5 %"), Threshold(value: 15, label: "medium ≤ 15 %")],
                top: min(100, niceTop(max(largest * 1.1, 20))), axisLabel: { DoraFormat.number($0) + " %" })
        case .failedDeploymentRecoveryTime:
            return DoraChart(
                title: "Median failed deployment recovery time, per week", style: .line, points: points,
                thresholds: [Threshold(value: 1, label: "elite < 1 h"), Threshold(value: 24, label: "high < 24 h")],
                top: niceTop(max(largest * 1.1, 4)), axisLabel: { DoraFormat.number($0) + " h" })
        }
    }

    /// 1, 2 or 5 times a power of ten, at least `value`.
    static func niceTop(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let power = pow(10, floor(log10(value)))
        for step in [1.0, 2, 5, 10] where step * power >= value { return step * power }
        return 10 * power
    }

    var plotWidth: Double { Self.width - Self.left - Self.right }
    var plotHeight: Double { Self.height - Self.upper - Self.lower }

    func x(_ index: Int) -> Double {
        Self.left + plotWidth * (Double(index) + 0.5) / Double(max(points.count, 1))
    }

    func y(_ value: Double) -> Double {
        Self.upper + plotHeight * (1 - min(max(value, 0), top) / top)
    }

    /// The `<svg>` element, one line per shape.
    func svg() -> String {
        var out: [String] = []
        out.append(##"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \##(Self.f(Self.width)) \##(Self.f(Self.height))" width="\##(Self.f(Self.width))" height="\##(Self.f(Self.height))" role="img" aria-label="\##(DoraHTML.escape(title))">"##)
        out.append("<title>\(DoraHTML.escape(title))</title>")
        // Axes: the baseline and the top value.
        out.append(##"<line x1="\##(Self.f(Self.left))" y1="\##(Self.f(y(0)))" x2="\##(Self.f(Self.width - Self.right))" y2="\##(Self.f(y(0)))" stroke="#9aa5b1" stroke-width="1"/>"##)
        out.append(##"<line x1="\##(Self.f(Self.left))" y1="\##(Self.f(y(top)))" x2="\##(Self.f(Self.width - Self.right))" y2="\##(Self.f(y(top)))" stroke="#e4e7eb" stroke-width="1"/>"##)
        out.append(label(axisLabel(0), x: Self.left - 4, y: y(0) + 3, anchor: "end"))
        out.append(label(axisLabel(top), x: Self.left - 4, y: y(top) + 3, anchor: "end"))
        for threshold in thresholds where threshold.value > 0 && threshold.value < top {
            out.append(##"<line x1="\##(Self.f(Self.left))" y1="\##(Self.f(y(threshold.value)))" x2="\##(Self.f(Self.width - Self.right))" y2="\##(Self.f(y(threshold.value)))" stroke="#7b8794" stroke-width="1" stroke-dasharray="3 3"/>"##)
            out.append(label(threshold.label, x: Self.width - Self.right - 2, y: y(threshold.value) - 3, anchor: "end"))
        }
        // Week labels: the first, every fourth, and the last.
        for (index, point) in points.enumerated() where index % 4 == 0 || index == points.count - 1 {
            out.append(label(Self.shortDate(point.week), x: x(index), y: Self.height - 8, anchor: "middle"))
        }
        switch style {
        case .bars: out += bars()
        case .line: out += line()
        }
        out.append("</svg>")
        return out.joined(separator: "\n")
    }

    private func bars() -> [String] {
        let barWidth = plotWidth / Double(max(points.count, 1)) * 0.6
        return points.enumerated().map { index, point in
            let value = point.value ?? 0
            let height = max(y(0) - y(value), value > 0 ? 1 : 0)
            return ##"<rect x="\##(Self.f(x(index) - barWidth / 2))" y="\##(Self.f(y(0) - height))" width="\##(Self.f(barWidth))" height="\##(Self.f(height))" fill="#3e7bfa"><title>\##(DoraHTML.escape("week of \(point.week): \(point.text)"))</title></rect>"##
        }
    }

    private func line() -> [String] {
        var out: [String] = []
        // One polyline per run of weeks with a value; a week without data breaks the line.
        var run: [String] = []
        func flush() {
            if run.count > 1 {
                out.append(##"<polyline points="\##(run.joined(separator: " "))" fill="none" stroke="#3e7bfa" stroke-width="2"/>"##)
            }
            run = []
        }
        for (index, point) in points.enumerated() {
            if let value = point.value { run.append("\(Self.f(x(index))),\(Self.f(y(value)))") } else { flush() }
        }
        flush()
        for (index, point) in points.enumerated() {
            if let value = point.value {
                out.append(##"<circle cx="\##(Self.f(x(index)))" cy="\##(Self.f(y(value)))" r="3" fill="#3e7bfa"><title>\##(DoraHTML.escape("week of \(point.week): \(point.text)"))</title></circle>"##)
            } else {
                out.append(##"<circle cx="\##(Self.f(x(index)))" cy="\##(Self.f(y(0)))" r="2" fill="none" stroke="#9aa5b1"><title>\##(DoraHTML.escape("week of \(point.week): no data"))</title></circle>"##)
            }
        }
        return out
    }

    private func label(_ text: String, x: Double, y: Double, anchor: String) -> String {
        ##"<text x="\##(Self.f(x))" y="\##(Self.f(y))" text-anchor="\##(anchor)" font-family="sans-serif" font-size="10" fill="#52606d" stroke="#ffffff" stroke-width="3" paint-order="stroke">\##(DoraHTML.escape(text))</text>"##
    }

    /// A coordinate with one decimal, in the C locale.
    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// `2024-03-04` → `Mar 4`.
    static func shortDate(_ day: String) -> String {
        let parts = day.split(separator: "-")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 3, let month = Int(parts[1]), (1...12).contains(month), let dayNumber = Int(parts[2]) else { return day }
        return "\(months[month - 1]) \(dayNumber)"
    }
}

/// Escaping for HTML text and attribute values (also valid XML).
enum DoraHTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab and newline are not allowed in XML 1.0.
                if character.value < 0x20 && character != "\t" && character != "\n" {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(character)
                }
            }
        }
        return out
    }
}
