/// The enumerations of DevLake's webhook API (API.md §3–§4), in the order error messages list them.
enum Vocabulary {
    static let issueStatuses = ["TODO", "IN_PROGRESS", "DONE"]
    static let taskResults = ["SUCCESS", "FAILURE", "ABORT", "IN_PROGRESS"]
    static let taskStatuses = ["IN_PROGRESS", "DONE"]
    static let taskTypes = ["TEST", "LINT", "BUILD", "DEPLOYMENT"]
    static let environments = ["PRODUCTION", "STAGING", "TESTING", "DEVELOPMENT"]
}

/// Column widths of SCHEMA.md that a client's value can exceed.
enum Width {
    static let key = 255
    static let short = 100
}

extension Optional where Wrapped == Timestamp {
    /// A timestamp as a text bind for a `timestamptz` parameter (nil → SQL NULL).
    var bind: String? { self?.postgresText }
}

extension Double {
    /// A float as a text bind: shortest round-tripping form.
    var bind: String { "\(self)" }
}

extension FieldReader {
    /// A key that becomes part of a row id `webhook:<conn>:<key>`, so it must fit 255 characters with that prefix.
    mutating func key(_ field: String, in connection: WebhookConnection) -> String? {
        string(field, required: true, maxLength: connection.maxKeyLength)
    }
}

extension FieldReader {
    /// A field that some DevLake versions name differently: the canonical name wins when both are sent.
    mutating func timestamp(_ field: String, alias: String, required: Bool = false) -> Timestamp? {
        has(field) || !has(alias) ? timestamp(field, required: required) : timestamp(alias, required: required)
    }

    mutating func string(_ field: String, alias: String, required: Bool = false, maxLength: Int? = nil) -> String? {
        has(field) || !has(alias)
            ? string(field, required: required, maxLength: maxLength)
            : string(alias, required: required, maxLength: maxLength)
    }
}
