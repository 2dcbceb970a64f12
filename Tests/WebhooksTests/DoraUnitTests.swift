import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Webhooks

/// The DORA pieces that need no database: windows, arguments, query strings, formatting, SVG.
@Suite("DORA: windows, arguments and rendering")
struct DoraUnitTests {
    static func at(_ text: String) -> Timestamp { TimestampParser.parse(text)! }

    @Test("the default window is the last 30 days up to now; a date alone is UTC midnight")
    func windows() throws {
        let now = Self.at("2024-05-15T10:30:00Z")
        let standard = try DoraWindow.resolve(from: nil, to: nil, now: now)
        #expect(standard.to == now && standard.from == Self.at("2024-04-15T10:30:00Z"))
        let dates = try DoraWindow.resolve(from: "2024-03-04", to: "2024-04-01", now: now)
        #expect(dates.from.iso8601 == "2024-03-04T00:00:00Z" && dates.to.iso8601 == "2024-04-01T00:00:00Z")
        #expect(try DoraWindow.resolve(from: "2024-05-01", to: nil, now: now).to == now)
        #expect(try DoraWindow.resolve(from: nil, to: "2024-04-01", now: now).from.iso8601 == "2024-03-02T00:00:00Z")
        #expect(try DoraWindow.resolve(from: "2024-03-04T12:00:00+02:00", to: nil, now: now).from.iso8601 == "2024-03-04T10:00:00Z")
        #expect(throws: DoraWindowError.self) { try DoraWindow.resolve(from: "2024-04-01", to: "2024-04-01", now: now) }
        do {
            _ = try DoraWindow.resolve(from: "March", to: "2024-02-30", now: now)
            Issue.record("accepted bad dates")
        } catch {
            #expect(error.problems.count == 2)
        }
    }

    @Test("weeks are ISO weeks starting Monday 00:00 UTC; the chart's last week ends at the window's end")
    func weeks() {
        #expect(DoraWindow.weekStart(of: Self.at("2024-03-04T00:00:00Z")).iso8601 == "2024-03-04T00:00:00Z")
        #expect(DoraWindow.weekStart(of: Self.at("2024-03-10T23:59:59Z")).iso8601 == "2024-03-04T00:00:00Z")
        #expect(DoraWindow.weekStart(of: Self.at("1970-01-01T00:00:00Z")).iso8601 == "1969-12-29T00:00:00Z")
        #expect(DoraWindow.weekStart(of: Self.at("1969-12-31T12:00:00Z")).iso8601 == "1969-12-29T00:00:00Z")
        let weeks = DoraWindow.weeks(endingAt: Self.at("2024-04-01T00:00:00Z"), count: 12)
        #expect(weeks.count == 12)
        #expect(weeks.last == DoraWindow(from: Self.at("2024-03-25T00:00:00Z"), to: Self.at("2024-04-01T00:00:00Z")))
        #expect(weeks.first?.from.iso8601 == "2024-01-08T00:00:00Z")
        let partial = DoraWindow.weeks(endingAt: Self.at("2024-04-03T09:00:00Z"), count: 2)
        #expect(partial.map(\.from.iso8601) == ["2024-03-25T00:00:00Z", "2024-04-01T00:00:00Z"])
        #expect(partial.last?.to.iso8601 == "2024-04-03T09:00:00Z")
    }

