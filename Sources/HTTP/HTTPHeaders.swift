/// An ordered list of header fields. Duplicates are kept in arrival order (RFC 9110 §5.3);
/// lookups by name ignore ASCII case.
public struct HTTPHeaders: Sendable, Sequence {
    public typealias Element = (name: String, value: String)

    private var fields: [Element]

    public init() {
        fields = []
    }

    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { (name: $0.0, value: $0.1) }
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[Element]> {
        fields.makeIterator()
    }

    /// Appends a field, keeping any existing fields of the same name.
    public mutating func add(name: String, value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces the first field of this name and removes the others, or appends it.
    public mutating func replaceOrAdd(name: String, value: String) {
        guard let first = fields.firstIndex(where: { Self.equalNames($0.name, name) }) else {
            fields.append((name: name, value: value))
            return
        }
        fields[first] = (name: fields[first].name, value: value)
        var index = fields.count - 1
        while index > first {
            if Self.equalNames(fields[index].name, name) { fields.remove(at: index) }
            index -= 1
        }
    }

    /// Removes every field of this name.
    public mutating func remove(name: String) {
        fields.removeAll { Self.equalNames($0.name, name) }
    }

    /// The value of the first field of this name.
    public subscript(first name: String) -> String? {
        fields.first { Self.equalNames($0.name, name) }?.value
    }

    /// The values of every field of this name, in order.
    public func values(for name: String) -> [String] {
        fields.compactMap { Self.equalNames($0.name, name) ? $0.value : nil }
    }

    public func contains(name: String) -> Bool {
        fields.contains { Self.equalNames($0.name, name) }
    }

    /// The comma-separated elements of every field of this name, trimmed of optional
    /// whitespace, lowercased, empty elements skipped (RFC 9110 §5.6.1 list syntax).
    func lowercasedTokens(for name: String) -> [String] {
        var tokens: [String] = []
        for value in values(for: name) {
            for element in value.split(separator: ",", omittingEmptySubsequences: true) {
                let trimmed = element.trimmingOWS()
                if !trimmed.isEmpty { tokens.append(trimmed.lowercased()) }
            }
        }
        return tokens
    }

    /// ASCII case-insensitive comparison without allocating.
    static func equalNames(_ lhs: String, _ rhs: String) -> Bool {
        let left = lhs.utf8, right = rhs.utf8
        guard left.count == right.count else { return false }
        for (a, b) in zip(left, right) where a != b {
            if ASCII.lower(a) != ASCII.lower(b) { return false }
        }
        return true
    }
}

extension Substring {
    /// Drops leading and trailing SP and HTAB (RFC 9110 §5.6.3 OWS).
    func trimmingOWS() -> Substring {
        var result = self
        while let first = result.utf8.first, ASCII.isOWS(first) { result = result.dropFirst() }
        while let last = result.utf8.last, ASCII.isOWS(last) { result = result.dropLast() }
        return result
    }
}
