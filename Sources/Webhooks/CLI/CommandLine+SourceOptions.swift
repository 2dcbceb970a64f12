/// A source connection's options on the command line (docs/SOURCES.md, "Per-connection options"):
/// `--environment NAME=ENV`... and `--incident-label L` read, and shown after create and update.
extension LakehookCommand {
    /// `--environment NAME=ENV` values and `--incident-label`: `NAME=` removes the name; ENV is one
    /// of PRODUCTION, STAGING, TESTING, DEVELOPMENT in any case. A later `--environment` for the
    /// same name (any case) wins.
    static func sourceOptions(_ environments: [String], incidentLabel: String?) throws -> SourceOptionsChange {
        var change = SourceOptionsChange(incidentLabel: incidentLabel)
        for text in environments {
            guard let equals = text.firstIndex(of: "=") else {
                throw UsageError(description: "--environment \(text): must be NAME=ENV (NAME= removes the name)")
            }
            let name = String(text[..<equals]).lowercased(), value = String(text[text.index(after: equals)...])
            guard !name.isEmpty else { throw UsageError(description: "--environment \(text): the name is empty") }
            if value.isEmpty {
                change.environments[name] = .some(nil)
            } else if let environment = Vocabulary.environments.first(where: { $0 == value.uppercased() }) {
                change.environments[name] = environment
            } else {
                throw UsageError(description: """
                    --environment \(text): \(value) is none of \(Vocabulary.environments.joined(separator: ", ")) (any case)
                    """)
            }
        }
        if let incidentLabel, let problem = SourceOptionsChange(incidentLabel: incidentLabel).problems(for: .github).first {
            throw UsageError(description: "--incident-label: " + problem.dropFirst("incidentLabel: ".count))
        }
        return change
    }
}

extension CommandRunner {
    /// `, environments a=PRODUCTION b=STAGING, incident label L`: what a source connection's
    /// mappings read (as `Endpoints.describe` shows it); empty for a devlake connection.
    static func optionsSummary(_ webhook: DevLakeConnection) -> String {
        var parts: [String] = []
        let options = webhook.sourceOptions
        if SourceOptionsChange.environmentSources.contains(webhook.source) {
            let names = options.environments.keys.sorted().map { "\($0)=\(options.environments[$0]!)" }
            parts.append("environments \(names.isEmpty ? "(built-in names only)" : names.joined(separator: " "))")
        }
        if SourceOptionsChange.incidentLabelSources.contains(webhook.source) {
            parts.append("incident label \(options.incidentLabel)")
        }
        return parts.map { ", " + $0 }.joined()
    }

    /// `\nOptions: environments …, incident label …` for a source connection whose mappings read any.
    static func optionsLine(_ webhook: DevLakeConnection) -> String {
        let summary = optionsSummary(webhook)
        return summary.isEmpty ? "" : "\nOptions: " + summary.dropFirst(2)
    }
}
