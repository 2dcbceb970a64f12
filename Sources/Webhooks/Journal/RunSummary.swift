/// What a replay or import did, counted as it goes, and told at the end: one summary line, then
/// every refusal with what names it (`event 1234`, `line 17`) and its cause.
struct RunSummary {
    /// `replay`, `import`.
    var command: String
    /// `event`, `line`.
    var noun: String
    var dryRun: Bool
    var applied = 0
    var stale = 0
    /// Dry run: how many each route would apply.
    var wouldApply: [String: Int] = [:]
    var refusals: [(label: String, route: String, error: WebhookError)] = []
    let started = ContinuousClock.now

    init(command: String, noun: String, dryRun: Bool) {
        self.command = command
        self.noun = noun
        self.dryRun = dryRun
    }

    var done: Int { applied + stale + refusals.count + wouldApply.values.reduce(0, +) }

    mutating func count(_ event: PreparedEvent, _ outcome: EventWriter.Outcome) {
        switch outcome {
        case .applied: applied += 1
        case .stale: stale += 1
        case .refused(let error): refusals.append((event.label, event.route, error))
        }
    }

    /// Takes every batch `ahead` decodes: writes it with `writer` (a dry run has none and counts
    /// what it would do), then moves `progress` to `position(batch)`. On an error the reading
    /// stops and the bar is finished before it is thrown; `replay` and `import` differ only in
    /// their batches and how far each one goes.
    mutating func write<Batch>(
        _ ahead: DecodeAhead<Batch>, events: (Batch) -> [PreparedEvent], with writer: EventWriter?,
        progress: ProgressBar, position: (Batch, RunSummary) -> Int
    ) throws {
        do {
            while let batch = try ahead.next() {
                let prepared = events(batch)
                if let writer {
                    for (event, outcome) in zip(prepared, try writer.write(prepared)) { count(event, outcome) }
                } else {
                    for event in prepared { count(dryRun: event) }
                }
                progress.update(done: position(batch, self))
            }
        } catch {
            ahead.cancel()
            progress.finish()
            throw error
        }
        progress.finish()
    }

    /// A dry run's verdict: decoded (it would be applied) or refused.
    mutating func count(dryRun event: PreparedEvent) {
        if case .refused(let error) = event.work {
            refusals.append((event.label, event.route, error))
        } else {
            wouldApply[event.route, default: 0] += 1
        }
    }

    /// The lines to print.
    func lines() -> [String] {
        let elapsed = ContinuousClock.now - started
        let seconds = elapsed / .seconds(1)
        let rate = seconds > 0 ? " (\(ProgressBar.grouped(Int((Double(done) / seconds).rounded())))/s)" : ""
        let g = ProgressBar.grouped
        var lines: [String]
        if dryRun {
            let would = wouldApply.values.reduce(0, +)
            lines = ["\(command) --dry-run: \(Self.counted(would, noun)) would be applied, \(g(refusals.count)) refused; "
                + "nothing was written (\(ProgressBar.took(elapsed)))"]
            lines += wouldApply.sorted { $0.key < $1.key }.map { "  \($0.key): \(g($0.value))" }
        } else {
            lines = ["\(command): \(Self.counted(applied + stale, noun)) applied" + (stale > 0 ? " (\(g(stale)) of them stale: newer rows kept)" : "")
                + ", \(g(refusals.count)) refused, in \(ProgressBar.took(elapsed))\(rate)"]
        }
        if !refusals.isEmpty {
            lines.append("refused:")
            lines += refusals.map { "  \($0.label) (\($0.route.isEmpty ? "no route" : $0.route)): \(Self.cause($0.error))" }
        }
        return lines
    }

    /// `1 line`, `12,345 lines`.
    static func counted(_ count: Int, _ noun: String) -> String {
        "\(ProgressBar.grouped(count)) \(noun)\(count == 1 ? "" : "s")"
    }

    /// `400 the request body has invalid fields: startedDate: is required; result: …`.
    static func cause(_ error: WebhookError) -> String {
        error.causes.isEmpty ? error.description : error.description + ": " + error.causes.joined(separator: "; ")
    }
}
