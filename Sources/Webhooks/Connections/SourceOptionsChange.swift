/// A change to a source connection's options (`webhook_connections.source_options`), as
/// `connections create|update --environment NAME=ENV --incident-label L` and the HTTP
/// administration's `environments` / `incidentLabel` give it. Checked by `problems(for:)`,
/// applied by `SourceOptions.applying(_:)`, stored as `SourceOptions.json`.
public struct SourceOptionsChange: Sendable, Equatable {
    /// Environment name → PRODUCTION, STAGING, TESTING or DEVELOPMENT (any case); nil removes the name.
    public var environments: [String: String?]
    /// GitHub's label that makes an issue an incident; nil leaves it.
    public var incidentLabel: String?

    public init(environments: [String: String?] = [:], incidentLabel: String? = nil) {
        self.environments = environments
        self.incidentLabel = incidentLabel
    }

    public var isEmpty: Bool { environments.isEmpty && incidentLabel == nil }

    /// The sources whose mappings read the environment names (PagerDuty's incidents have none).
    static let environmentSources: Set<SourceKind> = [.github, .gitlab, .cdevents]
    /// The sources whose mappings read the incident label (GitLab and CDEvents say in the event
    /// itself that it is an incident).
    static let incidentLabelSources: Set<SourceKind> = [.github]

    /// Every problem with this change on a connection of `source`, as `"<field>: <what is wrong>"`.
    /// An option no mapping of the source reads is refused rather than kept without effect.
    func problems(for source: SourceKind) -> [String] {
        if isEmpty { return [] }
        if source == .devlake {
            return [environments.isEmpty ? nil : "environments", incidentLabel == nil ? nil : "incidentLabel"].compactMap { $0 }.map {
                "\($0): a devlake connection has no source options; they go with a source connection (--source)"
            }
        }
        var problems: [String] = []
        if !environments.isEmpty && !Self.environmentSources.contains(source) {
            problems.append("environments: a \(source.rawValue) connection's events carry no environment; only github, gitlab and cdevents connections take environment names")
        }
        for name in environments.keys.sorted() {
            if name.isEmpty { problems.append("environments: a name must not be empty") }
            if name.unicodeScalars.count > 255 { problems.append("environments.\(name.prefix(40))…: the name is longer than 255 characters") }
            if let value = environments[name] ?? nil, !Vocabulary.environments.contains(value.uppercased()) {
                problems.append("environments.\(name.prefix(255)): must be one of \(Vocabulary.environments.joined(separator: ", ")) (any case), not \"\(value)\"")
            }
        }
        if let label = incidentLabel {
            if !Self.incidentLabelSources.contains(source) {
                problems.append("incidentLabel: only github connections read an incident label; a \(source.rawValue) event says itself whether it is an incident")
            }
            if label.isEmpty { problems.append("incidentLabel: must not be empty") }
            if label.unicodeScalars.count > 255 { problems.append("incidentLabel: is longer than 255 characters") }
            if label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                problems.append("incidentLabel: must not contain control characters")
            }
        }
        return problems
    }
}

extension SourceOptions {
    /// These options with `change` applied: names are stored lower-cased (the mappings look them
    /// up so), environments upper-cased; a nil environment removes the name.
    func applying(_ change: SourceOptionsChange) -> SourceOptions {
        var options = self
        for (name, value) in change.environments {
            options.environments[name.lowercased()] = value?.uppercased()
        }
        if let label = change.incidentLabel { options.incidentLabel = label }
        return options
    }

    /// The options as `webhook_connections.source_options` holds them (what `init(json:)` reads).
    var json: String {
        jsonValue.serialized()
    }

    /// `{"environments": {...}, "incidentLabel": "..."}`, the names in order.
    var jsonValue: JSONValue {
        let names = environments.keys.sorted().map { (key: $0, value: JSONValue.string(environments[$0]!)) }
        return .object(JSONObject(members: [
            (key: "environments", value: .object(JSONObject(members: names))),
            (key: "incidentLabel", value: .string(incidentLabel)),
        ]))
    }
}
