/// What GitHub's and GitLab's mappings share (issue 17, docs/SOURCES.md): reading a native
/// event by path, building the DevLake-shaped body that the webhook API's own decoder then reads
/// (so validation, ToolVocabulary and row ids are exactly the API's), renaming a decoder's causes
/// after the native fields, environment names, and a task's type.
enum GitSource {
    /// A native event's value at a dotted path (`deployment.sha`); nil when absent or `null`.
    static func value(_ body: JSONObject, _ path: String) -> JSONValue? {
        var current: JSONValue = .object(body)
        for part in path.split(separator: ".") {
            guard case .object(let object) = current, let next = object[String(part)] else { return nil }
            current = next
        }
        // Not `current == .null ? nil : current`: that `nil` would be JSON's null, not Swift's.
        if current == .null { return Optional.none }
        return current
    }

    /// Whether the path holds a value (not absent, not `null`). (`value(...) != nil` would not
    /// say it: `nil` there is read as JSON's `null`, `JSONValue` being ExpressibleByNilLiteral.)
    static func has(_ body: JSONObject, _ path: String) -> Bool {
        if case .some = value(body, path) { return true }
        return false
    }

    /// The text at a path (a number as its literal), nil when absent, `null`, `""` or not text.
    static func text(_ body: JSONObject, _ path: String) -> String? {
        switch value(body, path) {
        case .string(let text) where !text.isEmpty: text
        case .number(let literal): literal
        default: nil
        }
    }

    /// The event's action (`action` for GitHub, `object_attributes.action` for GitLab).
    static func lowercased(_ text: String?) -> String? {
        text.map { String(decoding: $0.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self) }
    }

    // MARK: - Environments

    /// The built-in environment names (lower case), after a connection's own (`SourceOptions`).
    static let environmentNames: [String: String] = [
        "production": "PRODUCTION", "prod": "PRODUCTION", "live": "PRODUCTION",
        "staging": "STAGING", "stage": "STAGING",
        "test": "TESTING", "testing": "TESTING", "qa": "TESTING",
        "dev": "DEVELOPMENT", "development": "DEVELOPMENT",
    ]

    /// DevLake's environment for a native name: the connection's own names first, then the
    /// built-in ones; nil when neither knows it (the caller decides).
    static func environment(_ name: String?, options: SourceOptions) -> String? {
        guard let lower = lowercased(name), !lower.isEmpty else { return nil }
        if let own = options.environments[lower], let value = Vocabulary.environments.first(where: { $0 == own.uppercased() }) {
            return value
        }
        return environmentNames[lower]
    }

    /// A CI task's environment: for a DEPLOYMENT task, the environment its name suggests (the
    /// whole name, then each of its words: `deploy-staging` → STAGING); PRODUCTION otherwise, or
    /// when no name is known — DevLake's default. (A job named `test` is a TEST task, not one in
    /// a TESTING environment.)
    static func taskEnvironment(_ names: [String?], type: String, options: SourceOptions) -> String {
        guard type == "DEPLOYMENT" else { return "PRODUCTION" }
        for name in names.compactMap({ $0 }) {
            if let whole = environment(name, options: options) { return whole }
            for word in words(name) {
                if let value = environment(word, options: options) { return value }
            }
        }
        return "PRODUCTION"
    }

    /// A task's type from its name or stage words: DEPLOYMENT, TEST, LINT, else BUILD.
    static func taskType(_ names: [String?]) -> String {
        let all = names.compactMap { $0 }.flatMap(words)
        if all.contains(where: { $0.hasPrefix("deploy") || $0 == "release" }) { return "DEPLOYMENT" }
        if all.contains(where: { $0.hasPrefix("test") || $0 == "spec" || $0 == "qa" }) { return "TEST" }
        if all.contains(where: { $0.hasPrefix("lint") }) { return "LINT" }
        return "BUILD"
    }

    /// Lower-case ASCII words of a name (letters and digits).
    static func words(_ name: String) -> [String] {
        (lowercased(name) ?? "").split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber)) }).map(String.init)
    }

    // MARK: - Dates

    /// GitLab's older date forms made RFC 3339-like for the API's parser: `2016-08-12 15:23:28 UTC`
    /// → `2016-08-12 15:23:28Z`, `2021-04-28 21:50:00 +0200` → `2021-04-28 21:50:00+0200`.
    /// Anything else is returned as is, for the decoder to judge.
    static func gitLabDate(_ value: JSONValue?) -> JSONValue? {
        guard case .string(var text) = value else { return value }
        if text.hasSuffix(" UTC") {
            text.removeLast(4)
            return .string(text + "Z")
        }
        let scalars = Array(text.unicodeScalars)
        if scalars.count > 6, scalars[scalars.count - 6] == " ", scalars[scalars.count - 5] == "+" || scalars[scalars.count - 5] == "-",
            scalars.suffix(4).allSatisfy({ $0.properties.numericType != nil && $0.isASCII })
        {
            var trimmed = String.UnicodeScalarView(scalars)
            trimmed.remove(at: trimmed.index(trimmed.startIndex, offsetBy: scalars.count - 6))
            return .string(String(trimmed))
        }
        return value
    }
}

/// A DevLake-shaped body built from a native event, remembering which native field each of its
/// fields came from, so that a decoder's cause names what the sender sent.
struct GitEventBody {
    let native: JSONObject
    private(set) var members: [(key: String, value: JSONValue)] = []
    /// DevLake field (with its path, `deploymentCommits[0].commitSha`) → native path.
    private(set) var origins: [String: String] = [:]

    init(_ native: JSONObject) { self.native = native }

    /// Copies the native value at `path` (any kind: the decoder judges it) when present.
    mutating func copy(_ field: String, from path: String, convert: (JSONValue?) -> JSONValue? = { $0 }) {
        origins[field] = path
        if let value = convert(GitSource.value(native, path)) { members.append((key: field, value: value)) }
    }

    /// A value the mapping computed from the native field at `path`.
    mutating func set(_ field: String, _ value: JSONValue?, from path: String? = nil) {
        if let path { origins[field] = path }
        if let value { members.append((key: field, value: value)) }
    }

    /// A nested object's origins (`deploymentCommits[0].` + its fields).
    mutating func nest(_ field: String, _ body: GitEventBody, at position: Int = 0) {
        for (key, path) in body.origins { origins["\(field)[\(position)].\(key)"] = path }
    }

    var object: JSONObject { JSONObject(members: members) }

    /// Runs the webhook API's decoder on the body; its causes are renamed after the native fields
    /// (`deployment.sha (commitSha): is required`) in a 400 that names the event.
    func decode<T>(
        _ event: String, with decoder: (JSONObject) -> Result<T, WebhookError>
    ) throws(WebhookError) -> T {
        switch decoder(object) {
        case .success(let value): return value
        case .failure(let error): throw renamed(error, event: event)
        }
    }

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
