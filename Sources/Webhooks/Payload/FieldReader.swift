/// Reads the fields of one JSON object by DevLake's rules (API.md §2) and collects every
/// problem as a cause, so a 400 can list them all rather than the first.
///
/// **Names.** A field matches when its name equals the caller's canonical name after both are
/// folded: ASCII letters lower-cased and every `_` removed (`issue_key`, `issueKey`,
/// `ISSUEKEY` and `Issue_Key` are one field). Only ASCII is folded, so no Unicode case rule
/// (e.g. the Kelvin sign `K` lower-casing to `k`) can make two different names meet. The object
/// is folded once, here; when several members fold to the same name, the last one wins, as it
/// does for exact duplicates.
///
/// **Causes** read `"<path><field>: <problem>"`, naming the field as the client spelled it
/// when it was present (even as `null`), else by the canonical name.
///
/// **Absence.** `null` is the same as absent. The empty string `""` is a value only for text:
/// for every other kind (numbers, integers, booleans, dates, enumerations) it means absent, so a
/// tool that sends `""` for "no value" is understood; on a required field that is
/// `"is required"`. For text, `""` on a required field is also `"is required"`.
///
/// The values a reader returns are only meaningful when `causes` is empty once every field
/// (and every nested reader, via `absorb`) has been read.
public struct FieldReader: Sendable {
    private struct Field: Sendable {
        var spelling: String
        var value: JSONValue
    }

    private let fields: [String: Field]
    /// Prefixed to every cause, e.g. `deploymentCommits[1].`; empty for a top-level body.
    public let path: String
    /// `"<field>: <what is wrong>"`, in the order found.
    public private(set) var causes: [String] = []
    /// The zone in which a date without an offset is read (a connection's); nested readers
    /// (`objects`) read in the same zone.
    public var timeZone: ConnectionTimeZone

    public init(_ object: JSONObject, path: String = "", timeZone: ConnectionTimeZone = .utc) {
        var fields = [String: Field](minimumCapacity: object.members.count)
        for member in object.members {
            fields[Self.fold(member.key)] = Field(spelling: member.key, value: member.value)
        }
        self.fields = fields
        self.path = path
        self.timeZone = timeZone
    }

    /// Records a problem with a field; the cause names it as the client spelled it.
    public mutating func fail(_ field: String, _ problem: String) {
        causes.append("\(name(of: field)): \(problem)")
    }

    /// Whether the field is present and not `null` (an empty string counts as present here).
    public func has(_ field: String) -> Bool {
        guard let value = fields[Self.fold(field)]?.value else { return false }
        return value != .null
    }

    /// Whether the field carries a value: present, not `null` and not `""`. This is what decides
    /// between a field and its alias: `""` is absent on every kind but optional text, and even
    /// there it says "no value" rather than one that should hide the alias's.
    public func hasValue(_ field: String) -> Bool {
        guard let value = value(field) else { return false }
        return value != .string("")
    }

    /// Appends the causes of a reader of a nested object (its causes carry its own path).
    public mutating func absorb(_ nested: FieldReader) {
        causes.append(contentsOf: nested.causes)
    }

    /// The elements of an array of objects, each as a reader whose causes are prefixed
    /// `<field>[i].` (i counted from 0, the field as the client spelled it).
    ///
    /// Causes: `"is required"` when required and absent; `"must be an array of objects"` when
    /// it is not an array; `"must not be empty"` when required and `[]`; `"<field>[i]: must be
    /// an object"` for each element that is not an object — the readers of the other elements
    /// are still returned, so their problems can be reported too. The nested readers' causes
    /// are not added here: read their fields, then `absorb` each one.
    public mutating func objects(_ field: String, required: Bool = false) -> [FieldReader]? {
        guard let value = value(field) else {
            if required { fail(field, "is required") }
            return nil
        }
        guard case .array(let elements) = value else {
            fail(field, "must be an array of objects")
            return nil
        }
        if required && elements.isEmpty {
            fail(field, "must not be empty")
            return nil
        }
        let name = name(of: field)
        var readers: [FieldReader] = []
        readers.reserveCapacity(elements.count)
        for (position, element) in elements.enumerated() {
            if case .object(let object) = element {
                readers.append(FieldReader(object, path: "\(name)[\(position)].", timeZone: timeZone))
            } else {
                causes.append("\(name)[\(position)]: must be an object")
            }
        }
        return readers
    }

    // MARK: - Lookup

    /// Folds a field name: ASCII letters to lower case, every `_` removed.
    static func fold(_ name: String) -> String {
        let utf8 = name.utf8
        if !utf8.contains(where: { $0 == UInt8(ascii: "_") || ($0 >= 0x41 && $0 <= 0x5A) }) {
            return name
        }
        return String(unsafeUninitializedCapacity: utf8.count) { buffer in
            var count = 0
            for byte in utf8 where byte != UInt8(ascii: "_") {
                buffer[count] = byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
                count += 1
            }
            return count
        }
    }

    /// The field's name for a cause: the path, then the client's spelling or the canonical name.
    func name(of field: String) -> String {
        path + spelling(of: field)
    }

    /// The field as the client spelled it, or the canonical name when it is absent; no path (for
    /// naming a second field inside a cause: `"end_time: is before start_time"`).
    public func spelling(of field: String) -> String {
        fields[Self.fold(field)]?.spelling ?? field
    }

    /// The field's value; nil when absent or `null`.
    func value(_ field: String) -> JSONValue? {
        guard let value = fields[Self.fold(field)]?.value, value != .null else { return nil }
        return value
    }
}
