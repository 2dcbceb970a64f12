/// One JSON value, as parsed by `JSONParser` or built for an answer.
///
/// Numbers keep the literal text they were written with (`1234`, `-3.5e2`), so nothing is lost
/// to a binary conversion before a field reader decides what the number means. Two numbers are
/// equal when their text is equal: `.number("1.0") != .number("1")`.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The literal text of the number. When building a value, it must be a valid JSON number
    /// (RFC 8259 §6); `integer(_:)` and `double(_:)` build one from a Swift number.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A number holding `value`.
    public static func integer(_ value: Int64) -> JSONValue {
        .number(String(value))
    }

    /// A number holding `value`; `null` when it is not finite (JSON has no NaN or infinity).
    public static func double(_ value: Double) -> JSONValue {
        value.isFinite ? .number(value.description) : .null
    }

    /// The object, when this value is one.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }
}

extension JSONValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// An object whose members keep the order of the literal.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(members: elements.map { (key: $0.0, value: $0.1) }))
    }
}
