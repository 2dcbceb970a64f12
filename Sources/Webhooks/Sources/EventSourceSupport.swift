import HTTP

/// What the PagerDuty and CDEvents mappings share: reading a native event by path, building the
/// DevLake body that the DevLake route's own decoder then reads (so validation, vocabularies and
/// row ids are exactly the API's), and naming the native field in every cause of its 400.

/// A value inside a native event, by its path of object members (`event.data.service.summary`).
struct NativePath: Sendable, Hashable, CustomStringConvertible {
    var components: [String]

    init(_ dotted: String) { components = dotted.split(separator: ".").map(String.init) }
    init(components: [String]) { self.components = components }

    var description: String { components.joined(separator: ".") }

    /// This path followed by `more` (`event.data` + `title`).
    func appending(_ more: String) -> NativePath { NativePath(components: components + NativePath(more).components) }

    /// The value at this path in `object`; nil when a step is absent, `null`, or not an object.
    func value(in object: JSONObject) -> JSONValue? {
        var current: JSONValue = .object(object)
        for name in components {
            guard case .object(let members) = current, let next = members[name], next != .null else { return nil }
            current = next
        }
        return current
    }

    /// The text at this path: a string as is, a number or boolean as its text (the API's rule,
    /// API.md §2); nil for anything else or `""`.
    func text(in object: JSONObject) -> String? {
        switch value(in: object) {
        case .string(let text): text.isEmpty ? nil : text
        case .number(let literal): literal
        case .bool(let flag): flag ? "true" : "false"
        default: nil
        }
    }

    func object(in object: JSONObject) -> JSONObject? { value(in: object)?.objectValue }
}

/// The DevLake body a native event becomes, built field by field from the event and read by the
/// DevLake route's own decoder. It remembers the native field each of its fields came from, so
/// that a decoder's cause names what the sender sent: `deployment.sha (deploymentCommits[0].commitSha):
/// is required`.
struct DevLakeBody: Sendable {
    /// The native event the fields are read from.
    let native: JSONObject
    private(set) var object = JSONObject()
    /// DevLake field as a cause names it (`title`, `deploymentCommits[0].commitSha`) → native path.
    private(set) var origins: [String: String] = [:]

    init(_ native: JSONObject) { self.native = native }

    /// Sets `field` to `value` (absent when nil), read or derived from the native field `origin`.
    /// The origin is kept even for an absent value, so "is required" names the native field.
    mutating func set(_ field: String, _ value: JSONValue?, from origin: String? = nil) {
        if let origin { origins[field] = origin }
        if let value { object.members.append((key: field, value: value)) }
    }

    /// Copies the native value at `path` (any kind: the decoder judges it), when present.
    mutating func copy(_ field: String, from path: String, convert: (JSONValue?) -> JSONValue? = { $0 }) {
        set(field, convert(NativePath(path).value(in: native)), from: path)
    }

    mutating func copy(_ field: String, from path: NativePath) { copy(field, from: path.description) }

    /// A value Lakehook derives rather than copies (a status from an event type): its cause names
    /// what it was derived from.
    mutating func derive(_ field: String, _ value: String?, from origin: String) {
        set(field, value.map(JSONValue.string), from: origin)
    }

    /// A nested object's origins (`deploymentCommits[0].` + its fields).
    mutating func nest(_ field: String, _ body: DevLakeBody, at position: Int = 0) {
        for (key, path) in body.origins { origins["\(field)[\(position)].\(key)"] = path }
    }

    /// Runs the DevLake route's decoder on the body: its operation, or its 400 naming the event
    /// (`GitHub deployment_status`) with every cause renamed after the native field.
    func decode<T>(_ event: String, with decoder: (JSONObject) -> Result<T, WebhookError>) throws(WebhookError) -> T {
        switch decoder(object) {
        case .success(let value): return value
        case .failure(let error): throw renamed(error, event: event)
        }
    }

    /// `error` as a 400 naming the event, each cause's field (before the first `": "`) preceded
    /// by the native path it came from.
    func renamed(_ error: WebhookError, event: String) -> WebhookError {
        let causes = error.causes.map { cause -> String in
            guard let colon = cause.range(of: ": ") else { return cause }
            let field = String(cause[..<colon.lowerBound])
            guard let path = origins[field] ?? origins.first(where: { FieldReader.fold($0.key) == FieldReader.fold(field) })?.value
            else { return cause }
            return "\(path) (\(field)): \(cause[colon.upperBound...])"
        }
        return WebhookError(
            status: 400, message: "the \(event) event has \(causes.count == 1 ? "an invalid field" : "invalid fields")",
            causes: causes)
    }
}

/// A 400 for an event the mapping maps but whose own fields are missing or invalid, before any
/// DevLake body exists (the event's type, its subject).
func nativeFieldError(_ causes: [String]) -> WebhookError {
    WebhookError.invalidBody(causes)
}

/// Environment names (a GitHub or GitLab environment, a CDEvents `environment.id`) → DevLake's four values.
enum EventEnvironment {
    /// Whole names, lower-cased.
    static let names: [String: String] = [
        "production": "PRODUCTION", "prod": "PRODUCTION", "prd": "PRODUCTION", "live": "PRODUCTION",
        "staging": "STAGING", "stage": "STAGING", "stg": "STAGING", "preprod": "STAGING",
        "pre-prod": "STAGING", "preproduction": "STAGING", "pre-production": "STAGING", "uat": "STAGING",
        "testing": "TESTING", "test": "TESTING", "qa": "TESTING", "ci": "TESTING",
        "development": "DEVELOPMENT", "dev": "DEVELOPMENT", "develop": "DEVELOPMENT",
        "local": "DEVELOPMENT", "sandbox": "DEVELOPMENT",
    ]

