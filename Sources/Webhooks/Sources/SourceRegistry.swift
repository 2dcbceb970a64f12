import Synchronization

/// The mapping of each source: the one place a mapping is registered (one line each). A source
/// without a mapping yet answers every signed event 202, journaled `ignored`.
final class SourceRegistry: Sendable {
    /// The mappings Lakehook ships.
    static let builtIn: [SourceKind: any SourceMapping.Type] = [
        .github: GitHubMapping.self,
        .gitlab: GitLabMapping.self,
        .pagerduty: PagerDutyMapping.self,
        .cdevents: CDEventsMapping.self,
    ]

    private let mappings: Mutex<[SourceKind: any SourceMapping.Type]>

    init(_ mappings: [SourceKind: any SourceMapping.Type] = SourceRegistry.builtIn) {
        self.mappings = Mutex(mappings)
    }

    func mapping(for kind: SourceKind) -> (any SourceMapping.Type)? {
        mappings.withLock { $0[kind] }
    }

    /// Replaces a source's mapping (tests).
    func register(_ mapping: any SourceMapping.Type) {
        mappings.withLock { $0[mapping.kind] = mapping }
    }
}

extension SourceOptions {
    /// From `webhook_connections.source_options`: `{"environments": {"prod-eu": "PRODUCTION"},
    /// "incidentLabel": "incident"}`; what is missing or malformed keeps its default.
    init(json: String) {
        self.init()
        guard case .object(let object)? = try? JSONParser.parse(Array(json.utf8)) else { return }
        if case .object(let environments)? = object["environments"] {
            for (name, value) in environments.members {
                if case .string(let environment) = value { self.environments[name.lowercased()] = environment.uppercased() }
            }
        }
        if case .string(let label)? = object["incidentLabel"], !label.isEmpty { incidentLabel = label }
    }
}
