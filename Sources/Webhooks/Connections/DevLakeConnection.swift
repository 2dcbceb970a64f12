/// A webhook connection: the unit that owns an API key and namespaces every row it writes.
public struct DevLakeConnection: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var projectName: String?
    public var apiKeyHash: String
    public var apiKeyHint: String
    /// The zone of the dates it posts without an offset (UTC unless set).
    public var timeZone: ConnectionTimeZone
    /// Who posts to it (issue 17): `devlake` (DevLake's API under the key) or a native source.
    public var source: SourceKind = .devlake
    /// A source's signing secret (retrievable: HMACs need it); never logged, shown only when made.
    var signingSecret: String?
    /// The secret before the last rotation, accepted until `previousSecretExpires` (epoch seconds).
    var previousSecret: String?
    var previousSecretExpires: Double?
    /// The source's mapping options.
    var sourceOptions = SourceOptions()

    public init(
        id: Int64, name: String, projectName: String? = nil, apiKeyHash: String, apiKeyHint: String,
        timeZone: ConnectionTimeZone = .utc
    ) {
        self.id = id
        self.name = name
        self.projectName = projectName
        self.apiKeyHash = apiKeyHash
        self.apiKeyHint = apiKeyHint
        self.timeZone = timeZone
    }

    /// The secrets a source's signature may be made with at `now` (epoch seconds): the current
    /// one, and the previous one during its grace.
    func acceptedSecrets(now: Double) -> [String] {
        var secrets = signingSecret.map { [$0] } ?? []
        if let previousSecret, let previousSecretExpires, now < previousSecretExpires { secrets.append(previousSecret) }
        return secrets
    }

    /// `webhook:<id>`: the connection's board, CI/CD scope and repo id, and the prefix of its rows.
    public var scopeId: String { "webhook:\(id)" }

    /// `webhook:<id>:<key>`: the id of a row this connection wrote under a client's key.
    public func rowId(_ key: String) -> String { "webhook:\(id):\(key)" }

    /// The longest client key that still fits a 255-character row id.
    public var maxKeyLength: Int { 255 - rowId("").count }

    /// The value Lakehook writes to `_raw_data_params` of every row of this connection.
    public var rawDataParams: String { String(id) }
}

/// How a request names its connection (API.md §1).
public enum DevLakeConnectionReference: Sendable, Hashable, CustomStringConvertible {
    case id(Int64)
    case name(String)

    /// `:connectionId` must be a positive decimal integer.
    public static func parseId(_ text: String) -> DevLakeConnectionReference? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let value = Int64(text), value > 0
        else { return nil }
        return .id(value)
    }

    public var description: String {
        switch self {
        case .id(let id): "connection \(id)"
        case .name(let name): "connection named \"\(name)\""
        }
    }
}