    /// Word prefixes, tried on each word of a name (`eu-prod-1`, `test123`) in this order:
    /// `prod…` is DevLake's own default production pattern (`(?i)prod(.*)`).
    static let prefixes: [(prefix: String, environment: String)] = [
        ("prod", "PRODUCTION"), ("stag", "STAGING"), ("test", "TESTING"), ("qa", "TESTING"), ("dev", "DEVELOPMENT"),
    ]

    /// What a name no rule matches becomes: not production, as DevLake's default pattern leaves it.
    static let unmatched = "DEVELOPMENT"

    /// The environment a whole name means: the connection's own names first (`SourceOptions`),
    /// then the built-in names; nil when neither knows it.
    static func named(_ name: String?, options: SourceOptions) -> String? {
        guard let lower = name?.lowercased(), !lower.isEmpty else { return nil }
        if let mapped = options.environments[lower]?.uppercased(), Vocabulary.environments.contains(mapped) {
            return mapped
        }
        return names[lower]
    }

    /// The environment of a deployment's target: the whole name, then each of its words
    /// (`eu-prod-1`), then their prefixes (`production2`); nil when no rule matches.
    static func known(_ name: String?, options: SourceOptions) -> String? {
        guard let name, !name.isEmpty else { return nil }
        if let whole = named(name, options: options) { return whole }
        let words = name.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
        for word in words {
            if let known = named(word, options: options) { return known }
        }
        for (prefix, environment) in prefixes where words.contains(where: { $0.hasPrefix(prefix) }) {
            return environment
        }
        return nil
    }

    /// `known`, else `unmatched`.
    static func devLake(_ name: String, options: SourceOptions) -> String {
        known(name, options: options) ?? unmatched
    }
}

extension Timestamp {
    /// A native event's date, read as the API reads dates (API.md §2), UTC when it has no zone.
    static func native(_ text: String?) -> Timestamp? {
        text.flatMap { FieldReader.instant(of: $0, in: .utc) }
    }
}

/// The commit a deployed artifact stands for, in the order tried:
/// 1. `customData.commitSha` with `customData.repoUrl` (and `customData.refName`), the sender's own word;
/// 2. the artifact's purl `vcs_url` qualifier (`git+https://github.com/org/repo@<sha>`, purl spec);
/// 3. a purl of a repository host (`pkg:github/org/repo@<40-hex sha>`, also gitlab, bitbucket);
/// 4. else the artifact itself: repoUrl = the purl without version and qualifiers
///    (`pkg:oci/myapp`), commitSha = its version (`sha256:0b31…`), so the deployment still counts
///    (deployment frequency) though no commit's lead time can be measured from it.
struct ArtifactCommit: Equatable, Sendable {
    var repoUrl: String
    var commitSha: String
    var refName: String?
    /// The native field it came from, for causes.
    var origin: String

    static func derive(artifact: String?, customData: JSONObject?) -> ArtifactCommit? {
        if let customData {
            var reader = FieldReader(customData)
            if let sha = reader.string("commitSha"), let url = reader.string("repoUrl"), !sha.isEmpty, !url.isEmpty {
                return ArtifactCommit(repoUrl: url, commitSha: sha, refName: reader.string("refName"), origin: "customData.commitSha")
            }
        }
        guard let artifact, let purl = PackageURL(artifact) else { return nil }
        let origin = "subject.content.artifactId"
        if let vcs = purl.qualifiers["vcs_url"], let at = vcs.lastIndex(of: "@") {
            var url = String(vcs[..<at])
            if let plus = url.firstIndex(of: "+"), url[..<plus].allSatisfy({ $0.isLetter }) { url = String(url[url.index(after: plus)...]) }
            let sha = String(vcs[vcs.index(after: at)...])
            if !url.isEmpty && !sha.isEmpty { return ArtifactCommit(repoUrl: url, commitSha: sha, origin: origin) }
        }
        let hosts = ["github": "https://github.com/", "gitlab": "https://gitlab.com/", "bitbucket": "https://bitbucket.org/"]
        if let host = hosts[purl.type], let version = purl.version, version.count == 40,
            version.allSatisfy({ $0.isHexDigit })
        {
            return ArtifactCommit(repoUrl: host + purl.path, commitSha: version, origin: origin)
        }
        guard let version = purl.version, !version.isEmpty else { return nil }
        return ArtifactCommit(repoUrl: "pkg:\(purl.type)/\(purl.path)", commitSha: version, origin: origin)
    }
}

/// A package URL (https://github.com/package-url/purl-spec): `pkg:type/namespace/name@version?qualifiers#subpath`,
/// its version and qualifier values percent-decoded.
struct PackageURL: Equatable, Sendable {
    var type: String
    /// Namespace and name, as written (`org/repo`).
    var path: String
    var version: String?
    var qualifiers: [String: String]

    init?(_ text: String) {
        guard text.hasPrefix("pkg:") else { return nil }
        var rest = Substring(text.dropFirst(4))
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var qualifiers: [String: String] = [:]
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                qualifiers[parts[0].lowercased()] = Self.decoded(parts[1])
            }
            rest = rest[..<question]
        }
        var version: String?
        if let at = rest.lastIndex(of: "@") {
            version = Self.decoded(rest[rest.index(after: at)...])
            rest = rest[..<at]
        }
        while rest.hasPrefix("/") { rest = rest.dropFirst() }
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        type = rest[..<slash].lowercased()
        path = String(rest[rest.index(after: slash)...])
        guard !type.isEmpty, !path.isEmpty else { return nil }
        self.version = version
        self.qualifiers = qualifiers
    }

    private static func decoded(_ text: Substring) -> String {
        if case .success(let decoded) = PercentDecoding.decode(text) { return decoded }
        return String(text)
    }
}