    @Test("dora arguments: report, settings, and every mistake a usage error")
    func arguments() throws {
        #expect(try DoraCommand.parse([]).action == .report(project: nil, from: nil, to: nil, json: false))
        #expect(try DoraCommand.parse(["--project=shop", "--from", "2024-03-04", "--json"]).action
            == .report(project: "shop", from: "2024-03-04", to: nil, json: true))
        #expect(try DoraCommand.parse(["settings"]).action == .showSettings(project: nil, json: false))
        #expect(try DoraCommand.parse(["settings", "--project", "shop", "--incident-window", "36h"]).action
            == .setIncidentWindow(project: "shop", seconds: 129_600))
        #expect(try DoraCommand.parse(["settings", "--project", "shop", "--incident-window=default"]).action
            == .setIncidentWindow(project: "shop", seconds: nil))
        #expect(try DoraCommand.parse(["--help"]).action == .help)
        for bad in [["--from"], ["--from", "soon"], ["--from", "2024-04-01", "--to", "2024-03-01"], ["--incident-window", "7d"],
                    ["settings", "--incident-window", "7d"], ["settings", "--project", "p", "--incident-window", "forever"],
                    ["settings", "--from", "2024-01-01"], ["frobnicate"], ["--verbose"], ["--project", "a", "--project", "b"],
                    ["--project", ""]] {
            #expect(throws: LakehookCommand.UsageError.self, "\(bad)") { try DoraCommand.parse(bad) }
        }
    }

    @Test("incident windows: 7d, 7 days, 36h, 2w, 90m; a bare number is days")
    func durations() {
        #expect(DoraCommand.parseDuration("7d") == 604_800)
        #expect(DoraCommand.parseDuration("7 days") == 604_800)
        #expect(DoraCommand.parseDuration("7") == 604_800)
        #expect(DoraCommand.parseDuration("2w") == 1_209_600)
        #expect(DoraCommand.parseDuration("90m") == 5_400)
        #expect(DoraCommand.parseDuration("1.5h") == 5_400)
        for bad in ["", "0d", "-1d", "d", "7y", "4000d", "7 fortnights"] { #expect(DoraCommand.parseDuration(bad) == nil, "\(bad)") }
        #expect(DoraFormat.interval(seconds: 604_800) == "7 days")
        #expect(DoraFormat.interval(seconds: 129_600) == "36 hours")
        #expect(DoraFormat.interval(seconds: 5_400) == "90 minutes")
    }

    @Test("query strings are percent-decoded once, + is a space, bad escapes are refused")
    func queryStrings() throws {
        let query = try DoraQueryString("project=web%20shop%2Fv2&from=2024-03-04&to=&x")
        #expect(query["project"] == "web shop/v2" && query["from"] == "2024-03-04" && query["to"] == nil && query["x"] == nil)
        #expect(try DoraQueryString("project=a+b")["project"] == "a b")
        #expect(throws: WebhookError.self) { try DoraQueryString("project=%zz") }
        #expect(throws: WebhookError.self) { try DoraQueryString("project=%00") }
        #expect(DoraQueryString.encode("web shop/ü") == "web%20shop%2F%C3%BC")
        #expect(try DoraQueryString("p=" + DoraQueryString.encode("a&b=c d"))["p"] == "a&b=c d")
    }

    @Test("values read as a person reads them")
    func formatting() {
        func metric(_ value: Double?, _ unit: String) -> DoraMetric {
            DoraMetric(metric: "x", value: value, unit: unit, level: nil, numerator: 0, denominator: 0, ids: [])
        }
        #expect(metric(1.5, "days/week").displayValue == "1.5 days/week")
        #expect(metric(0, "days/week").displayValue == "0 days/week")
        #expect(metric(0.5, "hours").displayValue == "30 min")
        #expect(metric(1, "hours").displayValue == "1 hour")
        #expect(metric(24, "hours").displayValue == "24 hours")
        #expect(metric(300, "hours").displayValue == "12.5 days")
        #expect(metric(0.125, "ratio").displayValue == "12.5 %")
        #expect(metric(nil, "ratio").displayValue == "no data")
    }

    @Test("the basis says which rows a figure counts: newly deployed changes, failures recovered")
    func basis() {
        let lead = DoraMetric(metric: "lead_time_for_changes", value: 24, unit: "hours", level: .high, numerator: 6, denominator: 7, ids: [])
        #expect(lead.basis == "6 of 7 newly deployed changes with a start (1 without)")
        let recovery = DoraMetric(
            metric: "failed_deployment_recovery_time", value: 3, unit: "hours", level: .high, numerator: 3, denominator: 4, ids: [])
        #expect(recovery.basis == "3 of 4 failures recovered (failed deployments, incidents with a cause)")
        let one = DoraMetric(metric: "failed_deployment_recovery_time", value: nil, unit: "hours", level: nil, numerator: 0, denominator: 1, ids: [])
        #expect(one.basis == "0 of 1 failure recovered (failed deployments, incidents with a cause)")
    }

    static func wellFormed(_ xml: String) -> (ok: Bool, error: String) {
        let parser = XMLParser(data: Data(xml.utf8))
        let ok = parser.parse()
        return (ok, parser.parserError.map { "\($0)" } ?? "")
    }

    @Test("charts are well-formed SVG whatever the values and labels: gaps, zeros, huge values, markup in text")
    func chartsAreWellFormed() {
        let weeks = DoraWindow.weeks(endingAt: Self.at("2024-04-01T00:00:00Z"), count: 12)
        let values: [Double?] = [nil, 0, 1, 2.5, nil, nil, 1e9, 0.001, 3, nil, 7, 0]
        let series = zip(weeks, values).map { window, value in
            DoraReport(project: "p<&>\"'", window: window, metrics: DoraMetric.Kind.allCases.map {
                DoraMetric(metric: $0.rawValue, value: value, unit: $0 == .changeFailureRate ? "ratio" : "hours",
                           level: .high, numerator: 1, denominator: 2, ids: ["a<b", "c&d"])
            })
        }
        for kind in DoraMetric.Kind.allCases {
            let svg = DoraChart.of(kind, series: series).svg()
            let check = Self.wellFormed(svg)
            #expect(check.ok, "\(kind): \(check.error)\n\(svg)")
            #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.hasSuffix("</svg>"))
            #expect(!svg.contains("nan") && !svg.contains("inf"))
        }
        let empty = DoraChart.of(.leadTimeForChanges, series: weeks.map { DoraReport(project: "p", window: $0, metrics: []) }).svg()
        #expect(Self.wellFormed(empty).ok)
        #expect(DoraChart.niceTop(24) == 50 && DoraChart.niceTop(0.3) == 0.5 && DoraChart.niceTop(7) == 10 && DoraChart.niceTop(0) == 1)
    }

    @Test("HTML escaping covers markup characters and drops control characters XML forbids")
    func escaping() {
        #expect(DoraHTML.escape(#"<a href="x">&'</a>"#) == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;")
        #expect(DoraHTML.escape("a\u{1}b\tc") == "a\u{FFFD}b\tc")
    }
}
