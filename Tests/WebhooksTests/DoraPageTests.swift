import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Webhooks
import TestSupport

/// `GET /dora`: the page people read, fetched over HTTP and rendered by a real browser.
@Suite("The DORA page")
struct DoraPageTests {
    var fixture: DoraFixture { get throws { try DoraFixture.shared.get() } }
    let server = TestServer.shared

    var path: String { get throws { "/dora?project=\(try fixture.project)&from=\(DoraFixture.from)&to=\(DoraFixture.to)" } }

    /// Every `<svg>…</svg>` of a page.
    static func svgs(in html: String) -> [String] {
        var found: [String] = []
        var rest = html[...]
        while let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
            found.append(String(rest[start.lowerBound..<end.upperBound]))
            rest = rest[end.upperBound...]
        }
        return found
    }

    @Test("GET /dora is an HTML page behind the admin token (Bearer, or Basic's password for a browser)")
    func pageOverHTTP() throws {
        let page = try server.admin("GET", try path)
        #expect(page.status == 200)
        #expect(page.header("Content-Type") == "text/html; charset=utf-8")
        #expect(page.text.hasPrefix("<!DOCTYPE html>"))
        #expect(!page.text.contains("<script") && !page.text.contains("src=") && !page.text.contains("<link"))

        let anonymous = try server.request("GET", try path)
        #expect(anonymous.status == 401 && anonymous.header("WWW-Authenticate")?.hasPrefix("Basic ") == true)
        #expect(anonymous.header("Content-Type") == "text/html; charset=utf-8")
        let basic = "Basic " + Data("admin:\(TestServer.adminToken)".utf8).base64EncodedString()
        #expect(try server.request("GET", try path, headers: [("Authorization", basic)]).status == 200)
        let wrong = "Basic " + Data("admin:nope".utf8).base64EncodedString()
        #expect(try server.request("GET", try path, headers: [("Authorization", wrong)]).status == 403)
        let unknown = try server.admin("GET", "/dora?project=no-such-project-\(UUID().uuidString)")
        #expect(unknown.status == 404 && unknown.text.contains("unknown project"))
        #expect(try server.admin("GET", "/dora?project=\(try fixture.project)&from=tomorrow").status == 400)
    }

    @Test("the page shows the four metrics, their levels and values, and four well-formed SVG charts of 12 weekly points")
    func pageContent() throws {
        let html = try server.admin("GET", try path).text
        for text in ["Deployment frequency", "Lead time for changes", "Change failure rate", "Failed deployment recovery time",
                     "1.5 days/week", "24 hours", "50 %", "3 hours", ">High<", ">Low<", "incident window 7 days",
                     "2024-03-04 00:00 – 2024-04-01 00:00 UTC", "dora_report(",
                     "3 of 4 failures recovered", "in the window of its first successful production deployment",
                     "an incident without a cause is left out"] {
            #expect(html.contains(text), "missing \"\(text)\"")
        }
        let charts = Self.svgs(in: html)
        #expect(charts.count == 4)
        for chart in charts {
            let parser = XMLParser(data: Data(chart.utf8))
            #expect(parser.parse(), "not well-formed: \(String(describing: parser.parserError))\n\(chart)")
            // 12 weeks, each with a point (a bar or a circle) that carries its value as a title.
            #expect(chart.components(separatedBy: "<title>week of ").count - 1 == 12, "\(chart)")
        }
        // The frequency chart's weeks of the window: 2, 0, 2, 1 deployment days.
        for text in ["week of 2024-03-04: 2 days/week", "week of 2024-03-11: 0 days/week", "week of 2024-03-25: 1 days/week"] {
            #expect(charts.first?.contains(text) == true, "missing \(text)")
        }
    }

    static let chromiumPaths = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]

    /// Runs headless Chromium on a URL; returns its standard output.
    static func chromium(_ arguments: [String], profile: URL) throws -> String {
        guard let binary = chromiumPaths.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestFailure("headless Chromium is needed for this test: apt-get install chromium")
        }
        let run = try runProgram(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--disable-extensions", "--hide-scrollbars", "--user-data-dir=\(profile.path)"] + arguments,
            timeout: 90)
        guard run.status == 0 else { throw TestFailure("chromium exited with \(run.status)") }
        return run.out
    }

    @Test("headless Chromium renders the page to a PNG, and its DOM shows the four metrics with their levels")
    func renderedByChromium() throws {
        let f = try fixture
        let url = "http://admin:\(TestServer.adminToken)@127.0.0.1:\(server.port)\(try path)"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lakehook-dora-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder.appendingPathComponent("profile")) }

        let dom = try Self.chromium(["--dump-dom", url], profile: folder.appendingPathComponent("profile"))
        for text in ["DORA metrics: \(f.project)", "Deployment frequency", "Lead time for changes", "Change failure rate",
                     "Failed deployment recovery time", "1.5 days/week", "24 hours", "50 %", "3 hours", "High", "Low"] {
            #expect(dom.contains(text), "the rendered DOM lacks \"\(text)\"")
        }
        #expect(Self.svgs(in: dom).count == 4)

        let png = folder.appendingPathComponent("dora-page.png")
        _ = try Self.chromium(["--window-size=1280,1700", "--screenshot=\(png.path)", url], profile: folder.appendingPathComponent("profile"))
        let bytes = try [UInt8](Data(contentsOf: png))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "not a PNG")
        // IHDR: width and height, big-endian, at bytes 16–23.
        let width = bytes.count > 24 ? bytes[16..<20].reduce(0) { $0 << 8 | Int($1) } : 0
        #expect(width == 1280 && bytes.count > 20_000, "\(width) px wide, \(bytes.count) bytes")
        print("DORA page rendered by Chromium: \(png.path)")
    }
}
