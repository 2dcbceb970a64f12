/// What GitHub's and GitLab's mappings share besides `DevLakeBody` and `EventEnvironment`
/// (issue 17, docs/SOURCES.md): reading a native event by dotted path, a CI task's type and
/// environment from its name, GitLab's older dates.
enum GitSource {
    /// A native event's value at a dotted path (`deployment.sha`); nil when absent or `null`.
    static func value(_ body: JSONObject, _ path: String) -> JSONValue? {
        NativePath(path).value(in: body)
    }

    /// Whether the path holds a value (not absent, not `null`). (`value(...) != nil` would not
    /// say it: `nil` there is read as JSON's `null`, `JSONValue` being ExpressibleByNilLiteral.)
    static func has(_ body: JSONObject, _ path: String) -> Bool {
        if case .some = value(body, path) { return true }
        return false
    }

    /// The text at a path (a number or boolean as its literal), nil when absent, `null`, `""` or not text.
    static func text(_ body: JSONObject, _ path: String) -> String? {
        NativePath(path).text(in: body)
    }

    /// The event's action (`action` for GitHub, `object_attributes.action` for GitLab).
    static func lowercased(_ text: String?) -> String? {
        text.map { String(decoding: $0.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self) }
    }

    // MARK: - Environments

    /// A CI task's environment: for a DEPLOYMENT task, the environment its name suggests (the
    /// whole name, then each of its words: `deploy-staging` → STAGING); PRODUCTION otherwise, or
    /// when no name is known — DevLake's default. (A job named `test` is a TEST task, not one in
    /// a TESTING environment.)
    static func taskEnvironment(_ names: [String?], type: String, options: SourceOptions) -> String {
        guard type == "DEPLOYMENT" else { return "PRODUCTION" }
        for name in names.compactMap({ $0 }) {
            if let whole = EventEnvironment.named(name, options: options) { return whole }
            for word in words(name) {
                if let value = EventEnvironment.named(word, options: options) { return value }
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
