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
    mutating func key(_ field: String, in webhook: DevLakeConnection) -> String? {
        string(field, required: true, maxLength: webhook.maxKeyLength)
    }
}

extension FieldReader {
    /// Which of a field and its alias (the name some DevLake versions use) to read: the canonical
    /// name when it carries a value or neither does (so `"is required"` names it), else the alias.
    /// `""` carries no value (`hasValue`), so `{"started_date":"","created_date":"..."}` reads
    /// `created_date`.
    func chosen(_ field: String, alias: String) -> String {
        hasValue(field) || !hasValue(alias) ? field : alias
    }

    /// A date that some DevLake versions name differently: the canonical name wins when both carry one.
    mutating func timestamp(_ field: String, alias: String, required: Bool = false) -> Timestamp? {
        timestamp(chosen(field, alias: alias), required: required)
    }

    mutating func string(_ field: String, alias: String, required: Bool = false, maxLength: Int? = nil) -> String? {
        string(chosen(field, alias: alias), required: required, maxLength: maxLength)
    }
}
