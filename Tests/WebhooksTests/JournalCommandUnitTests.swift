import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// The pieces of replay, import and export that need no database: the progress bar, the
/// command lines, the NDJSON line, instants.
@Suite("Journal commands without a database")
struct JournalCommandUnitTests {
    @Test("the progress line says count/total, the rate and the ETA")
    func progressLine() {
        #expect(ProgressBar.line(label: "import", noun: "lines", done: 12_345, total: 100_000, elapsed: 2.5)
            == "import: 12,345/100,000 lines, 4,938/s, ETA 18s")
        #expect(ProgressBar.line(label: "replay", noun: "events", done: 50_000, total: 100_000, elapsed: 100)
            == "replay: 50,000/100,000 events, 500/s, ETA 1m40s")
        #expect(ProgressBar.line(label: "replay", noun: "events", done: 1_000, total: 10_000_000, elapsed: 1)
            == "replay: 1,000/10,000,000 events, 1,000/s, ETA 2h46m")
        #expect(ProgressBar.line(label: "import", noun: "lines", done: 0, total: 10, elapsed: 0) == "import: 0/10 lines, -/s, ETA ?")
        #expect(ProgressBar.line(label: "import", noun: "lines", done: 7, total: nil, elapsed: 2) == "import: 7 lines, 4/s", "standard input: no total, no ETA")
        #expect(ProgressBar.bar(done: 25, total: 100) == "[#####---------------]")
        #expect(ProgressBar.bar(done: 100, total: 100) == "[####################]")
        #expect(ProgressBar.grouped(0) == "0" && ProgressBar.grouped(999) == "999" && ProgressBar.grouped(1_000) == "1,000")
    }

    @Test("on a pipe the progress bar writes plain lines only; on a terminal it redraws one line in place")
    func progressOnPipeAndTerminal() {
        let written = Shared<[String]>([])
        let plain = ProgressBar(label: "import", noun: "lines", total: 30, isTerminal: false, interval: .zero) { text in
            written.withLock { $0.append(text) }
        }
        for done in [10, 20, 30] { plain.update(done: done) }
        plain.finish()
        let pipe = written.withLock { $0 }
        #expect(pipe.count == 2, "the first update only starts the clock: \(pipe)")
        #expect(pipe.allSatisfy { $0.hasPrefix("import: ") && $0.hasSuffix("\n") && !$0.contains("\r") && !$0.contains("\u{1B}") })
        #expect(pipe.last?.hasPrefix("import: 30/30 lines, ") == true)

        written.withLock { $0.removeAll() }
        let terminal = ProgressBar(label: "replay", noun: "events", total: 10, isTerminal: true, interval: .zero) { text in
            written.withLock { $0.append(text) }
        }
        terminal.update(done: 5)
        terminal.finish()
        let drawn = written.withLock { $0 }
        #expect(drawn.count == 2)
        #expect(drawn.first?.hasPrefix("\r[##########----------] replay: 5/10 events, ") == true && drawn.first?.hasSuffix("\u{1B}[K") == true)
        #expect(!(drawn.first ?? "").contains("\n"))
        #expect(drawn.last == "\r\u{1B}[K", "the bar is cleared before the summary")

        written.withLock { $0.removeAll() }
        let throttled = ProgressBar(label: "replay", noun: "events", total: 10, isTerminal: true) { text in written.withLock { $0.append(text) } }
        for done in 1...1000 { throttled.update(done: done) }
        #expect(written.withLock { $0.count } == 1, "at most ten draws a second")
    }

    @Test("the commands parse their options; a bad one is a usage error")
    func commandLines() throws {
        #expect(try LakehookCommand.parse(["replay"]) == .replay(ReplayCommand()))
        #expect(try LakehookCommand.parse(["replay", "--connection", "shop", "--since=1h", "--until", "2026-01-02T03:04:05Z", "--dry-run"])
            == .replay(ReplayCommand(connection: .name("shop"), since: "1h", until: "2026-01-02T03:04:05Z", dryRun: true)))
        #expect(try LakehookCommand.parse(["import", "-", "--connection", "7"]) == .importEvents(ImportCommand(source: "-", connection: .id(7))))
        #expect(try LakehookCommand.parse(["import", "h.ndjson", "--dry-run"]) == .importEvents(ImportCommand(source: "h.ndjson", dryRun: true)))
        #expect(try LakehookCommand.parse(["export", "--since", "7d"]) == .export(ExportCommand(since: "7d")))
        #expect(try LakehookCommand.parse(["export", "--help"]) == .export(ExportCommand(help: true)))
        for bad in [["replay", "--since", "yesterday"], ["replay", "extra"], ["import"], ["import", "a", "b"],
                    ["export", "--until", "1h"], ["replay", "--connection"], ["import", "f", "--connection", "1", "--connection", "2"]] {
            #expect(throws: LakehookCommand.UsageError.self, "\(bad)") { try LakehookCommand.parse(bad) }
        }
    }

    @Test("an instant is RFC 3339 or an age counted back from now")
    func instants() {
        let now = TimestampParser.parse("2026-03-01T12:00:00Z")!
        #expect(JournalReader.instant("1h", now: now) == TimestampParser.parse("2026-03-01T11:00:00Z"))
        #expect(JournalReader.instant("7d", now: now) == TimestampParser.parse("2026-02-22T12:00:00Z"))
        #expect(JournalReader.instant("90m", now: now) == TimestampParser.parse("2026-03-01T10:30:00Z"))
        #expect(JournalReader.instant("2026-01-02T03:04:05.25+01:00", now: now) == TimestampParser.parse("2026-01-02T02:04:05.25Z"))
        #expect(JournalReader.instant("2026-01-02", now: now) == TimestampParser.parse("2026-01-02T00:00:00Z"))
        #expect(JournalReader.instant("soon", now: now) == nil && JournalReader.instant("7", now: now) == nil)
    }

    @Test("an exported line reads back as the same request")
    func lineRoundTrip() throws {
        let at = TimestampParser.parse("2026-01-02T03:04:05.123456Z")!
        let text = JournalLine.render(
            route: "issue/:issueKey/close", params: ["issueKey": "a/b \"c\""], jsonBody: #"{"x": [1, 2.50]}"#, textBody: nil,
            connectionId: 3, receivedAt: at)
        #expect(text == #"{"route":"issue/:issueKey/close","params":{"issueKey":"a/b \"c\""},"body":{"x": [1, 2.50]},"connectionId":3,"receivedAt":"2026-01-02T03:04:05.123456Z"}"#)
        let line = try JournalLine.parse(Array(text.utf8))
        #expect(line.route == "issue/:issueKey/close" && line.params == ["issueKey": "a/b \"c\""])
        #expect(line.connectionId == 3 && line.receivedAt == at)
        #expect(String(decoding: line.body, as: UTF8.self) == #"{"x":[1,2.50]}"#)

        let noJSON = JournalLine.render(route: "issues", params: [:], jsonBody: nil, textBody: "not json", connectionId: 1, receivedAt: at)
        #expect(noJSON.contains(#""bodyText":"not json""#))
        #expect(try JournalLine.parse(Array(noJSON.utf8)).body == Array("not json".utf8))
        #expect(JournalLine.render(route: "cicd_pipeline/:pipelineName/finish", params: ["pipelineName": "p"], jsonBody: nil, textBody: nil,
                                   connectionId: 1, receivedAt: at).contains("body") == false)
    }

    @Test("a bad line names every problem")
    func badLines() {
        #expect(throws: WebhookError.self) { try JournalLine.parse(Array("[1]".utf8)) }
        do {
            _ = try JournalLine.parse(Array(#"{"params":[],"connectionId":-1,"receivedAt":"today","body":{},"bodyText":"x"}"#.utf8))
            Issue.record("parsed")
        } catch {
            #expect(error.causes.count == 5, "\(error.causes)")
            #expect(error.causes.first?.hasPrefix("route: is required") == true)
        }
    }
}
