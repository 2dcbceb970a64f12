import Foundation

/// What a long command (replay, import, export) shows while it runs, on standard error.
///
/// On a terminal: one line redrawn in place (`\r`, then erase to the end of the line), at most
/// ten times a second — a bar, count/total, rate, ETA. Anywhere else (a pipe, a file, a CI
/// log): a plain line now and then (every ten seconds), never a carriage return or an escape
/// sequence. The final summary is the command's own output.
final class ProgressBar {
    let label: String
    let noun: String
    let total: Int?
    let isTerminal: Bool
    private let write: (String) -> Void
    private let interval: Duration
    private let started = ContinuousClock.now
    private var lastDrawn: ContinuousClock.Instant?
    private var drewOnTerminal = false

    /// `isTerminal`: the terminal form (redrawn in place) instead of plain lines; `interval`: the
    /// least time between two draws (default: 0.1 s on a terminal, 10 s otherwise).
    init(label: String, noun: String, total: Int?, isTerminal: Bool, interval: Duration? = nil, write: @escaping (String) -> Void) {
        self.label = label
        self.noun = noun
        self.total = total
        self.isTerminal = isTerminal
        self.interval = interval ?? (isTerminal ? .milliseconds(100) : .seconds(10))
        self.write = write
    }

    /// A bar on standard error: redrawn in place when it is a terminal.
    static func standardError(label: String, noun: String, total: Int?) -> ProgressBar {
        ProgressBar(label: label, noun: noun, total: total, isTerminal: isatty(STDERR_FILENO) == 1) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    /// Shows `done` when the last draw is `interval` old (the first call only starts the clock
    /// on a pipe, so a short run prints no progress line at all).
    func update(done: Int) {
        let now = ContinuousClock.now
        if let lastDrawn, now - lastDrawn < interval { return }
        if lastDrawn == nil && !isTerminal {
            lastDrawn = now
            return
        }
        lastDrawn = now
        let elapsed = (now - started) / .seconds(1)
        if isTerminal {
            write("\r" + Self.bar(done: done, total: total) + " " + Self.line(label: label, noun: noun, done: done, total: total, elapsed: elapsed) + "\u{1B}[K")
            drewOnTerminal = true
        } else {
            write(Self.line(label: label, noun: noun, done: done, total: total, elapsed: elapsed) + "\n")
        }
    }

    /// Clears the bar from the terminal, so the summary starts on a clean line.
    func finish() {
        if drewOnTerminal { write("\r\u{1B}[K") }
        drewOnTerminal = false
    }

    /// `replay: 12,345/100,000 events, 5,120/s, ETA 17s`; without a total, count and rate only.
    static func line(label: String, noun: String, done: Int, total: Int?, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var text = "\(label): \(grouped(done))"
        if let total { text += "/\(grouped(total))" }
        text += " \(noun), " + (rate > 0 ? "\(grouped(Int(rate.rounded())))/s" : "-/s")
        if let total {
            text += ", ETA " + (rate > 0 ? duration(Double(max(0, total - done)) / rate) : "?")
        }
        return text
    }

    /// `[#########-----------]`: the share of `total` done, 20 cells; nothing without a total.
    static func bar(done: Int, total: Int?) -> String {
        guard let total, total > 0 else { return "" }
        let cells = 20
        let filled = min(cells, max(0, done * cells / total))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: cells - filled) + "]"
    }

    /// `12,345`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var text = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return (value < 0 ? "-" : "") + text
    }

    /// `17s`, `2m05s`, `1h02m`.
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m" + String(format: "%02ds", whole % 60) }
        return "\(whole / 3600)h" + String(format: "%02dm", whole / 60 % 60)
    }

    /// `0.42 s`, `12.3 s`, `2m05s`: how long a run took.
    static func took(_ elapsed: Duration) -> String {
        let seconds = elapsed / .seconds(1)
        if seconds < 10 { return String(format: "%.2f s", seconds) }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        return duration(seconds)
    }
}
